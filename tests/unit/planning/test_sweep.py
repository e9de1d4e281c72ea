"""Whole units planned again a class of one print time at a time, on the time the other
classes leave (``rounding.sweep_classes``): never dearer, valid, and each class's
result the optimum HiGHS's MIP finds for it given the rest."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from fabnet.planning.arcs import Arcs
from fabnet.planning.assignments import plan_of
from fabnet.planning.columns import solve_model
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.plan_files import check_plan
from fabnet.planning.problem import SECONDS_PER_DAY as DAY
from fabnet.planning.problem import Problem
from fabnet.planning.rounding import size_classes, sweep_classes, whole_units
from fabnet.planning.time_model import TimeModel
from tests.unit.planning.test_flow import SOLVER, demand, random_problem, supply

HOUR = 3600.0


def _class_optimum(model: TimeModel, members, pool: Arcs, arcs: Arcs, units) -> float:  # type: ignore[no-untyped-def]
    """HiGHS's MIP of one class's units over ``pool`` with every other class's units of
    the plan fixed: the class's cost at its optimum (time by each day: all the work due
    by that day, the fixed units' included, within the machine's time by then)."""
    d = model.d
    lines = np.flatnonzero(members)
    cost = model.unit_cost(pool)
    n_x, n_l = len(pool), lines.size
    pos = np.searchsorted(lines, pool.a)
    eq = np.zeros((n_l, n_x + n_l))
    eq[pos, np.arange(n_x)] = 1.0
    eq[np.arange(n_l), n_x + np.arange(n_l)] = 1.0
    others = ~members[arcs.a]
    fixed = np.zeros_like(model.day_caps)
    np.add.at(fixed, (arcs.m[others], arcs.d[others] - 1), units[others] * d.ticks[arcs.a[others]])
    room = model.cum_ticks[:, 1:] - np.cumsum(fixed, axis=1)
    rows, caps = [], []
    for m in np.unique(pool.m).tolist():
        for k in range(1, model.horizon + 1):
            row = np.zeros(n_x + n_l)
            on = (pool.m == m) & (pool.d <= k)
            row[:n_x][on] = d.ticks[pool.a[on]]
            rows.append(row)
            caps.append(float(room[m, k - 1]))
    constraints = [LinearConstraint(eq, d.quantity[lines], d.quantity[lines])]
    if rows:
        constraints.append(LinearConstraint(np.array(rows), -np.inf, np.array(caps)))
    result = milp(
        np.concatenate([cost, d.unmet[lines]]),
        constraints=constraints,
        integrality=np.ones(n_x + n_l),
        bounds=Bounds(0, np.concatenate([d.quantity[pool.a], d.quantity[lines]])),
        options={"mip_rel_gap": 0.0},
    )
    assert result.success
    return float(result.fun)


def _class_cost(model: TimeModel, members, arcs: Arcs, units) -> float:  # type: ignore[no-untyped-def]
    d = model.d
    mine = members[arcs.a]
    made = np.bincount(arcs.a[mine], weights=units[mine], minlength=d.quantity.size)
    left = np.where(members, d.quantity - made, 0)
    return float((units[mine] * model.unit_cost(arcs.take(mine))).sum() + (left * d.unmet).sum())


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 10), st.integers(1, 6), st.booleans())
def test_the_sweep_is_never_dearer_valid_and_the_last_class_optimal(
    seed, n_lines, n_machines, short
):
    problem = random_problem(seed, n_lines, n_machines, short=short)
    demands = [dem for dem in problem.demands if dem.units > 0]
    model = TimeModel(problem, demands, FlowOptions())
    sol = solve_model(model, SOLVER, lambda: False)
    arcs, units, _ = whole_units(model, sol, model.unit_cost(sol.arcs), SOLVER)
    before = model.objective_of(arcs, units)

    swept, got, objective = sweep_classes(model, sol.arcs, arcs, units, SOLVER)

    assert objective <= before * (1 + 1e-12)
    assert objective == model.objective_of(swept, got)
    plan = plan_of(model, swept, got, model.unit_cost(swept), "flow", 0.0, demands, sol.bound)
    assert check_plan(problem, plan) == []
    assert plan.stats["objective"] >= sol.bound - 1e-6 * abs(sol.bound)
    # the last class given the rest: HiGHS's optimum over the same arcs (the sweep keeps
    # a class's new units only where the whole plan is cheaper, so compare when it did)
    last = size_classes(model)[-1]
    if np.unique(model.d.ticks[last]).size == 1:
        mine = last[swept.a]
        pool = model.dedupe(sol.arcs.take(last[sol.arcs.a]).plus(swept.take(mine)))
        pool = pool.take(model.unit_cost(pool) < model.d.unmet[pool.a])
        best = _class_optimum(model, last, pool, swept, got)
        assert _class_cost(model, last, swept, got) <= best + 1e-6 * max(1.0, best)


def _near_and_far(near_hours: float = 20.0) -> tuple[TimeModel, Arcs, Arcs]:
    """Two machines, one by the customer, one 300 km away; a 2-hour part and a 1-hour one,
    six units each, due in two days; a plan with the long part on the near machine and the
    short one on the far one, and every usable day of those pairs and of (short, near)."""
    lines = (
        demand(0, 6, 52.5, 13.4, 2, unit_s=2 * HOUR),
        demand(1, 6, 52.5, 13.4, 2, unit_s=HOUR),
    )
    machines = (supply(0, 52.5, 13.4, hours=near_hours), supply(1, 50.0, 12.0))
    problem = Problem(lines, machines, horizon_s=3 * DAY)
    model = TimeModel(problem, list(problem.demands), FlowOptions())
    line = {m[0][0].line_id: i for i, m in enumerate(model.d.members)}
    a_long, a_short = line["l000"], line["l001"]
    pairs = model.arcs_of_pairs(
        np.array([a_long, a_short, a_short]), np.array([NEAR, NEAR, FAR]), every_day=True
    )
    start = model.arcs_of_pairs(np.array([a_long, a_short]), np.array([NEAR, FAR]), every_day=False)
    return model, pairs, start


NEAR, FAR = 0, 1


def _units(model: TimeModel, arcs: Arcs, units) -> dict[tuple[str, int], int]:  # type: ignore[no-untyped-def]
    out: dict[tuple[str, int], int] = {}
    for a, m, u in zip(arcs.a.tolist(), arcs.m.tolist(), units.tolist(), strict=True):
        key = (model.d.members[a][0][0].line_id, m)
        out[key] = out.get(key, 0) + u
    return out


def test_a_short_part_sent_far_comes_back_to_the_time_the_long_one_left():
    """The near machine has time for both: the sweep keeps the long part there and brings
    the short one back from the far machine, and the plan is cheaper."""
    model, pairs, start = _near_and_far()
    units = np.array([6, 6])
    before = model.objective_of(start, units)

    swept, got, objective = sweep_classes(model, pairs, start, units, SOLVER)

    assert objective < before
    assert _units(model, swept, got) == {("l000", NEAR): 6, ("l001", NEAR): 6}


def test_no_time_left_near_keeps_the_plan():
    """The near machine (4 h a day: 12 h by the horizon) is full with the long part's
    6 x 2 h: the short part has nowhere cheaper to go, and the plan comes back as it was."""
    model, pairs, start = _near_and_far(near_hours=4.0)
    units = np.array([6, 6])

    swept, got, objective = sweep_classes(model, pairs, start, units, SOLVER)

    assert objective == model.objective_of(start, units)
    assert _units(model, swept, got) == {("l000", NEAR): 6, ("l001", FAR): 6}

"""The knapsack bound (demand rows relaxed, whole units on each machine): each machine's
knapsack against full enumeration, its pruning against none, and the bound between the
LP relaxation and HiGHS's integer optimum."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.planning.columns import solve_model
from fabnet.planning.costs import CostParams
from fabnet.planning.flow import solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.highs import solve_highs
from fabnet.planning.knapsack import (
    STEPS,
    _steps,
    _useful,
    knapsack_bound,
    machine_choice,
    machine_knapsack,
    network_prices,
)
from fabnet.planning.knapsack_ascent import Columns, ascend, lagrangian
from fabnet.planning.problem import SECONDS_PER_DAY as DAY
from fabnet.planning.problem import Problem
from fabnet.planning.time_model import TimeModel
from tests.unit.planning.test_flow import SOLVER, demand, on_probation, random_problem, supply

item = st.tuples(st.integers(1, 3), st.integers(1, 7), st.integers(1, 40), st.integers(0, 3))


def _enumerated(room: list[int], items: list[tuple[int, int, int, int]]) -> float:
    """The most whole units earn, by trying every count of every item."""
    most = 0.0
    for counts in itertools.product(*(range(n + 1) for _, _, _, n in items)):
        used = [0] * len(room)
        for (day, w, _, _), x in zip(items, counts, strict=True):
            for k in range(day, len(room)):
                used[k] += w * x
        if all(used[k] <= room[k] for k in range(len(room))):
            most = max(most, sum(g * x for (_, _, g, _), x in zip(items, counts, strict=True)))
    return most


def _arrays(items: list[tuple[int, int, int, int]]):  # type: ignore[no-untyped-def]
    items = sorted(items)
    day, weight, gain, caps = (np.array(col, dtype=np.int64) for col in zip(*items, strict=True))
    return day, weight, gain.astype(float), caps


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=3, max_size=3), st.lists(item, min_size=1, max_size=5))
def test_a_machines_knapsack_is_its_best_choice_of_whole_units(daily, items):
    """Time by each day (cumulative), items due by a day: the dynamic programme against
    trying every choice."""
    room = [0, *itertools.accumulate(daily)]
    day, weight, gain, caps = _arrays(items)
    got = machine_knapsack(np.array(room), weight, day, gain, caps)
    assert got == pytest.approx(_enumerated(room, sorted(items)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=3, max_size=3), st.lists(item, min_size=1, max_size=5))
def test_the_units_chosen_fit_and_earn_the_most(daily, items):
    """The choice traced back (the subgradient steps need it): within each item's cap,
    the time by each day, and earning what the knapsack says."""
    room = np.array([0, *itertools.accumulate(daily)])
    day, weight, gain, caps = _arrays(items)
    most, units = machine_choice(room, weight, day, gain, caps)
    assert most == pytest.approx(_enumerated(list(room), sorted(items)))
    assert ((units >= 0) & (units <= caps)).all()
    assert float((units * gain).sum()) == pytest.approx(most)
    for k in range(1, room.size):
        assert int((units * weight)[day <= k].sum()) <= room[k]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=3, max_size=3), st.lists(item, min_size=1, max_size=9))
def test_the_items_pruned_are_never_needed(daily, items):
    """Items whose betters (one weight, more gain, due no earlier) fill the machine's time
    go: the knapsack over the rest earns the same."""
    room = np.array([[0, *itertools.accumulate(daily)]])
    day, weight, gain, caps = _arrays(items)
    m = np.zeros(day.size, dtype=np.int64)
    keep = _useful(m, day, weight, gain, caps, room)
    whole = machine_knapsack(room[0], weight, day, gain, caps)
    kept = machine_knapsack(room[0], weight[keep], day[keep], gain[keep], caps[keep])
    assert kept == pytest.approx(whole)


def _eighty_minutes(units: int = 5) -> Problem:
    """One machine with 6 hours by day 1, a line of 80-minute parts due then: 4.5 units
    fit in the LP, 4 whole ones."""
    line = demand(0, units, 50.0, 8.0, 1, unit_s=80 * 60.0)
    machine = supply(0, 50.0, 8.0, hours=6.0)
    return Problem((line,), (machine,), horizon_s=1 * DAY, costs=CostParams(late_window_days=0))


def test_whole_units_lift_the_bound_to_the_optimum_where_the_lp_makes_half_a_unit():
    problem = _eighty_minutes()
    plan = solve_flow(problem, SOLVER, options=FlowOptions(gap_tolerance=1e-6))
    lp = solve_highs(problem)
    mip = solve_highs(problem, integral=True)
    assert plan.stats["lp_relaxation"] == pytest.approx(lp.objective, rel=1e-9)
    assert lp.objective < mip.objective - 1.0  # half a unit unmade in the LP
    assert plan.stats["lp_bound"] == pytest.approx(mip.objective, rel=1e-6)
    assert plan.stats["objective"] == pytest.approx(mip.objective, rel=1e-9)
    assert plan.stats["certified"] == 1.0
    off = solve_flow(problem, SOLVER, options=FlowOptions(gap_tolerance=1e-6, knapsack_s=0.0))
    assert off.stats["lp_bound"] == pytest.approx(lp.objective, rel=1e-9)
    assert off.stats["certified"] == 0.0


def test_a_plan_within_the_tolerance_of_the_lp_is_not_held_up():
    """The knapsack bound is only sought where the LP bound does not certify the plan."""
    problem = random_problem(1, 6, 4)
    plan = solve_flow(problem, SOLVER, options=FlowOptions(gap_tolerance=0.5))
    assert plan.stats["lp_bound"] == plan.stats["lp_relaxation"]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10), st.integers(1, 6), st.booleans())
def test_the_bound_lies_between_the_lp_and_the_integer_optimum(seed, n_lines, n_machines, busy):
    """Random mixed print times, machines with and without live jobs: never below HiGHS's
    LP of the same model, never above its MIP's optimum."""
    problem = random_problem(seed, n_lines, n_machines, short=True)
    if busy:
        problem = replace(
            problem, supplies=tuple(replace(s, busy_s=5_000.0) for s in problem.supplies)
        )
    plan = solve_flow(problem, SOLVER, options=FlowOptions(k=2, margin=1.0, gap_tolerance=0.0))
    lp, mip = solve_highs(problem), solve_highs(problem, integral=True)
    bound = plan.stats["lp_bound"]
    assert bound >= lp.objective * (1 - 1e-6) - 1e-6
    assert bound <= mip.objective * (1 + 1e-9) + 1e-6
    assert not math.isnan(bound)


def test_knapsack_seconds_must_be_a_finite_number_at_least_zero():
    from fabnet.domain.errors import InvalidInput

    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(InvalidInput, match="knapsack_s"):
            FlowOptions(knapsack_s=bad)


def test_steps_are_the_print_times_common_divisor_where_they_are_whole_seconds():
    week = np.array([7 * DAY, 7 * DAY * 40])
    step = _steps(week, np.array([1440.0, 4800.0, 16440.0]))
    assert step[0] == 120.0  # exact: no print time rounded
    assert step[1] == pytest.approx(week[1] / STEPS)  # 120 s would make too many steps
    assert _steps(week, np.array([1440.5, 4800.0]))[0] == pytest.approx(week[0] / STEPS)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 8), st.integers(1, 5), st.floats(0.0, 1.0))
def test_any_prices_of_the_demands_give_a_bound(seed, n_lines, n_machines, share):
    """The Lagrangian of the demand rows at prices the subgradient steps might reach (each
    demand's at a random share of its unmet cost): never above HiGHS's integer optimum,
    and the units chosen are whole and within each demand's machines' caps."""
    problem = random_problem(seed, n_lines, n_machines, short=True)
    model = TimeModel(problem, [d for d in problem.demands if d.units > 0], FlowOptions())
    rng = np.random.default_rng(seed)
    v = model.d.unmet * np.minimum(1.0, share * rng.uniform(0.0, 2.0, model.d.unmet.size))
    got = lagrangian(model, v, until=math.inf)
    assert got is not None
    value, made = got
    assert value <= solve_highs(problem, integral=True).objective * (1 + 1e-9) + 1e-6
    assert (made >= 0).all()


def test_better_prices_lift_the_first_bound_toward_the_optimum():
    """Prices from the master over the knapsacks' choices: from the LP's prices' bound
    up, never past the integer optimum."""
    problem = random_problem(12, 10, 4, short=True)
    model, first, least = _first_pass(problem)
    optimum = solve_highs(problem, integral=True).objective
    assert model.d.unmet.size and first <= optimum + 1e-6
    lifted = ascend(model, least, bound=first, target=optimum, budget_s=60)
    # 5,855,128 -> 5,855,943 (Polyak's subgradient steps reached 5,855,692)
    assert first + 500 < lifted <= optimum * (1 + 1e-9) + 1e-6


def test_a_choice_of_the_same_units_on_cheaper_days_replaces_the_dearer_column():
    """Columns are one per machine and units of each demand: the same units at a lower cost
    (items due on other days) take the column's cost, a dearer one is left out, and
    either way the master is told whether anything changed."""
    cols = Columns()
    cols.add(0, np.array([3, 1, 3]), np.array([1, 2, 1]), np.array([10.0, 5.0, 12.0]))
    assert cols.cost == [32.0] and cols.changes == 1
    assert cols.demands[0].tolist() == [1, 3] and cols.units[0].tolist() == [2, 2]
    cols.add(0, np.array([1, 3]), np.array([2, 2]), np.array([5.0, 13.0]))  # dearer
    assert cols.cost == [32.0] and cols.changes == 1
    cols.add(0, np.array([1, 3]), np.array([2, 2]), np.array([5.0, 9.0]))  # cheaper
    assert cols.cost == [28.0] and cols.changes == 2
    cols.add(1, np.array([1, 3]), np.array([2, 0]), np.array([5.0, 9.0]))  # another machine
    assert cols.machine == [0, 1] and cols.units[1].tolist() == [2] and cols.changes == 3


def _first_pass(problem: Problem) -> tuple[TimeModel, float, np.ndarray]:
    """The model, the knapsack bound at the LP's prices over every machine, and those
    prices."""
    model = TimeModel(problem, [d for d in problem.demands if d.units > 0], FlowOptions())
    sol = solve_model(model, SOLVER, lambda: False)
    prices = sol.prices
    best = network_prices(model, sol.arcs, prices)
    fractional = np.arange(len(problem.supplies))
    first, least = knapsack_bound(model, prices, best, fractional, slack=math.inf, budget_s=60)
    return model, first, least


def _lagrangian_dual(model: TimeModel) -> float:
    """The best bound any prices of the demands give: the LP over every choice of whole
    units of every machine, enumerated (tiny problems only)."""
    from scipy.optimize import linprog

    d = model.d
    n_a = d.quantity.size
    pa, pm = (x.ravel() for x in np.meshgrid(np.arange(n_a), np.arange(len(model.supplies))))
    arcs, cost = model.pair_arcs(pa, pm)
    caps = np.minimum(model.arc_whole_units(arcs, job_per_line=True), d.quantity[arcs.a])
    columns: list[tuple[int, np.ndarray, float]] = []
    for m in range(len(model.supplies)):
        mine = np.flatnonzero(arcs.m == m)
        for counts in itertools.product(*(range(int(caps[i]) + 1) for i in mine)):
            units = np.array(counts, dtype=np.int64)
            used = np.array(
                [
                    (units * d.unit_s[arcs.a[mine]] * (arcs.d[mine] <= k)).sum()
                    for k in range(model.cum_s.shape[1])
                ]
            )
            if (used <= model.cum_s[m] + 1e-6).all() and units.any():
                made = np.bincount(arcs.a[mine], weights=units, minlength=n_a)
                columns.append((m, made, float((units * cost[mine]).sum())))
    n_p, n_m = len(columns), len(model.supplies)
    a_ub = np.zeros((n_a + n_m, n_p + n_a))
    for j, (m, made, _) in enumerate(columns):
        a_ub[:n_a, j] = -made
        a_ub[n_a + m, j] = 1.0
    a_ub[:n_a, n_p:] = -np.eye(n_a)
    b_ub = np.r_[-d.quantity.astype(float), np.ones(n_m)]
    c = np.r_[[col[2] for col in columns], d.unmet]
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    assert res.status == 0
    return float(res.fun)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 2), st.integers(1, 2))
def test_the_prices_reach_the_lagrangian_dual_of_every_choice_enumerated(seed, n_lines, n_machines):
    """Column generation with smoothed prices ends at the best bound any prices give: the
    LP over every machine's every choice of whole units, enumerated here (1-2 lines of
    at most 6 units, 1-2 machines, a 2-day horizon)."""
    rng = np.random.default_rng(seed)
    lines = tuple(
        demand(
            i,
            int(rng.integers(1, 7)),
            50.0 + rng.uniform(0, 3),
            8.0 + rng.uniform(0, 3),
            int(rng.integers(0, 3)),
            unit_s=float(rng.choice([3600.0, 4800.0, 10800.0])),
        )
        for i in range(n_lines)
    )
    machines = tuple(
        supply(
            i,
            50.0 + rng.uniform(0, 3),
            8.0 + rng.uniform(0, 3),
            hours=float(rng.choice([4.0, 6.0, 10.0])),
            price=float(rng.uniform(50, 200)),
        )
        for i in range(n_machines)
    )
    problem = Problem(lines, machines, horizon_s=2 * DAY)
    model, first, least = _first_pass(problem)
    dual = _lagrangian_dual(model)
    optimum = solve_highs(problem, integral=True).objective
    assert first <= dual + 1e-6 <= optimum + 2e-6
    lifted = ascend(model, least, bound=first, target=math.inf, budget_s=60)
    assert lifted == pytest.approx(dual, rel=2e-5)  # the master's tolerance, CLOSED


def test_more_items_than_the_cap_leave_the_lp_bound(monkeypatch):
    """Beyond ``ITEMS`` (memory stays bounded at the large sizes) the knapsack bound is not
    sought: the LP's stands, and the plan is the same."""
    problem = _eighty_minutes()
    options = FlowOptions(gap_tolerance=1e-6)
    monkeypatch.setattr("fabnet.planning.knapsack.ITEMS", 0)
    capped = solve_flow(problem, SOLVER, options=options)
    assert capped.stats["lp_bound"] == capped.stats["lp_relaxation"]
    assert capped.stats["certified"] == 0.0
    monkeypatch.undo()
    full = solve_flow(problem, SOLVER, options=options)
    assert full.stats["lp_bound"] > capped.stats["lp_bound"] + 1.0
    assert full.stats["objective"] == capped.stats["objective"]


def test_pricing_counts_the_pairs_in_its_balls_for_the_knapsack_to_judge_its_size():
    problem = random_problem(3, 8, 5, short=True)
    model = TimeModel(problem, [d for d in problem.demands if d.units > 0], FlowOptions())
    solve_model(model, SOLVER, lambda: False)
    lines = len(problem.demands)
    assert 0 < model.ball_pairs <= lines * len(problem.supplies)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, 8),
    st.integers(1, 5),
    st.integers(1, 4),
    st.sampled_from([0.5, 1.0]),
)
def test_machines_on_probation_the_first_bound_is_at_least_the_lp_and_at_most_the_optimum(
    seed, n_lines, n_machines, job, share
):
    """A job's cap is a row of the LP: its demand is priced by its other arcs, and the job
    earns its machine the difference up to its cap. Priced at the job instead (as it was),
    the bound stood at -162M on the tiny problem with half on jobs of 5 (LP 61.9M)."""
    problem = on_probation(random_problem(seed, n_lines, n_machines, short=True), seed, job, share)
    _, first, _ = _first_pass(problem)
    lp, mip = solve_highs(problem), solve_highs(problem, integral=True)
    assert first <= mip.objective * (1 + 1e-9) + 1e-6
    # at the network's prices, which carry its integer costs' rounding (at worst 1/6,000
    # of an arc's cost, ADR 0029): 4e-6 below HiGHS's LP at seed 150, no machine on it
    assert first >= lp.objective * (1 - 2e-4) - 1e-6

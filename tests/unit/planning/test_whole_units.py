"""Whole units of a class of one print time: its network in units, each arc held to the
flow's units rounded up, against rounding the flow down (which it replaced)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fabnet.planning.columns import solve_model
from fabnet.planning.costs import CostParams
from fabnet.planning.flow import _rounded, _unmet, solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.highs import solve_highs
from fabnet.planning.plan_files import check_plan
from fabnet.planning.problem import SECONDS_PER_DAY as DAY
from fabnet.planning.problem import Problem
from fabnet.planning.rounding import (
    day_room,
    near_the_flow,
    one_time,
    size_classes,
    whole_units,
)
from fabnet.planning.time_model import TimeModel
from tests.unit.planning.test_flow import SOLVER, demand, random_problem, supply

HOUR = 3600.0


def _first_class(seed: int, n_lines: int, n_machines: int):  # type: ignore[no-untyped-def]
    problem = random_problem(seed, n_lines, n_machines, short=True)
    demands = [dem for dem in problem.demands if dem.units > 0]
    model = TimeModel(problem, demands, FlowOptions())
    sol = solve_model(model, SOLVER, lambda: False)
    members = size_classes(model)[0]
    on = members[sol.arcs.a]
    arcs, cost = sol.arcs.take(on), model.unit_cost(sol.arcs)[on]
    flow = sol.arc_ticks[on]
    return model, members, arcs, cost, flow


def _cost(model: TimeModel, members, arcs, cost, units) -> float:  # type: ignore[no-untyped-def]
    d = model.d
    placed = np.bincount(arcs.a, weights=units, minlength=d.quantity.size)
    unmet = np.where(members, d.quantity - placed, 0)
    return float((units * cost).sum() + (unmet * d.unmet).sum())


def _within_and_never_dearer_than_rounded_down(model, members, arcs, cost, flow, units):  # type: ignore[no-untyped-def]
    """Each arc at most the flow's units rounded up, a line at most its quantity, the
    time by every day within the machine's, and no dearer than the flow rounded down."""
    d = model.d
    ticks = d.ticks[arcs.a]
    assert (units >= 0).all() and (units <= -(-flow // ticks)).all()
    placed = np.bincount(arcs.a, weights=units, minlength=d.quantity.size)
    assert (placed <= np.where(members, d.quantity, 0)).all()
    by_day = np.zeros_like(model.day_caps)
    np.add.at(by_day, (arcs.m, arcs.d - 1), units * ticks)
    assert (np.cumsum(by_day, axis=1) <= model.cum_ticks[:, 1:]).all()
    down = _cost(model, members, arcs, cost, flow // ticks)
    assert _cost(model, members, arcs, cost, units) <= down * (1 + 1e-6) + 1e-6


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 14), st.integers(1, 8))
def test_a_class_in_units_is_never_dearer_than_its_flow_rounded_down(seed, n_lines, n_machines):
    """The flow's units rounded down fit the network (within each arc's bound, and the
    time by each day: the flow's fit, whole units of it fit the whole units of that
    time), so the network's optimum costs at most that; its units stay within the bound,
    a line's units within its quantity, and the time by every day within the machine's."""
    model, members, arcs, cost, flow = _first_class(seed, n_lines, n_machines)
    limit = -(-flow // model.d.ticks[arcs.a])
    used = np.zeros_like(model.day_caps)
    units = one_time(model, arcs, cost, used, members, SOLVER, limit)
    _within_and_never_dearer_than_rounded_down(model, members, arcs, cost, flow, units)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 14), st.integers(1, 8))
def test_a_class_near_its_flow_is_never_dearer_than_its_flow_rounded_down(
    seed, n_lines, n_machines
):
    """Rounded up where the flow's fraction is largest, not where cheapest: the flow
    rounded down is still one of its choices (no unit of it pays the premium), so the
    true cost is at most that; and the same bounds as above."""
    model, members, arcs, cost, flow = _first_class(seed, n_lines, n_machines)
    used = np.zeros_like(model.day_caps)
    units = near_the_flow(model, arcs, cost, flow, used, members, SOLVER)
    _within_and_never_dearer_than_rounded_down(model, members, arcs, cost, flow, units)


@pytest.mark.parametrize(("cheap", "dear", "expected"), [(3.1, 2.9, [3, 3]), (3.5, 2.5, [4, 2])])
def test_a_line_is_rounded_up_where_its_flow_was_nearly_a_unit_more(cheap, dear, expected):
    """Six units of one line, the flow's split between a near machine and one a little
    farther: the unit that rounding adds goes where the flow had 0.9 of it, even on the
    dearer machine (rounded up where cheapest, the 3.1 / 2.9 split became 4 / 2, taking
    time that the flow had left to shorter parts); between equal fractions, where
    cheaper."""
    lines = (demand(1, 6, 50.0, 10.0, 3, unit_s=HOUR),)
    machines = (supply(0, 50.0, 10.0), supply(1, 50.0, 10.05))
    problem = Problem(lines, machines, horizon_s=3 * DAY, load_factor=1.0)
    model = TimeModel(problem, list(lines), FlowOptions())
    arcs = model.arcs_of_pairs(np.array([0, 0]), np.array([0, 1]), every_day=False)
    cost = model.unit_cost(arcs)
    assert cost[0] < cost[1] < 1.5 * cost[0]
    ticks = int(model.d.ticks[0])
    flow = np.array([round(cheap * ticks), round(dear * ticks)], dtype=np.int64)
    members = np.ones(1, dtype=bool)
    used = np.zeros_like(model.day_caps)
    assert near_the_flow(model, arcs, cost, flow, used, members, SOLVER).tolist() == expected
    # rounded up where cheapest, as before
    assert one_time(model, arcs, cost, used, members, SOLVER, -(-flow // ticks)).tolist() == [4, 2]


def test_a_class_held_to_no_units_makes_none():
    """A bound of 0 on every arc (the flow gave the class nothing) leaves it all unmet:
    the bound is kept, not widened to what the time would allow."""
    model, members, arcs, cost, _ = _first_class(3, 8, 5)
    used = np.zeros_like(model.day_caps)
    units = one_time(model, arcs, cost, used, members, SOLVER, np.zeros(len(arcs), np.int64))
    assert not units.any()
    free = one_time(model, arcs, cost, used, members, SOLVER)
    assert free.any()


WHOLE = FlowOptions(whole_unit_arcs=True)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10), st.integers(1, 6))
def test_whole_unit_arcs_keep_a_bound_below_the_integer_optimum(seed, n_lines, n_machines):
    """Against HiGHS's MIP of the same problem: an arc carrying at most the whole units
    its machine can make by its day is a bound every plan keeps, so the LP with it is at
    least HiGHS's LP and the bound counted with it is at most HiGHS's integer optimum; the
    plan passes the checker."""
    problem = random_problem(seed, n_lines, n_machines, short=True)
    plan = solve_flow(problem, SOLVER, options=WHOLE)
    mip = solve_highs(problem, integral=True)
    lp = solve_highs(problem)
    assert mip.status == "optimal" and lp.status == "optimal"
    assert plan.stats["lp_bound"] <= mip.objective * (1 + 1e-9) + 1e-6
    assert plan.stats["lp_objective"] >= lp.objective * (1 - 1e-9) - 1e-6
    assert plan.stats["objective"] >= mip.objective * (1 - 1e-9) - 1e-6
    assert check_plan(problem, plan) == []


def test_time_in_pieces_smaller_than_a_unit_is_not_counted_as_room():
    """Four machines with an hour each and a line of two 2-hour units: no machine can make
    one, which whole-unit arcs see at once (both unmet, certified); the network in machine
    time makes them from the four hours and its LP bound is far below what any plan costs,
    which the knapsack bound (whole units on each machine) sees again."""
    lines = (demand(1, 2, 50.0, 10.0, 1, unit_s=2 * HOUR),)
    machines = tuple(supply(i, 50.0, 10.0 + i / 10, hours=1.0) for i in range(4))
    problem = Problem(
        lines, machines, horizon_s=DAY, load_factor=1.0, costs=CostParams(late_window_days=0)
    )
    whole = solve_flow(problem, SOLVER, options=WHOLE)
    assert whole.units_unmet == 2 and whole.stats["certified"] == 1.0
    assert whole.stats["lp_bound"] == pytest.approx(whole.stats["objective"], rel=1e-9)
    time_only = solve_flow(problem, SOLVER, options=FlowOptions(knapsack_s=0.0))
    assert time_only.units_unmet == 2
    assert time_only.stats["lp_bound"] < 0.5 * time_only.stats["objective"]
    assert time_only.stats["certified"] == 0.0
    # the knapsack bound counts whole units on each machine: no machine holds one
    knapsack = solve_flow(problem, SOLVER)
    assert knapsack.stats["lp_relaxation"] < 0.5 * knapsack.stats["objective"]
    assert knapsack.stats["lp_bound"] == pytest.approx(knapsack.stats["objective"], rel=1e-9)
    assert knapsack.stats["certified"] == 1.0


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 10), st.integers(2, 6))
def test_the_whole_unit_bound_is_the_same_when_pricing_keeps_only_arcs_that_take_units(
    seed, n_lines, n_machines
):
    """Pricing drops the arcs that take no units whenever it holds more than FILL_KEEP
    (large re-plans: tens of millions below their worth); its bound does not change.
    (Pricing's own: the knapsack bound, reported where higher, depends on the time its
    price rounds get, which a loaded machine cuts short.)"""
    from unittest import mock

    from fabnet.planning import pricing

    problem = random_problem(seed, n_lines, n_machines, short=True)
    plan = solve_flow(problem, SOLVER, options=WHOLE)
    with mock.patch.object(pricing, "FILL_KEEP", 0):
        kept = solve_flow(problem, SOLVER, options=WHOLE)
    bound = plan.stats["lp_relaxation"]
    assert kept.stats["lp_relaxation"] == pytest.approx(bound, rel=1e-12, abs=1e-9)


def test_a_stopped_plan_does_not_search_again_for_the_whole_unit_bound():
    """The last search for the bound is as wide as a round's: a plan told to stop (its
    budget spent) skips it, keeps the bound it has, and still passes the checker."""
    from unittest import mock

    from fabnet.planning import columns

    problem = random_problem(5, 8, 5, short=True)
    calls: list[bool] = []
    original = columns.price_out

    def spy(model, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(bool(kwargs.get("by_worth")))
        return original(model, *args, **kwargs)

    with mock.patch.object(columns, "price_out", spy):
        stopped = solve_flow(problem, SOLVER, options=WHOLE, stop=lambda: True)
        assert not any(calls)
        assert check_plan(problem, stopped) == []
        solve_flow(problem, SOLVER, options=WHOLE)
        assert calls[-1] is True


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, 8),
    st.integers(1, 6),
    st.integers(1, 15),
    st.booleans(),
)
# two identical lines merged into one demand, a machine on probation (a job of 1 unit):
# the network gives the demand one job, a plan one per line; the bound counted one and
# stood above HiGHS's optimum until it allowed a job per line
@example(1324, 5, 1, 1, False)
def test_whole_unit_arcs_with_probation_and_transit_keep_a_valid_bound(
    seed, n_lines, n_machines, cap, transit
):
    """Half the machines on probation (a job of at most ``cap`` units) and, with
    ``transit``, days on the way by distance: the whole-unit bound stays at most HiGHS's
    integer optimum of the same problem and the plan passes the checker."""
    from tests.unit.planning.test_flow import _with_transit, on_probation

    problem = on_probation(random_problem(seed, n_lines, n_machines), seed, cap)
    if transit:
        problem = _with_transit(problem)
    plan = solve_flow(problem, SOLVER, options=WHOLE)
    mip = solve_highs(problem, integral=True)
    assert mip.status == "optimal"
    assert plan.stats["lp_bound"] <= mip.objective * (1 + 1e-9) + 1e-6
    assert check_plan(problem, plan) == []


def _jittered(problem: Problem, seed: int) -> Problem:
    """Every line its own print time (its part's time times 0.9-1.1), as in a real hub."""
    rng = np.random.default_rng(seed)
    return replace(
        problem,
        demands=tuple(
            replace(d, unit_time_s=round(d.unit_time_s * rng.uniform(0.9, 1.1)))
            for d in problem.demands
        ),
    )


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 14), st.integers(1, 8))
def test_a_class_of_several_print_times_in_units_stays_within_every_machines_time(
    seed, n_lines, n_machines
):
    """Each unit counted at the class's longest print time: the units, at their own
    times, fit every machine's time by every day, stay within each line's quantity."""
    problem = _jittered(random_problem(seed, n_lines, n_machines, short=True), seed)
    demands = [dem for dem in problem.demands if dem.units > 0]
    model = TimeModel(problem, demands, FlowOptions())
    sol = solve_model(model, SOLVER, lambda: False)
    members = np.ones(model.d.quantity.size, dtype=bool)
    arcs, cost = sol.arcs, model.unit_cost(sol.arcs)
    used = np.zeros_like(model.day_caps)
    units = one_time(model, arcs, cost, used, members, SOLVER)
    d = model.d
    assert (units >= 0).all()
    placed = np.bincount(arcs.a, weights=units, minlength=d.quantity.size)
    assert (placed <= d.quantity).all()
    by_day = np.zeros_like(model.day_caps)
    np.add.at(by_day, (arcs.m, arcs.d - 1), units * d.ticks[arcs.a])
    assert (np.cumsum(by_day, axis=1) <= model.cum_ticks[:, 1:]).all()


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 16), st.integers(1, 6))
def test_plans_where_every_line_has_its_own_print_time_are_valid(seed, n_lines, n_machines):
    problem = _jittered(random_problem(seed, n_lines, n_machines), seed)
    plan = solve_flow(problem, SOLVER)
    assert check_plan(problem, plan) == []
    assert plan.stats["objective"] >= plan.stats["lp_bound"] * (1 - 1e-9) - 1e-6
    made = {d.line_id: 0 for d in problem.demands}
    for a in plan.assignments:
        made[a.line_id] += a.units
    for u in plan.unmet:
        made[u.line_id] += u.units
    assert made == {d.line_id: d.units for d in problem.demands}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(60, 200_000), min_size=1, max_size=60),
    st.integers(0, 10_000),
)
def test_print_time_classes_partition_the_lines_longest_first_in_narrow_bands(times, seed):
    """One class per print time where there are at most 6; else at most 24 bands, each
    within 5% where 24 bands of 5% hold them all; every line in exactly one class, the
    longest parts first."""
    problem = random_problem(seed, len(times), 3)
    problem = replace(
        problem,
        demands=tuple(
            replace(d, unit_time_s=float(t)) for d, t in zip(problem.demands, times, strict=True)
        ),
    )
    model = TimeModel(problem, list(problem.demands), FlowOptions(aggregate=False))
    classes = size_classes(model)
    ticks = model.d.ticks
    assert (np.sum(classes, axis=0) == 1).all()
    assert len(classes) <= max(6, 24)
    longest = [int(ticks[c].max()) for c in classes]
    shortest = [int(ticks[c].min()) for c in classes]
    assert all(s > later for s, later in zip(shortest, longest[1:], strict=False))
    distinct = np.unique(ticks)
    if distinct.size <= 6:
        assert len(classes) == distinct.size
    elif np.unique(np.floor(np.log(ticks) / np.log(1.05))).size <= 24:
        assert all(hi / lo < 1.05 for hi, lo in zip(longest, shortest, strict=True))


def test_the_shortest_parts_round_first_so_the_longest_leave_them_room():
    """A near machine with 10 hours and a far one: 4 one-hour parts and 2 four-hour parts,
    all due the first day. The flow makes the short parts near (each saves the most per
    hour) and 1.5 long ones there. Rounding the long parts first put both near (8 hours)
    and pushed 2 short parts far; short first, the long parts get the 6 hours left: 1 near,
    1 far, the optimum (one unit far, not two)."""
    lines = (demand(1, 2, 50.0, 10.0, 1, unit_s=4 * HOUR), demand(2, 4, 50.0, 10.0, 1, unit_s=HOUR))
    machines = (supply(0, 50.0, 10.0, hours=10.0), supply(1, 50.0, 24.0, hours=10.0))
    problem = Problem(lines, machines, horizon_s=DAY, load_factor=1.0)
    model = TimeModel(problem, list(lines), FlowOptions())
    sol = solve_model(model, SOLVER, lambda: False)
    ticks = model.d.ticks[sol.arcs.a]
    lp = {
        (int(a), int(m)): f / t
        for a, m, f, t in zip(sol.arcs.a, sol.arcs.m, sol.arc_ticks, ticks, strict=True)
        if f
    }
    long_, short = (0, 1) if model.d.ticks[0] > model.d.ticks[1] else (1, 0)
    assert lp == pytest.approx({(short, 0): 4.0, (long_, 0): 1.5, (long_, 1): 0.5})

    arcs, units, left = whole_units(model, sol, model.unit_cost(sol.arcs), SOLVER)

    got: dict[tuple[int, int], int] = {}
    for a, m, u in zip(arcs.a.tolist(), arcs.m.tolist(), units.tolist(), strict=True):
        if u:
            got[(a, m)] = got.get((a, m), 0) + u
    assert got == {(short, 0): 4, (long_, 0): 1, (long_, 1): 1}
    assert not left.any()


def test_the_room_by_day_is_the_least_time_left_from_that_day_on():
    """One machine, 10 hours a day for 3 days; 12 hours used on day 2 and 1 on day 3:
    by day 1 only 8 hours may still be used (day 2 takes 2 of the first day's 10), by day 3
    17 in all; in whole 4-hour units: 2 by day 1, 4 by day 3."""
    problem = Problem(
        (demand(1, 1, 50.0, 10.0, 3),),
        (supply(0, 50.0, 10.0, hours=10.0),),
        horizon_s=3 * DAY,
        load_factor=1.0,
    )
    model = TimeModel(problem, list(problem.demands), FlowOptions())
    tick = int(model.cum_ticks[0, 1]) // 10  # ticks an hour
    used = np.array([[0, 12 * tick, 1 * tick]], dtype=np.int64)
    assert (day_room(model, used) // tick).tolist() == [[8, 0, 9]]
    assert day_room(model, used, 4 * tick).tolist() == [[2, 0, 2]]


def test_where_the_short_parts_first_leave_a_unit_unmet_the_long_parts_first_are_tried():
    """Two machines of 5 hours, a near and a far one; 2 four-hour and 2 one-hour parts,
    all due the first day: 10 hours, exactly the time there is. The flow makes the short
    parts near and splits the long ones 0.75 / 1.25. Short parts first (and each arc
    rounded down) leave 3 hours near, no room for a long part: one unit unmet. The long
    parts first put one on each machine, the short ones fill the hour left on each:
    all made, and that is the plan kept."""
    lines = (demand(1, 2, 50.0, 10.0, 1, unit_s=4 * HOUR), demand(2, 2, 50.0, 10.0, 1, unit_s=HOUR))
    machines = (supply(0, 50.0, 10.0, hours=5.0), supply(1, 50.0, 24.0, hours=5.0))
    problem = Problem(lines, machines, horizon_s=DAY, load_factor=1.0)
    model = TimeModel(problem, list(lines), FlowOptions())
    sol = solve_model(model, SOLVER, lambda: False)
    cost = model.unit_cost(sol.arcs)
    assert sol.unmet_ticks.sum() == 0
    for how in (None, SOLVER):
        _, _, left = whole_units(model, sol, cost, how)
        assert left.sum() == 1
    _, _, left = whole_units(model, sol, cost, SOLVER, longest_first=True)
    assert left.sum() == 0

    total, arcs, units = _rounded(model, sol, SOLVER, sweep=True, lp_same=True)

    assert _unmet(model, arcs, units) == 0
    assert total == model.objective_of(arcs, units)
    per_machine = np.bincount(arcs.m, weights=units * model.d.ticks[arcs.a], minlength=2)
    assert per_machine.tolist() == [5 * 3600 * model.d.ticks[0] / lines[0].unit_time_s] * 2


@pytest.mark.parametrize(
    ("tolerance", "lp_same", "ways"), [(1e-3, True, 2), (0.5, True, 1), (0.5, False, 2)]
)
def test_the_second_rounding_only_where_the_first_is_not_within_the_tolerance_of_the_lp(
    tolerance, lp_same, ways
):
    """The hand case above: each arc rounded down makes a long part far where the LP
    made half of one, well above the LP at a tolerance of 0.1%, so class by class is tried
    too; at 50% the first is within it and is kept alone (what the same arcs allow can
    improve on it by less than the tolerance), unless the LP paid other costs than the
    plan (the fixed-charge planner's)."""
    from unittest import mock

    import fabnet.planning.flow as flow_module

    lines = (demand(1, 2, 50.0, 10.0, 1, unit_s=4 * HOUR), demand(2, 4, 50.0, 10.0, 1, unit_s=HOUR))
    machines = (supply(0, 50.0, 10.0, hours=10.0), supply(1, 50.0, 24.0, hours=10.0))
    problem = Problem(lines, machines, horizon_s=DAY, load_factor=1.0)
    model = TimeModel(problem, list(lines), FlowOptions(gap_tolerance=tolerance))
    sol = solve_model(model, SOLVER, lambda: False)
    real = flow_module.whole_units
    with mock.patch.object(flow_module, "whole_units", side_effect=real) as spy:
        total, arcs, units = _rounded(model, sol, SOLVER, sweep=True, lp_same=lp_same)
    assert spy.call_count == ways
    assert total == model.objective_of(arcs, units) >= sol.lp_objective
    assert _unmet(model, arcs, units) == 0

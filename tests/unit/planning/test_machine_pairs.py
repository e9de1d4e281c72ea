"""The fixed-charge model's trades between two machines: two full machines that each make
part of the same two lines swap units so that each line goes on one of them; no unit is
lost, no machine overbooked on any day, and the cost with parcels never rises."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.planning import mip_pool
from fabnet.planning.assignments import plan_of
from fabnet.planning.costs import CostParams
from fabnet.planning.fixed_charge import _traded
from fabnet.planning.flow import solve_flow
from fabnet.planning.machine_pairs import arrays_of, machine_pairs, work_of
from fabnet.planning.pair_merge import merge_pairs, plan_work
from fabnet.planning.plan import Plan
from fabnet.planning.problem import Problem
from fabnet.planning.time_model import TimeModel
from tests.unit.planning.test_flow import (
    ALL,
    SOLVER,
    demand,
    on_probation,
    random_problem,
    supply,
)
from tests.unit.planning.test_merge_pairs import MODEL, _by_hand, _checked, _made, _pairs


def _model(problem: Problem) -> TimeModel:
    return TimeModel(problem, [d for d in problem.demands if d.units > 0], MODEL)


def _traded_plan(
    problem: Problem,
    plan: Plan,
    budget_s: float = 30.0,
    enough: float = float("inf"),
    workers: int = 1,
) -> Plan:
    demands = [d for d in problem.demands if d.units > 0]
    return _traded(
        _model(problem),
        plan,
        problem.costs.fixed_per_pair,
        time.perf_counter(),
        demands,
        stop=lambda: False,
        budget_s=budget_s,
        enough=enough,
        workers=workers,
    )


def _both_split() -> Plan:
    """Each of the two lines half on each machine."""
    return _by_hand(
        {("l001", "m001"): 5, ("l001", "m002"): 5, ("l002", "m001"): 5, ("l002", "m002"): 5}
    )


def _with_parcels(problem: Problem, plan: Plan) -> float:
    return plan.stats.get("objective", 0.0) + problem.costs.fixed_per_pair * _pairs(plan)


def _two_full_machines() -> Problem:
    """Two lines of ten one-hour units due on day 1, no late window; two machines of ten
    hours a day, each beside one line's destination."""
    return Problem(
        demands=(
            demand(1, 10, 52.0, 13.0, 1, unit_s=3600.0),
            demand(2, 10, 52.1, 13.1, 1, unit_s=3600.0),
        ),
        supplies=(supply(1, 52.0, 13.0, hours=10.0), supply(2, 52.1, 13.1, hours=10.0)),
        costs=CostParams(fixed_per_pair=1_500.0, late_window_days=0),
        load_factor=1.0,
    )


def test_two_full_machines_trade_so_that_each_line_goes_on_one():
    problem = _two_full_machines()
    split = _both_split()
    demands = list(problem.demands)
    # the merge step cannot: neither machine has an hour to spare
    merged = merge_pairs(_model(problem), split, 1_500.0, time.perf_counter(), demands)
    assert _pairs(merged) == 4
    traded = _traded_plan(problem, split)
    assert {(a.line_id, a.machine_id) for a in traded.assignments} == {
        ("l001", "m001"),
        ("l002", "m002"),
    }
    assert _made(traded) == {"l001": 10, "l002": 10}
    assert _checked(problem, traded) == []


def test_a_plan_already_within_the_tolerance_is_not_traded():
    """``enough`` is what the plan may still gain before it is certified: at 0 (the plan
    is within the gap tolerance of its bound) the trades do not spend their budget."""
    problem = _two_full_machines()
    split = _both_split()
    assert _traded_plan(problem, split, enough=0.0) is split
    assert _pairs(_traded_plan(problem, split, enough=1.0)) == 2


def test_no_time_no_trade():
    problem = _two_full_machines()
    split = _both_split()
    assert _traded_plan(problem, split, budget_s=0.0) is split


def test_a_plan_with_no_line_on_two_machines_is_left_as_it_is():
    problem = _two_full_machines()
    apart = _by_hand({("l001", "m001"): 10, ("l002", "m002"): 10})
    assert _traded_plan(problem, apart) is apart


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    lines=st.integers(2, 14),
    machines=st.integers(2, 6),
    fixed=st.sampled_from([100.0, 1_500.0, 20_000.0]),
)
def test_trades_lose_no_unit_overbook_no_machine_and_never_cost_more(seed, lines, machines, fixed):
    problem = random_problem(seed, lines, machines, short=True)
    problem = replace(problem, costs=replace(problem.costs, fixed_per_pair=fixed))
    plan = solve_flow(problem, SOLVER, options=ALL)
    traded = _traded_plan(problem, plan)
    assert _checked(problem, traded) == []  # capability, time by every day, costs
    assert _with_parcels(problem, traded) <= _with_parcels(problem, plan) + 1e-6
    # a unit is made, or left unmade where that costs less than its parcel: never lost
    left = Counter({u.line_id: u.units for u in traded.unmet})
    assert _made(traded) + left == Counter({d.line_id: d.units for d in problem.demands})
    # only lines that were split between two machines, and lines on those machines, move
    on = {(a.line_id, a.machine_id) for a in plan.assignments}
    split = {line for line, _ in on if sum(1 for other, _ in on if other == line) > 1}
    if not split:
        assert traded is plan


def test_a_surge_lines_time_stays_taken():
    """A third line on all three machines is a surge (with ``surge=2``): its two units on
    each stay where they are, and their time is not the MIP's. The first machine is 900 a
    unit cheaper, so a MIP that forgot that time would put twelve units there; with it,
    ten: each split line goes on one machine, and no day is overbooked."""
    problem = Problem(
        demands=(
            demand(1, 10, 52.0, 13.0, 1, unit_s=3600.0),
            demand(2, 10, 52.0, 13.0, 1, unit_s=3600.0),
            demand(3, 6, 52.0, 13.0, 1, unit_s=3600.0),
        ),
        supplies=(
            supply(1, 52.0, 13.0, hours=12.0),
            supply(2, 52.0, 13.0, hours=12.0, price=1_000.0),
            supply(3, 52.0, 13.0, hours=12.0),
        ),
        costs=CostParams(fixed_per_pair=1_500.0, late_window_days=0),
        load_factor=1.0,
    )
    split = _by_hand(
        {("l001", "m001"): 5, ("l001", "m002"): 5, ("l002", "m001"): 5, ("l002", "m002"): 5}
        | {("l003", m): 2 for m in ("m001", "m002", "m003")}
    )
    model = _model(problem)
    a_of, m_of, day_of, units, _ = plan_work(model, split)
    table = work_of(a_of, m_of, day_of, units)
    assert machine_pairs(model, table, 1_500.0, lambda: False, 30.0, surge=2) == 1
    arcs, made = arrays_of(table)
    traded = plan_of(
        model,
        arcs,
        made,
        model.unit_cost(arcs),
        "t",
        time.perf_counter(),
        list(problem.demands),
        0.0,
    )
    assert _checked(problem, traded) == []
    assert _made(traded) == {"l001": 10, "l002": 10, "l003": 6}
    on = Counter(a.line_id for a in traded.assignments)
    assert on["l001"] == on["l002"] == 1 and on["l003"] == 3


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    lines=st.integers(2, 12),
    machines=st.integers(2, 6),
    cap=st.integers(1, 6),
)
def test_trades_keep_a_machine_on_probation_to_its_job_and_on_time(seed, lines, machines, cap):
    """Half the machines on probation (at most ``cap`` units of a line, none late): a trade
    that gave one more, or a late day, would fail the checker."""
    problem = on_probation(random_problem(seed, lines, machines, short=True), seed, cap)
    problem = replace(problem, costs=replace(problem.costs, fixed_per_pair=1_500.0))
    plan = solve_flow(problem, SOLVER, options=ALL)
    traded = _traded_plan(problem, plan)
    assert _checked(problem, traded) == []
    assert _with_parcels(problem, traded) <= _with_parcels(problem, plan) + 1e-6


def test_trades_in_two_processes_give_the_same_hand_case(monkeypatch):
    """The pool is used however few the machine pairs (its threshold set to 0 here): the
    two full machines trade as they do in one process."""
    import fabnet.planning.machine_pairs as mp

    monkeypatch.setattr(mp, "POOL_MIN_PAIRS", 0)
    monkeypatch.setattr(mip_pool, "_failed", False)
    problem = _two_full_machines()
    split = _both_split()
    traded = _traded_plan(problem, split, workers=2)
    assert {(a.line_id, a.machine_id) for a in traded.assignments} == {
        ("l001", "m001"),
        ("l002", "m002"),
    }
    assert _checked(problem, traded) == []


def test_trades_in_two_processes_lose_no_unit_and_never_cost_more(monkeypatch):
    """Random problems of up to 8 machines (many machine pairs, each MIP in a worker while
    the other's machines are kept out of it): every unit made or stated unmet, no machine
    overbooked on any day, never dearer. A loop over seeds rather than hypothesis: each
    pool takes about a second to start."""
    import fabnet.planning.machine_pairs as mp

    monkeypatch.setattr(mp, "POOL_MIN_PAIRS", 0)
    monkeypatch.setattr(mip_pool, "_failed", False)
    for seed in range(4):
        problem = random_problem(seed, 16, 8, short=True)
        problem = replace(problem, costs=replace(problem.costs, fixed_per_pair=1_500.0))
        plan = solve_flow(problem, SOLVER, options=ALL)
        traded = _traded_plan(problem, plan, workers=2)
        assert _checked(problem, traded) == []
        assert _with_parcels(problem, traded) <= _with_parcels(problem, plan) + 1e-6
        left = Counter({u.line_id: u.units for u in traded.unmet})
        assert _made(traded) + left == Counter({d.line_id: d.units for d in problem.demands})


def _die(*_args: object) -> None:
    """A trade worker killed mid-MIP (for memory, say); in this process, no trade."""
    import multiprocessing
    import os

    if multiprocessing.parent_process() is not None:
        os._exit(1)


def test_a_trade_worker_that_dies_leaves_the_plan_whole(monkeypatch, caplog):
    import fabnet.planning.machine_pairs as mp
    from fabnet.planning import mip_pool

    monkeypatch.setattr(mip_pool, "_failed", False)
    monkeypatch.setattr(mp, "POOL_MIN_PAIRS", 0)
    monkeypatch.setattr(mp, "_trade", _die)
    problem = _two_full_machines()
    split = _both_split()
    model = _model(problem)
    a_of, m_of, day_of, units, _ = plan_work(model, split)
    table = work_of(a_of, m_of, day_of, units)
    before = {m: dict(w) for m, w in table.items()}
    with caplog.at_level("WARNING", logger="fabnet.planning.mip_pool"):
        assert machine_pairs(model, table, 1_500.0, lambda: False, 30.0, workers=2) == 0
    assert table == before
    assert "fixed-charge trades: worker processes failed" in caplog.text

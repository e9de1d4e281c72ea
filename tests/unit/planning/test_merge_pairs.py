"""The fixed-charge model's merge step: a line made on several machines gives up the one
that makes the fewest of its units when the others have the time and the move costs less
than the parcel it saves; no unit is lost, no machine overbooked on any day."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.planning.costs import CostParams
from fabnet.planning.fixed_charge import solve_fixed_charge
from fabnet.planning.flow import solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.highs import solve_highs
from fabnet.planning.pair_merge import merge_pairs
from fabnet.planning.plan import Assignment, Plan
from fabnet.planning.plan_files import check_plan
from fabnet.planning.problem import Problem
from fabnet.planning.time_model import TimeModel
from tests.unit.planning.test_flow import ALL, SOLVER, demand, random_problem, supply

MODEL = FlowOptions(aggregate=False)


def _pairs(plan: Plan) -> int:
    return len({(a.line_id, a.machine_id) for a in plan.assignments})


def _merged(problem: Problem, plan: Plan) -> Plan:
    demands = [d for d in problem.demands if d.units > 0]
    model = TimeModel(problem, demands, MODEL)
    return merge_pairs(model, plan, problem.costs.fixed_per_pair, time.perf_counter(), demands)


def _checked(problem: Problem, plan: Plan) -> list:
    """``check_plan`` of the plan with its parcels in its stated objective (the merge step
    states the cost of its units only, as the rest of the fixed-charge search does)."""
    parcels = problem.costs.fixed_per_pair * _pairs(plan)
    stats = plan.stats | {"objective": plan.stats["objective"] + parcels}
    return check_plan(problem, replace(plan, stats=stats))


def _made(plan: Plan) -> Counter[str]:
    made: Counter[str] = Counter()
    for a in plan.assignments:
        made[a.line_id] += a.units
    return made


def _by_hand(shares: dict[tuple[str, str], int], day: int = 1) -> Plan:
    """A plan of ``shares`` (line, machine) -> units, all made by ``day``."""
    return Plan(
        assignments=tuple(
            Assignment(
                line_id=line,
                machine_id=machine,
                producer_id="p",
                units=units,
                distance_km=0.0,
                finish_s=0.0,
                late=False,
                day=day,
            )
            for (line, machine), units in shares.items()
        ),
        unmet=(),
        solver="by hand",
    )


def _split_by_hand(problem: Problem, shares: dict[str, int], day: int) -> Plan:
    line = problem.demands[0].line_id
    return _by_hand({(line, machine): units for machine, units in shares.items()}, day)


def test_a_line_split_over_two_machines_with_time_goes_on_one():
    """Ten units due on day 5, split 6 and 4 over two machines of the same city and price,
    each with 20 hours a day: one parcel fewer pays for any move, so all ten go on one."""
    problem = Problem(
        demands=(demand(1, 10, 52.0, 13.0, 5, unit_s=3600.0),),
        supplies=(supply(1, 52.0, 13.0), supply(2, 52.0, 13.01)),
        costs=CostParams(fixed_per_pair=1_500.0),
    )
    split = _split_by_hand(problem, {"m001": 6, "m002": 4}, day=5)
    merged = _merged(problem, split)
    assert _pairs(merged) == 1
    assert _made(merged) == {"l001": 10}
    assert _checked(problem, merged) == []


def test_no_merge_where_the_other_machine_has_no_time_by_the_day():
    """The same line where each machine has 5 hours a day and the units are due on day 1:
    neither can make all ten by then, so the split stays."""
    problem = Problem(
        demands=(demand(1, 10, 52.0, 13.0, 1, unit_s=3600.0),),
        supplies=(supply(1, 52.0, 13.0, hours=6.0), supply(2, 52.0, 13.01, hours=6.0)),
        costs=CostParams(fixed_per_pair=1_500.0, late_window_days=0),
    )
    split = _split_by_hand(problem, {"m001": 6, "m002": 4}, day=1)
    assert _merged(problem, split) is split


@pytest.mark.parametrize(("fixed", "pairs"), [(1_000.0, 2), (1_500.0, 1)])
def test_a_merge_that_makes_units_late_pays_only_when_the_parcel_costs_more(fixed, pairs):
    """Ten one-hour units due on day 1, split 6 and 4 over two machines of 6 hours a day:
    merging puts 4 units a day late on the first machine (300 each, 1,200 in all). That
    pays against a parcel of 1,500, not against one of 1,000."""
    problem = Problem(
        demands=(demand(1, 10, 52.0, 13.0, 1, unit_s=3600.0),),
        supplies=(supply(1, 52.0, 13.0, hours=6.0), supply(2, 52.0, 13.0, hours=6.0)),
        costs=CostParams(fixed_per_pair=fixed),
        load_factor=1.0,
    )
    split = _split_by_hand(problem, {"m001": 6, "m002": 4}, day=1)
    merged = _merged(problem, split)
    assert _pairs(merged) == pairs
    assert _made(merged) == {"l001": 10}
    if pairs == 1:
        assert sum(a.units for a in merged.assignments if a.late) == 4
        assert _checked(problem, merged) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    lines=st.integers(2, 14),
    machines=st.integers(2, 7),
    fixed=st.sampled_from([100.0, 1_500.0, 20_000.0]),
)
def test_merging_loses_no_unit_overbooks_no_machine_and_never_costs_more(
    seed, lines, machines, fixed
):
    problem = random_problem(seed, lines, machines, short=True)
    problem = replace(problem, costs=replace(problem.costs, fixed_per_pair=fixed))
    plan = solve_flow(problem, SOLVER, options=ALL)
    merged = _merged(problem, plan)
    assert _made(merged) == _made(plan)  # every unit still made, by its line
    assert _checked(problem, merged) == []  # capability, time by every day, costs
    before = plan.stats["objective"] + fixed * _pairs(plan)
    after = merged.stats["objective"] + fixed * _pairs(merged)
    assert after <= before + 1e-6
    assert _pairs(merged) <= _pairs(plan)
    kept = {(a.line_id, a.machine_id) for a in plan.assignments}
    assert {(a.line_id, a.machine_id) for a in merged.assignments} <= kept  # no new pair


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    lines=st.integers(2, 6),
    machines=st.integers(2, 4),
    fixed=st.sampled_from([500.0, 1_500.0, 20_000.0]),
)
def test_the_fixed_charge_bound_and_plan_bracket_highs_mip_optimum(seed, lines, machines, fixed):
    """HiGHS's MIP of the fixed-charge model (a 0/1 column per pair, written apart from the
    flow code) is the independent answer: the planner's LP bound is at most its optimum,
    the planner's plan at least it, and the plan passes the checker."""
    problem = random_problem(seed, lines, machines, short=True)
    problem = replace(problem, costs=replace(problem.costs, fixed_per_pair=fixed))
    exact = solve_highs(problem, integral=True, time_limit_s=60)
    assert exact.status == "optimal"
    plan = solve_fixed_charge(problem, SOLVER)
    assert plan.stats["lp_bound"] <= exact.objective * (1 + 1e-9) + 1e-6
    assert plan.stats["objective"] >= exact.objective * (1 - 1e-9) - 1e-6
    assert check_plan(problem, plan) == []


def test_a_parcel_dearer_than_its_units_unmade_leaves_them_unmade():
    """Found with an odd problem file: a parcel of 1e12 made the fixed-charge plan cost
    5e4 times what leaving every unit unmade costs. The merge step now leaves a pair's
    units unmade when the parcel costs more than they do unmade."""
    problem = random_problem(3, 12, 5, short=True)
    charged = replace(problem, costs=replace(problem.costs, fixed_per_pair=1e12))
    plan = solve_fixed_charge(charged, SOLVER)
    nothing = sum(
        d.units * charged.costs.unmet_per_unit * (1 + d.priority) for d in charged.demands
    )
    assert plan.stats["objective"] <= nothing + 1e-6
    assert plan.stats["objective"] >= plan.stats["lp_bound"] * (1 - 1e-9)
    assert check_plan(charged, plan) == []


def test_closing_small_pairs_does_not_solve_the_same_network_twice(monkeypatch):
    """Every pair carries two units, so every share's cut is two units: once a round gains
    nothing, the halved shares forbid the same pairs and are passed over (at the medium
    benchmark size four rounds in a row re-solved one network, about 145 s); a round whose
    LP alone costs the best plan's cost or more is not made whole."""
    import fabnet.planning.fixed_charge as fc

    problem = random_problem(4, 4, 3, short=True)
    problem = replace(problem, costs=replace(problem.costs, fixed_per_pair=1_500.0))
    demands = [d for d in problem.demands if d.units > 0]
    model = TimeModel(problem, demands, MODEL)
    plan = _by_hand(
        {(d.line_id, s.machine_id): 2 for d in demands[:2] for s in problem.supplies[:2]}
    )
    solved, finished = [], []
    real_solve, real_finish = fc.solve_model, fc.finish_plan
    monkeypatch.setattr(fc, "solve_model", lambda *a, **k: solved.append(1) or real_solve(*a, **k))
    monkeypatch.setattr(
        fc, "finish_plan", lambda *a, **k: finished.append(1) or real_finish(*a, **k)
    )
    # nothing beats a cost of 0: no round gains, so the first cut is the only one solved,
    # and its LP (above 0) says so before any finishing
    best, cost = fc._close_small_pairs(
        model, SOLVER, plan, 0.0, 1_500.0, lambda: False, time.perf_counter()
    )
    assert (best, cost, len(solved), len(finished)) == (plan, 0.0, 1, 0)
    # a best plan dearer than anything: the first round is finished and kept
    solved.clear()
    best, cost = fc._close_small_pairs(
        model, SOLVER, plan, 1e18, 1_500.0, lambda: False, time.perf_counter()
    )
    assert finished and best is not plan and cost < 1e18
    assert check_plan(problem, replace(best, stats=best.stats | {"objective": cost})) == []

"""Every feature of a problem at once, against HiGHS's MIP: the combinations no single
feature's test tries. Drawn this way, 80 random problems found a re-plan giving machines
on probation a second job of a line (37 of them); each feature's own tests had passed."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.planning import solve
from fabnet.planning.fixed_charge import solve_fixed_charge
from fabnet.planning.highs import solve_highs
from fabnet.planning.plan_files import check_plan
from fabnet.planning.problem import SECONDS_PER_DAY as DAY
from fabnet.planning.problem import Problem
from fabnet.planning.replan import replan
from tests.unit.planning.test_flow import SOLVER, on_probation, random_problem

BANDS = ((100.0, 1), (300.0, 2))


def every_feature(seed: int) -> Problem:
    """A random problem with identical lines (merged into one demand), machines on
    probation, a late window, a dear or cheap unmet unit, transit bands, lines that
    exclude machines, machines busy all horizon and short horizons, each drawn at random."""
    rng = random.Random(seed)
    base = random_problem(seed, rng.randint(1, 10), rng.randint(1, 6), short=rng.random() < 0.5)
    lines = list(base.demands)
    for k in range(rng.randint(0, 3)):
        twin = rng.choice(lines)
        lines.append(replace(twin, line_id=f"{twin.line_id}-twin{k}", order_id=f"o{k}"))
    ids = [s.machine_id for s in base.supplies]
    lines = [
        replace(d, excluded_machines=frozenset(rng.sample(ids, rng.randint(0, len(ids)))))
        if rng.random() < 0.3
        else d
        for d in lines
    ]
    costs = replace(
        base.costs,
        late_window_days=rng.choice([0, 1, 3]),
        unmet_per_unit=rng.choice([base.costs.unmet_per_unit, 5_000.0, 1e9]),
        transit=rng.choice([(), BANDS]),
    )
    supplies = base.supplies
    if rng.random() < 0.2:
        supplies = tuple(replace(s, busy_s=1e9) for s in supplies)
    problem = replace(
        base,
        demands=tuple(lines),
        supplies=supplies,
        costs=costs,
        horizon_s=rng.choice([base.horizon_s, 1 * DAY, 2 * DAY]),
    )
    return on_probation(problem, seed, rng.randint(1, 6), rng.choice([0.0, 0.3, 0.5, 1.0]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000))
def test_the_flow_planner_and_greedy_against_highss_optimum(seed):
    """Both plans pass the checker; the bound is at most HiGHS's optimum and the plan at
    least it; certified means within the tolerance of it."""
    problem = every_feature(seed)
    plan = solve(problem, solver="flow", flow_solver=SOLVER)
    assert check_plan(problem, plan) == []
    assert check_plan(problem, solve(problem, solver="greedy")) == []
    mip = solve_highs(problem, integral=True, time_limit_s=30)
    if mip.status != "optimal":
        return
    stats = plan.stats
    assert stats["lp_bound"] <= mip.objective * (1 + 1e-9) + 1e-6
    assert stats["objective"] >= mip.objective * (1 - 1e-9) - 1e-6
    if stats["certified"]:
        assert stats["objective"] <= mip.objective * (1 + 1e-3) + 1e-6


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000))
def test_a_re_plan_after_losing_machines_passes_the_checker(seed):
    """A third of the machines the plan uses are lost: the re-plan, kept work and new
    together, passes the checker against the machines left, and only displaced units
    move."""
    problem = every_feature(seed)
    first = solve(problem, solver="flow", flow_solver=SOLVER)
    used = sorted({a.machine_id for a in first.assignments})
    lost = frozenset(random.Random(seed).sample(used, max(1, len(used) // 3)) if used else ())
    report = replan(problem, first, SOLVER, lost_machines=lost)
    left = replace(problem, supplies=tuple(s for s in problem.supplies if s.machine_id not in lost))
    assert check_plan(left, report.plan) == []
    assert report.units_moved == report.units_displaced


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 100_000), st.sampled_from([100.0, 1_500.0, 1e7]))
def test_the_fixed_charge_planner_against_highss_optimum(seed, parcel):
    """With a parcel per (line, machine) pair: the plan passes the checker, its LP bound is
    at most HiGHS's optimum (a 0/1 column per pair) and the plan at least it."""
    problem = every_feature(seed)
    problem = replace(problem, costs=replace(problem.costs, fixed_per_pair=parcel))
    plan = solve_fixed_charge(problem, SOLVER, trade_s=5.0)
    assert check_plan(problem, plan) == []
    mip = solve_highs(problem, integral=True, time_limit_s=30)
    if mip.status != "optimal":
        return
    assert plan.stats["lp_bound"] <= mip.objective * (1 + 1e-9) + 1e-6
    assert plan.stats["objective"] >= mip.objective * (1 - 1e-9) - 1e-6

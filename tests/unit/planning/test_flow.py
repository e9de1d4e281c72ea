"""The flow planner against full enumeration and an independent LP (SciPy's HiGHS)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import replace
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.adapters.solvers import OrToolsFlow
from fabnet.domain.capabilities import Process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Box, Place
from fabnet.planning import Demand, Problem, Supply, pricing
from fabnet.planning.arcs import Arcs
from fabnet.planning.columns import tailed_off
from fabnet.planning.costs import CostParams
from fabnet.planning.evaluate import objective
from fabnet.planning.flow import solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.highs import solve_highs
from fabnet.planning.highs_lp import solve_highs_lp
from fabnet.planning.plan_files import check_plan
from fabnet.planning.problem import SECONDS_PER_DAY as DAY
from fabnet.planning.problem import deadline_day
from fabnet.planning.rounding import repair
from fabnet.planning.solve import solve
from fabnet.planning.time_model import TimeModel

SOLVER = OrToolsFlow()
ALL = FlowOptions(k=10_000, pricing=False, widen=False, aggregate=False, polish_max_arcs=0)
ROUNDING = FlowOptions(polish_max_arcs=0)  # whole units by rounding alone


def demand(i, units, lat, lon, due_days, material="PLA", unit_s=4800.0, priority=0, mass=45.0):
    return Demand(
        line_id=f"l{i:03d}",
        order_id="o",
        process=Process.FDM,
        material=material,
        size=Box(10, 10, 10),
        units=units,
        unit_time_s=unit_s,
        due_s=due_days * DAY,
        destination=Place(lat, lon),
        priority=priority,
        unit_mass_g=mass,
    )


def supply(
    i,
    lat,
    lon,
    hours=20.0,
    materials=("PLA",),
    price=100.0,
    reliability=0.95,
    busy_s=0.0,
    speed=1.0,
):
    return Supply(
        machine_id=f"m{i:03d}",
        producer_id=f"p{i:03d}",
        process=Process.FDM,
        materials=frozenset(materials),
        build_volume=Box(200, 200, 200),
        place=Place(lat, lon),
        seconds_per_day=hours * 3600,
        price_per_unit=price,
        reliability=reliability,
        busy_s=busy_s,
        speed_factor=speed,
    )


def random_problem(
    seed: int, n_lines: int, n_machines: int, *, short: bool = False, mixed: bool = True
) -> Problem:
    rng = random.Random(seed)
    cities = [(50 + rng.random() * 4, 6 + rng.random() * 8) for _ in range(max(3, n_lines // 3))]
    times = [600.0, 1800.0, 3600.0, 4800.0, 7200.0, 14400.0] if mixed else [4800.0]
    lines = tuple(
        demand(
            i,
            rng.randint(1, 120 if short else 40),
            *rng.choice(cities),
            rng.randint(0, 7),
            material=rng.choice(["PLA", "PLA", "PETG"]),
            priority=rng.choice([0, 0, 2]),
            unit_s=rng.choice(times),
        )
        for i in range(n_lines)
    )
    machines = tuple(
        supply(
            i,
            50 + rng.random() * 4,
            6 + rng.random() * 8,
            hours=rng.choice([8, 20, 24]),
            materials=rng.choice([("PLA",), ("PLA", "PETG")]),
            price=rng.uniform(50, 200),
            reliability=rng.uniform(0.8, 1.0),
            busy_s=rng.choice([0, 0, 30000]),
            speed=rng.choice([1.0, 1.0, 1.5]),
        )
        for i in range(n_machines)
    )
    return Problem(lines, machines, horizon_s=8 * DAY, load_factor=rng.choice([1.0, 0.85]))


EXACT = FlowOptions(k=2, margin=1.0, gap_tolerance=0.0)


def assert_between_lp_and_optimum(stats: dict[str, float], optimum: float) -> None:
    """The reported bound (the knapsack bound where it is higher) is at least the LP
    relaxation's and never above the integer optimum."""
    assert stats["lp_bound"] >= stats["lp_relaxation"] - 1e-9 * abs(stats["lp_relaxation"])
    assert stats["lp_bound"] <= optimum * (1 + 1e-9) + 1e-6


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(1, 8), st.booleans())
def test_the_bound_is_the_lp_optimum_and_the_plan_is_valid(seed, n_lines, n_machines, short):
    """Against HiGHS on the same model: the priced bound is the LP relaxation's optimum of
    the whole problem, the plan passes the checker and cannot beat the integer optimum."""
    problem = random_problem(seed, n_lines, n_machines, short=short)
    plan = solve_flow(problem, SOLVER, options=EXACT)
    lp = solve_highs(problem)
    mip = solve_highs(problem, integral=True)
    assert lp.status == mip.status == "optimal"
    bound, cost = plan.stats["lp_relaxation"], plan.stats["objective"]
    assert bound <= lp.objective * (1 + 1e-9) + 1e-6  # a lower bound, never above the LP
    assert bound >= lp.objective * (1 - 1e-6) - 1e-6  # and tight: pricing reached the LP
    assert check_plan(problem, plan) == []
    assert cost >= mip.objective * (1 - 1e-9) - 1e-6
    assert_between_lp_and_optimum(plan.stats, mip.objective)
    assert cost == pytest.approx(objective(problem, plan), rel=1e-9, abs=1e-6)
    if plan.stats["certified"]:
        assert cost <= mip.objective * (1 + 1e-9) + 1e-6
    assert plan.units_assigned + plan.units_unmet == sum(d.units for d in problem.demands)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(1, 8))
def test_starved_demand_offered_spare_time_still_ends_at_the_lp_bound(seed, n_lines, n_machines):
    """With ``pricing_pairs`` 0, every round whose demands sit at their unmet cost offers
    them the nearest machines with time instead of searching every machine (and claims no
    bound); the last round searches in full, so the bound is still the LP optimum."""
    problem = random_problem(seed, n_lines, n_machines, short=True)
    options = FlowOptions(k=1, margin=1.0, gap_tolerance=0.0, widen=False, pricing_pairs=0)
    plan = solve_flow(problem, SOLVER, options=options)
    lp = solve_highs(problem)
    assert lp.status == "optimal"
    assert plan.stats["lp_relaxation"] == pytest.approx(lp.objective, rel=1e-6, abs=1e-6)
    assert check_plan(problem, plan) == []


@pytest.mark.parametrize("seed", range(4))
def test_the_spare_time_offer_is_taken_when_the_search_would_be_too_wide(seed):
    problem = random_problem(seed, 10, 6, short=True)
    options = FlowOptions(k=1, margin=1.0, gap_tolerance=0.0, widen=False, pricing_pairs=0)
    with mock.patch.object(pricing, "_spare_time", side_effect=pricing._spare_time) as spy:
        plan = solve_flow(problem, SOLVER, options=options)
    assert spy.call_count >= 1
    lp = solve_highs(problem)
    assert plan.stats["lp_relaxation"] == pytest.approx(lp.objective, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_small_plans_reach_the_integer_optimum(seed):
    """Rounding, then HiGHS's MIP over the priced arcs when rounding is not within the
    tolerance: on small problems the plan is within 0.1% of the integer optimum of the
    whole problem (the MIP sees only the priced arcs).
    ``certified`` says whether the LP bound proves it (on tight small problems the LP
    relaxation itself can be 1% below the integer optimum, and then it does not)."""
    problem = random_problem(seed, 10, 6, short=True)
    plan = solve_flow(problem, SOLVER, options=FlowOptions(polish_time_s=60.0))
    mip = solve_highs(problem, integral=True)
    assert mip.objective * (1 - 1e-9) <= plan.stats["objective"] <= mip.objective * 1.001
    gap = (plan.stats["objective"] - plan.stats["lp_bound"]) / plan.stats["objective"]
    assert plan.stats["certified"] == float(gap <= 1e-3)


def test_priced_and_enumerated_networks_agree():
    for seed in range(5):
        problem = random_problem(seed, 20, 12, short=seed % 2 == 0)
        priced = solve_flow(problem, SOLVER, options=replace(EXACT, polish_max_arcs=0))
        full = solve_flow(problem, SOLVER, options=ALL)
        assert priced.stats["lp_objective"] == pytest.approx(full.stats["lp_objective"], rel=1e-7)


def test_designs_of_different_print_times_compete_for_the_same_machines():
    """Two machines, 40 units of a 1-hour PLA part and 20 of a 2-hour PETG part that only
    the nearer machine can make: PLA goes far, PETG near, and nothing is left unmet."""
    near = supply(1, 50.1, 10, materials=("PLA", "PETG"))
    far = supply(2, 51.0, 10)
    lines = (
        demand(1, 40, 50, 10, 2, unit_s=3600),
        demand(2, 20, 50, 10, 2, material="PETG", unit_s=7200),
    )
    problem = Problem(lines, (near, far), horizon_s=2 * DAY, load_factor=1.0)
    plan = solve_flow(problem, SOLVER)
    made = {(a.line_id, a.machine_id): a.units for a in plan.assignments}
    assert made == {("l001", "m002"): 40, ("l002", "m001"): 20}
    assert plan.units_unmet == 0
    assert plan.stats["certified"] == 1.0
    mip = solve_highs(problem, integral=True)
    assert plan.stats["objective"] == pytest.approx(mip.objective, rel=1e-9)
    assert check_plan(problem, plan) == []


def test_lateness_is_charged_per_unit_and_day_late():
    """One machine, 18 units a day; 54 units due on day 1: 18 on time, 18 one day late,
    18 two days late (not 36 charged the whole window)."""
    problem = Problem(
        (demand(1, 54, 50, 8, 1),),
        (supply(1, 50, 8, hours=24),),
        horizon_s=5 * DAY,
        load_factor=1.0,
        costs=CostParams(late_window_days=3, late_per_unit_day=300.0),
    )
    plan = solve_flow(problem, SOLVER)
    by_day = {a.day: a.units for a in plan.assignments}
    assert by_day == {1: 18, 2: 18, 3: 18}
    assert sum(a.lateness for a in plan.assignments) == pytest.approx(300.0 * (18 * 1 + 18 * 2))
    assert [a.late for a in sorted(plan.assignments, key=lambda a: a.day)] == [False, True, True]
    assert plan.stats["objective"] == pytest.approx(solve_highs(problem, integral=True).objective)


def test_the_deadline_day_itself_counts_and_the_horizon_caps_late_days():
    # due at the end of day 2: two days on time; the late window ends at the horizon (3)
    problem = Problem(
        (demand(1, 60, 50, 8, 2),),
        (supply(1, 50, 8, hours=24),),
        horizon_s=3 * DAY,
        load_factor=1.0,
        costs=CostParams(late_window_days=5),
    )
    plan = solve_flow(problem, SOLVER)
    assert {a.day: a.units for a in plan.assignments} == {2: 36, 3: 18}
    assert plan.units_unmet == 6  # no day 4: beyond the horizon


def test_a_deadline_beyond_the_horizon_is_on_time_all_the_way():
    problem = Problem(
        (demand(1, 30, 50, 8, 40),),
        (supply(1, 50, 8, hours=24),),
        horizon_s=2 * DAY,
        load_factor=1.0,
    )
    plan = solve_flow(problem, SOLVER)
    assert plan.units_assigned == 30 and not any(a.late for a in plan.assignments)


def test_busy_time_and_the_load_factor_take_capacity_from_the_first_days():
    # 20 h a day at load 0.9 = 18 h; 30 h busy: day 1 has nothing, day 2 has 6 h (6 units)
    problem = Problem(
        (demand(1, 10, 50, 8, 2, unit_s=3600),),
        (supply(1, 50, 8, hours=20, busy_s=30 * 3600),),
        horizon_s=2 * DAY,
        load_factor=0.9,
        costs=CostParams(late_window_days=0),
    )
    plan = solve_flow(problem, SOLVER)
    assert plan.units_assigned == 6 and plan.units_unmet == 4


def test_a_faster_machine_gives_more_units_of_the_same_part():
    base = supply(1, 50, 8, hours=10)
    quick = Supply(
        machine_id="m002",
        producer_id="p002",
        process=base.process,
        materials=base.materials,
        build_volume=base.build_volume,
        place=base.place,
        seconds_per_day=base.seconds_per_day,
        speed_factor=2.0,
    )
    lines = (demand(1, 100, 50, 8, 1, unit_s=3600),)
    costs = CostParams(late_window_days=0)
    slow_plan = solve_flow(
        Problem(lines, (base,), horizon_s=DAY, load_factor=1.0, costs=costs), SOLVER
    )
    quick_plan = solve_flow(
        Problem(lines, (quick,), horizon_s=DAY, load_factor=1.0, costs=costs), SOLVER
    )
    assert (slow_plan.units_assigned, quick_plan.units_assigned) == (10, 20)


def test_a_part_that_fits_only_rotated_is_still_planned():
    tall = Demand(
        line_id="l1",
        order_id="o",
        process=Process.FDM,
        material="PLA",
        size=Box(20, 20, 240),  # 240 mm tall: fits a 250 x 210 x 210 bed only lying down
        units=3,
        unit_time_s=3600,
        due_s=2 * DAY,
        destination=Place(50, 8),
    )
    bed = Supply(
        machine_id="m1",
        producer_id="p1",
        process=Process.FDM,
        materials=frozenset({"PLA"}),
        build_volume=Box(250, 210, 210),
        place=Place(50, 8),
        seconds_per_day=20 * 3600,
    )
    plan = solve_flow(Problem((tall,), (bed,)), SOLVER)
    assert plan.units_assigned == 3


def test_the_default_gap_tolerance_is_a_tenth_of_a_percent():
    assert FlowOptions().gap_tolerance == pytest.approx(0.001)


def test_merging_identical_demand_is_exact():
    problem = random_problem(3, 40, 12, short=True)
    merged = solve_flow(problem, SOLVER, options=replace(ROUNDING, k=3, gap_tolerance=0.0))
    apart = solve_flow(
        problem, SOLVER, options=replace(ROUNDING, k=3, aggregate=False, gap_tolerance=0.0)
    )
    assert merged.stats["lp_objective"] == pytest.approx(apart.stats["lp_objective"], rel=1e-9)
    assert merged.stats["lp_relaxation"] == pytest.approx(apart.stats["lp_relaxation"], rel=1e-6)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_plans_never_overfill_a_day_or_lose_a_unit(seed):
    problem = random_problem(seed, 20, 10, short=True)
    plan = solve_flow(problem, SOLVER, options=ROUNDING)
    by_line = defaultdict(int)
    for a in plan.assignments:
        by_line[a.line_id] += a.units
    for u in plan.unmet:
        by_line[u.line_id] += u.units
    assert all(by_line[d.line_id] == d.units for d in problem.demands)
    assert check_plan(problem, plan) == []  # machine time by every day, in seconds


def test_lines_no_machine_can_make_are_unmet_with_the_reason():
    problem = Problem((demand(1, 5, 50, 8, 3, material="PETG"),), (supply(1, 50, 8),))
    plan = solve_flow(problem, SOLVER)
    assert plan.units_unmet == 5
    assert "works PETG" in plan.unmet[0].reason


def test_short_capacity_leaves_units_unmet_and_urgent_lines_first():
    lines = (demand(1, 50, 50, 8, 2, priority=0), demand(2, 50, 50.1, 8, 2, priority=5))
    problem = Problem(
        lines,
        (supply(1, 50, 8, hours=24),),
        horizon_s=2 * DAY,
        load_factor=1.0,
        costs=CostParams(late_window_days=0),
    )
    plan = solve_flow(problem, SOLVER)
    made = {a.line_id: a.units for a in plan.assignments}
    assert made == {"l002": 36}  # 18 units a day for two days, all to the urgent line
    assert {u.line_id: u.units for u in plan.unmet} == {"l001": 50, "l002": 14}
    assert "capacity" in plan.unmet[0].reason


def test_costs_are_broken_down_per_assignment():
    problem = Problem((demand(1, 10, 50, 8, 3),), (supply(1, 50.5, 8, price=120, reliability=0.9),))
    (a,) = solve_flow(problem, SOLVER).assignments
    assert a.production == pytest.approx(1200)
    assert a.transport == pytest.approx(10 * 0.5 * a.distance_km)
    assert a.risk == pytest.approx(10 * 0.1 * 500)
    assert a.co2 == pytest.approx(10 * a.distance_km * 45e-6 * CostParams().co2_kg_per_tkm * 10)
    assert not a.late and a.lateness == 0


def test_two_unit_times_share_machine_time():
    lines = (demand(1, 30, 50, 8, 1, unit_s=3600), demand(2, 30, 50, 8, 1, unit_s=1800, priority=1))
    problem = Problem(
        lines,
        (supply(1, 50, 8, hours=24),),
        horizon_s=1 * DAY,
        load_factor=1.0,
        costs=CostParams(late_window_days=0),
    )
    plan = solve_flow(problem, SOLVER)
    made = {a.line_id: a.units for a in plan.assignments}
    assert made["l002"] == 30  # the urgent line's hour is worth more: 15 h of the day
    assert made["l001"] == 9  # the 9 hours left


@pytest.mark.parametrize("seed", range(4))
def test_stopping_at_the_gap_tolerance_keeps_the_promise(seed):
    problem = random_problem(seed, 12, 8, short=True)
    exact = solve_highs(problem, integral=True).objective
    quick = solve_flow(
        problem, SOLVER, options=FlowOptions(k=2, margin=1.0, gap_tolerance=0.01)
    ).stats
    assert quick["lp_bound"] <= exact + 1e-6
    assert quick["objective"] >= exact - 1e-6
    assert quick["objective"] <= exact / (1 - 0.01) + 1e-6
    assert quick["gap"] <= 0.01


def test_the_lp_tails_off_when_the_last_rounds_together_lowered_it_by_at_most_the_share():
    opts = FlowOptions(tail_off=0.01, tail_rounds=2)
    assert not tailed_off([100.0, 99.5], opts)  # too few rounds to tell
    assert not tailed_off([103.0, 100.0, 99.5], opts)  # 3.5 over two rounds: 3.5%
    assert tailed_off([100.6, 100.0, 99.7], opts)  # 0.9 over two rounds: under 1%
    assert not tailed_off([1.0, 1.0, 1.0, 1.0], FlowOptions())  # off by default


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 12), st.integers(1, 8), st.integers(1, 3))
def test_a_plan_stopped_by_the_tailing_off_keeps_its_promises(seed, n_lines, n_machines, tail):
    """Pricing stopped early (any LP change counts as tailing off): the plan is still valid,
    no unit is lost, the bound is still below the whole problem's LP, and a certified plan
    is within the tolerance of the integer optimum."""
    problem = random_problem(seed, n_lines, n_machines, short=True)
    options = FlowOptions(k=1, margin=1.0, widen=False, tail_off=1e12, tail_rounds=tail)
    plan = solve_flow(problem, SOLVER, options=options)
    full = solve_flow(problem, SOLVER, options=replace(options, tail_off=0.0))
    assert plan.stats["rounds"] == min(full.stats["rounds"], tail + 1)
    assert check_plan(problem, plan) == []
    assert plan.units_assigned + plan.units_unmet == sum(d.units for d in problem.demands)
    lp = solve_highs(problem)
    bound = plan.stats["lp_relaxation"]
    assert math.isnan(bound) or bound <= lp.objective * (1 + 1e-9) + 1e-6
    mip = solve_highs(problem, integral=True)
    assert math.isnan(bound) or plan.stats["lp_bound"] <= mip.objective * (1 + 1e-9) + 1e-6
    if plan.stats["certified"]:
        assert plan.stats["objective"] <= mip.objective / (1 - options.gap_tolerance) + 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_the_array_built_highs_lp_is_the_same_lp(seed):
    """The benchmark's HiGHS LP (carry-over rows, built with arrays) against the plain one."""
    problem = random_problem(seed, 12, 8, short=seed % 2 == 0)
    assert solve_highs_lp(problem).objective == pytest.approx(
        solve_highs(problem).objective, rel=1e-9
    )


def on_probation(problem: Problem, seed: int, cap: int, share: float = 0.5) -> Problem:
    """``problem`` with a ``share`` of its machines, drawn at random, on jobs of ``cap``."""
    rng = random.Random(seed)
    supplies = tuple(
        replace(s, job_units_max=cap) if rng.random() < share else s for s in problem.supplies
    )
    return replace(problem, supplies=supplies)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10), st.integers(1, 6), st.integers(1, 15))
def test_machines_on_probation_get_bounded_jobs_in_every_solver(seed, n_lines, n_machines, cap):
    """Half the machines on probation (at most ``cap`` units a line, on time): the flow's
    plan and greedy's pass the checker (which enforces the bound), the flow's bound stays
    below HiGHS's LP of the same model, and its plan cannot beat HiGHS's integer optimum."""
    problem = on_probation(random_problem(seed, n_lines, n_machines), seed, cap)
    plan = solve_flow(problem, SOLVER, options=EXACT)
    assert check_plan(problem, plan) == []
    greedy = solve(problem, solver="greedy")
    assert check_plan(problem, greedy) == []
    lp = solve_highs(problem)
    mip = solve_highs(problem, integral=True)
    assert plan.stats["lp_relaxation"] <= lp.objective * (1 + 1e-9) + 1e-6
    assert plan.stats["objective"] >= mip.objective * (1 - 1e-9) - 1e-6
    assert_between_lp_and_optimum(plan.stats, mip.objective)
    if plan.stats["certified"]:
        assert plan.stats["objective"] <= mip.objective * (1 + 1e-3) + 1e-6
    assert solve_highs_lp(problem).objective == pytest.approx(lp.objective, rel=1e-9, abs=1e-6)
    due = {d.line_id: max(1, deadline_day(d.due_s)) for d in problem.demands}
    for a in plan.assignments:
        s = next(x for x in problem.supplies if x.machine_id == a.machine_id)
        if s.on_probation:
            assert a.units <= cap and a.day <= due[a.line_id]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(1, 8))
def test_greedy_plans_pass_the_checker(seed, n_lines, n_machines):
    """Greedy, the baseline and the warm start, in the same model: it said a machine's
    work ended a day early when less than all its time may be promised (load factor)."""
    problem = random_problem(seed, n_lines, n_machines)
    assert check_plan(problem, solve(problem, solver="greedy")) == []


def test_a_machine_on_probation_takes_a_bounded_job_and_the_rest_goes_elsewhere():
    """The near machine is on probation (5 units a job): 5 units there, 15 on the far one,
    which the checker accepts and would refuse with 6 on the near machine."""
    line = demand(0, 20, 52.5, 13.4, 5)
    near = replace(supply(0, 52.5, 13.4), job_units_max=5)
    far = supply(1, 48.1, 11.6)
    problem = Problem((line,), (near, far), horizon_s=8 * DAY)
    for plan in (solve_flow(problem, SOLVER), solve(problem, solver="greedy")):
        got = defaultdict(int)
        for a in plan.assignments:
            got[a.machine_id] += a.units
        assert got == {"m000": 5, "m001": 15}
        assert check_plan(problem, plan) == []
    assert solve_highs(problem, integral=True).objective == pytest.approx(
        solve_flow(problem, SOLVER).stats["objective"]
    )
    free = Problem((line,), (replace(near, job_units_max=0), far), horizon_s=8 * DAY)
    assert sum(a.units for a in solve_flow(free, SOLVER).assignments if a.machine_id == "m000") > 5
    too_many = solve_flow(free, SOLVER)
    assert any("probation" in str(v) for v in check_plan(problem, too_many))


def test_a_machine_on_probation_does_no_late_work():
    """Nothing else can make the line on time: the probation machine makes its job on time
    and the rest is not rescued late on it."""
    line = demand(0, 40, 52.5, 13.4, 1)
    near = replace(supply(0, 52.5, 13.4, hours=24), job_units_max=50)
    problem = Problem((line,), (near,), horizon_s=8 * DAY)
    plan = solve_flow(problem, SOLVER)
    assert all(not a.late for a in plan.assignments)
    assert plan.units_assigned == 15  # one day of 24 h at 85%: 73,440 s, 4,800 s a unit
    assert check_plan(problem, plan) == []


BANDS = ((50.0, 0), (800.0, 1), (2000.0, 2), (8000.0, 7))


def _with_transit(problem: Problem) -> Problem:
    return replace(problem, costs=replace(problem.costs, transit=BANDS))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10), st.integers(1, 6), st.booleans())
def test_transit_days_count_against_the_deadline_in_every_solver(seed, n_lines, n_machines, far):
    """Transit bands by distance (machines 0-600 km away, some 1,000 km with ``far``): the
    flow plan and greedy's pass the checker (which recomputes each pair's transit), the
    bound stays below HiGHS's LP of the same model, the plan cannot beat its MIP."""
    problem = random_problem(seed, n_lines, n_machines)
    if far:
        moved = tuple(
            replace(s, place=Place(s.place.lat - 9.0, s.place.lon)) if i % 2 else s
            for i, s in enumerate(problem.supplies)
        )
        problem = replace(problem, supplies=moved)
    problem = _with_transit(problem)
    plan = solve_flow(problem, SOLVER, options=EXACT)
    assert check_plan(problem, plan) == []
    assert check_plan(problem, solve(problem, solver="greedy")) == []
    lp = solve_highs(problem)
    mip = solve_highs(problem, integral=True)
    assert plan.stats["lp_relaxation"] <= lp.objective * (1 + 1e-9) + 1e-6
    assert plan.stats["lp_relaxation"] >= lp.objective * (1 - 1e-6) - 1e-6
    assert plan.stats["objective"] >= mip.objective * (1 - 1e-9) - 1e-6
    assert_between_lp_and_optimum(plan.stats, mip.objective)
    assert solve_highs_lp(problem).objective == pytest.approx(lp.objective, rel=1e-9, abs=1e-6)


def test_a_far_machine_must_make_earlier_and_its_days_in_transit_are_in_the_plan():
    """Due on day 3: the machine 1,000 km away (2 days on the way) makes by day 1 or is
    late; the plan says 2 days in transit and the checker refuses a plan that hides them."""
    line = demand(0, 30, 52.5, 13.4, 3)
    far = supply(0, 43.5, 13.4, hours=24)  # ~1,000 km south
    problem = _with_transit(Problem((line,), (far,), horizon_s=8 * DAY))
    plan = solve_flow(problem, SOLVER)
    assert check_plan(problem, plan) == []
    assert {a.transit_days for a in plan.assignments} == {2}
    on_time = sum(a.units for a in plan.assignments if not a.late)
    assert on_time == 15  # day 1 only: 73,440 s at 85% / 4,800 s a unit
    assert all(a.late == (a.day > 1) for a in plan.assignments)
    hidden = replace(plan, assignments=tuple(replace(a, transit_days=0) for a in plan.assignments))
    assert any("in transit" in str(v) for v in check_plan(problem, hidden))


def test_a_line_no_machine_can_deliver_in_time_is_unmet_with_that_reason():
    """As a new user found: due in three days in Nairobi, the capable machines 3,500 and
    5,900 km away (7 days in transit) cannot deliver even with the late window: unmet,
    saying why, in both solvers."""
    nairobi = (-1.2921, 36.8219)
    line = demand(0, 20, *nairobi, 3)
    cairo, berlin = supply(0, 30.04, 31.24), supply(1, 52.52, 13.40)
    problem = _with_transit(Problem((line,), (cairo, berlin), horizon_s=21 * DAY))
    for plan in (solve_flow(problem, SOLVER), solve(problem, solver="greedy")):
        assert plan.assignments == ()
        (unmet,) = plan.unmet
        assert unmet.units == 20 and "deliver in time" in unmet.reason
        assert "3,5" in unmet.reason and "7 days in transit" in unmet.reason
    near_only = CostParams(transit=((50.0, 0), (2000.0, 2)))
    beyond = Problem((line,), (berlin,), horizon_s=21 * DAY, costs=near_only)
    (unmet,) = solve_flow(beyond, SOLVER).unmet
    assert "can reach the destination" in unmet.reason and "2,000 km" in unmet.reason


def test_bad_transit_bands_are_refused_naming_the_band():
    for bands, field in [
        (((50.0, 0), (40.0, 1)), "costs.transit[1]"),
        (((50.0, 2), (100.0, 1)), "costs.transit[1]"),
        (((50.0, 1.5),), "costs.transit[0]"),
        (((50.0,),), "costs.transit[0]"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            CostParams(transit=bands)
        assert caught.value.field == field
    assert CostParams(transit=[[50, 0], [800, 1]]).transit == ((50, 0), (800, 1))


# (up to km, money per kg, money per kg-km): couriers near, the carrier's booking beyond
TRANSPORT = ((50.0, 0.0, 400.0), (800.0, 2000.0, 30.0), (5000.0, 5000.0, 10.0))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10), st.integers(1, 6))
def test_transport_by_distance_band_keeps_the_bound_and_the_plan_honest(seed, n, m):
    """The logistics cost model's bands (a fixed part per kg and a rate per kg-km, band by
    band) in every solver: the bound equals HiGHS's LP of the same model, the plan cannot
    beat its MIP, and the objective is recomputed from the plan alone."""
    problem = random_problem(seed, n, m)
    problem = replace(problem, costs=replace(problem.costs, transport_bands=TRANSPORT))
    plan = solve_flow(problem, SOLVER, options=EXACT)
    lp = solve_highs(problem)
    mip = solve_highs(problem, integral=True)
    assert check_plan(problem, plan) == []
    assert plan.stats["lp_relaxation"] <= lp.objective * (1 + 1e-9) + 1e-6
    assert plan.stats["lp_relaxation"] >= lp.objective * (1 - 1e-6) - 1e-6
    assert plan.stats["objective"] >= mip.objective * (1 - 1e-9) - 1e-6
    assert_between_lp_and_optimum(plan.stats, mip.objective)
    assert plan.stats["objective"] == pytest.approx(objective(problem, plan), rel=1e-9, abs=1e-6)
    assert solve_highs_lp(problem).objective == pytest.approx(lp.objective, rel=1e-9, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 20_000.0), st.floats(1.0, 5_000.0))
def test_the_transport_floor_per_km_is_a_lower_bound_at_every_distance(km, mass_g):
    costs = CostParams(transport_bands=TRANSPORT)
    assert costs.transport(km, mass_g) >= km * costs.transport_floor_per_km(mass_g) - 1e-9


def test_a_band_prices_its_own_distances():
    costs = CostParams(transport_bands=TRANSPORT)
    assert costs.transport(10.0, 1000.0) == pytest.approx(4000.0)  # 1 kg, 10 km by courier
    assert costs.transport(100.0, 500.0) == pytest.approx(0.5 * (2000 + 3000))
    assert costs.transport(9000.0, 1000.0) == pytest.approx(5000 + 90_000)  # the last band
    flat = CostParams(transport_per_unit_km=0.5)
    assert flat.transport(100.0, 500.0) == 50.0


@pytest.mark.parametrize(
    ("bands", "where"),
    [
        (((50.0, 0.0),), "costs.transport_bands[0]"),
        (((50.0, 0.0, 1.0), (40.0, 0.0, 1.0)), "costs.transport_bands[1]"),
        (((50.0, -1.0, 1.0),), "costs.transport_bands[0]"),
        ((("x", 0.0, 1.0),), "costs.transport_bands"),
    ],
)
def test_bad_transport_bands_are_refused_naming_the_band(bands, where):
    with pytest.raises(InvalidInput) as err:
        CostParams(transport_bands=bands)
    assert err.value.field == where


@pytest.mark.parametrize("warm_start", [False, True])
def test_the_first_pairs_nearest_or_greedys_or_by_room_beyond_room_seed_pairs(warm_start):
    """Up to ``room_seed_pairs`` lines x machines the first network is each demand's
    nearest machines, with greedy's pairs where ``warm_start`` asks for them; beyond it
    (greedy scans machine after machine in Python) machines with room (``room_seed``, at
    ``room_margin``), greedy never run; all price to the same LP."""
    import importlib

    solve_module = importlib.import_module("fabnet.planning.solve")
    columns_module = importlib.import_module("fabnet.planning.columns")
    problem = random_problem(3, 6, 4)
    run = solve_module._Greedy.run
    seeded = columns_module.room_candidates
    lps = []
    for limit, by_room in ((24, False), (23, True)):
        options = FlowOptions(
            warm_start=warm_start,
            room_seed_pairs=limit,
            room_margin=5.0,
            room_new_per_demand=7,
        )
        with (
            mock.patch.object(solve_module._Greedy, "run", autospec=True, side_effect=run) as spy,
            mock.patch.object(columns_module, "room_candidates", side_effect=seeded) as room,
        ):
            plan = solve(problem, solver="flow", flow_solver=SOLVER, options=options)
        assert spy.call_count == int(warm_start and not by_room)
        assert room.call_count == int(by_room)
        assert ("greedy_s" in plan.stats) == bool(spy.call_count)
        if room.call_count:  # the room seeding's margin and arcs a round, not the others'
            assert room.call_args.args[0].options.margin == 5.0
            assert room.call_args.args[0].options.max_new_per_demand == 7
        assert check_plan(problem, plan) == []
        lps.append(plan.stats["lp_relaxation"])
    # both bounds hold and both reach the LP of the whole problem (pricing stops within a
    # quarter of the tolerance of it)
    whole = solve_highs_lp(problem).objective
    for bound in lps:
        assert whole * (1 - 0.25e-3) - 1e-6 <= bound <= whole + 1e-6


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, 10),
    st.integers(1, 6),
    st.booleans(),
    st.booleans(),
    st.integers(0, 3),
)
def test_pricing_costs_pairs_once_and_agrees_with_the_arcs_own_costs(
    seed, n, m, bands, transit, window
):
    """Pricing works a pair's distance and day-free costs out once for all its days; each
    arc's cost must be exactly what the arc costs on its own (bands, transit, late days,
    a machine on probation with its one day)."""
    problem = random_problem(seed, n, m)
    costs = replace(problem.costs, late_window_days=window)
    if bands:
        costs = replace(costs, transport_bands=TRANSPORT)
    if transit:
        costs = replace(costs, transit=((50.0, 0), (300.0, 1), (20_040.0, 3)))
    supplies = tuple(
        replace(s, job_units_max=5) if i % 3 == 0 else s for i, s in enumerate(problem.supplies)
    )
    problem = replace(problem, costs=costs, supplies=supplies)
    demands = [d for d in problem.demands if d.units > 0]
    model = TimeModel(problem, demands, FlowOptions())
    pa = np.repeat(np.arange(len(model.d.quantity)), len(supplies))
    pm = np.tile(np.arange(len(supplies)), len(model.d.quantity))
    arcs, cost = model.pair_arcs(pa, pm)
    expected = model.arcs_of_pairs(pa, pm, every_day=True)
    assert np.array_equal(model.key(arcs), model.key(expected))
    assert np.allclose(cost, model.unit_cost(arcs), rtol=1e-12, atol=1e-9)


def test_a_unit_left_over_goes_to_a_machine_whose_first_days_are_full():
    """Whole-unit repair: a machine full on days 1 to 4 with time from day 5 still takes
    a unit due on day 5 (the repair used to pass by every machine with a full day)."""
    problem = Problem(
        (demand(1, 1, 52.0, 13.0, 5, unit_s=3600.0),),
        (supply(1, 52.0, 13.0, hours=10.0),),
        horizon_s=8 * DAY,
        load_factor=1.0,
    )
    model = TimeModel(problem, list(problem.demands), FlowOptions())
    full = 4 * 36_000  # ticks of days 1 to 4, all used
    slack = np.maximum(model.cum_ticks[:, 1:] - full, 0)
    left = np.array([1])
    arcs, units = repair(model, Arcs.empty(), np.empty(0), np.empty(0, np.int64), left, slack)
    assert left.tolist() == [0] and units.tolist() == [1]
    assert arcs.m.tolist() == [0] and 5 <= arcs.d[0] <= 8


@pytest.mark.parametrize(
    ("field", "value"), [("tail_off", -0.1), ("tail_off", math.nan), ("tail_rounds", 0)]
)
def test_bad_tailing_off_options_are_refused_naming_the_field(field, value):
    with pytest.raises(InvalidInput) as err:
        FlowOptions(**{field: value})
    assert err.value.field == field


def test_booked_time_of_the_wrong_shape_is_refused():
    problem = random_problem(1, 3, 2)
    with pytest.raises(InvalidInput) as err:
        solve_flow(problem, SOLVER, booked_s=np.zeros((1, 1)))
    assert err.value.field == "booked_s"

"""The flow planner against full enumeration and an independent LP (SciPy's HiGHS)."""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from fabnet.adapters.solvers import OrToolsFlow
from fabnet.domain.capabilities import Process
from fabnet.domain.units import Box, Place
from fabnet.planning import Demand, Problem, Supply
from fabnet.planning.costs import CostParams
from fabnet.planning.flow import FlowOptions, solve_flow
from fabnet.planning.problem import SECONDS_PER_DAY as DAY

SOLVER = OrToolsFlow()
ALL = FlowOptions(k=10_000, pricing=False, widen=False, aggregate=False)


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


def supply(i, lat, lon, hours=20.0, materials=("PLA",), price=100.0, reliability=0.95, busy_s=0.0):
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
    )


def random_problem(seed: int, n_lines: int, n_machines: int, *, short: bool = False) -> Problem:
    rng = random.Random(seed)
    cities = [(50 + rng.random() * 4, 6 + rng.random() * 8) for _ in range(max(3, n_lines // 3))]
    lines = tuple(
        demand(
            i,
            rng.randint(1, 120 if short else 40),
            *rng.choice(cities),
            rng.randint(0, 7),
            material=rng.choice(["PLA", "PLA", "PETG"]),
            priority=rng.choice([0, 0, 2]),
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
        )
        for i in range(n_machines)
    )
    return Problem(lines, machines, horizon_s=8 * DAY, load_factor=1.0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 25), st.integers(1, 20), st.booleans())
def test_pricing_reaches_the_optimum_over_every_machine(seed, n_lines, n_machines, short):
    problem = random_problem(seed, n_lines, n_machines, short=short)
    priced = solve_flow(problem, SOLVER, options=FlowOptions(k=2, margin=1.0, gap_tolerance=0.0))
    full = solve_flow(problem, SOLVER, options=ALL)
    assert priced.stats["certified"] == 1.0
    assert priced.stats["objective"] == pytest.approx(full.stats["objective"], rel=1e-9, abs=1e-6)
    assert priced.stats["lp_bound"] == pytest.approx(priced.stats["objective"])
    assert priced.units_assigned + priced.units_unmet == sum(d.units for d in problem.demands)


def lp_optimum(problem: Problem) -> float:
    """The same model written as a plain LP with cumulative capacity rows."""
    costs, horizon = problem.costs, int(problem.horizon_s // DAY)
    lines, machines = problem.demands, problem.supplies
    pairs = [(i, j) for i, d in enumerate(lines) for j, s in enumerate(machines) if s.can_make(d)]
    n_pairs = len(pairs)
    c, bounds = [], []
    on_day = [int(min(horizon, max(0, d.due_s // DAY))) for d in lines]
    late_day = [min(k + costs.late_window_days, horizon) if k < horizon else 0 for k in on_day]
    for i, j in pairs:
        d, s = lines[i], machines[j]
        km = d.destination.distance_km(s.place)
        transport, co2 = costs.per_km(d.unit_mass_g)
        base = s.price_per_unit + (1 - s.reliability) * costs.risk_per_unit + km * (transport + co2)
        c.append(round(base * costs.scale) if on_day[i] else 0)
        bounds.append((0, None) if on_day[i] else (0, 0))
    for i, j in pairs:
        d, s = lines[i], machines[j]
        km = d.destination.distance_km(s.place)
        transport, co2 = costs.per_km(d.unit_mass_g)
        base = s.price_per_unit + (1 - s.reliability) * costs.risk_per_unit + km * (transport + co2)
        late = costs.late_per_unit_day * (late_day[i] - on_day[i]) * (1 + d.priority)
        c.append(round((base + late) * costs.scale))
        bounds.append((0, None) if late_day[i] else (0, 0))
    for d in lines:
        c.append(round(costs.unmet_per_unit * (1 + d.priority) * costs.scale))
        bounds.append((0, None))
    a_eq = np.zeros((len(lines), len(c)))
    for p, (i, _) in enumerate(pairs):
        a_eq[i, p] = a_eq[i, n_pairs + p] = 1
    for i in range(len(lines)):
        a_eq[i, 2 * n_pairs + i] = 1
    rows, b_ub = [], []
    for j, s in enumerate(machines):
        per_day = np.floor(
            s.seconds_per_day * problem.load_factor * s.speed_factor / lines[0].unit_time_s + 1e-9
        )
        busy = np.ceil(s.busy_s * s.speed_factor / lines[0].unit_time_s - 1e-9)
        for k in range(1, horizon + 1):
            row = np.zeros(len(c))
            for p, (i, jj) in enumerate(pairs):
                if jj == j:
                    row[p] = 1 if 0 < on_day[i] <= k else 0
                    row[n_pairs + p] = 1 if 0 < late_day[i] <= k else 0
            rows.append(row)
            b_ub.append(max(0.0, per_day * k - busy))
    result = linprog(
        c,
        A_ub=np.array(rows) if rows else None,
        b_ub=b_ub or None,
        A_eq=a_eq,
        b_eq=[d.units for d in lines],
        bounds=bounds,
        method="highs",
    )
    assert result.status == 0
    return float(result.fun) / costs.scale


@pytest.mark.parametrize("seed", range(6))
def test_the_optimum_matches_an_independent_lp(seed):
    problem = random_problem(seed, 12, 8, short=seed % 2 == 0)
    plan = solve_flow(problem, SOLVER, options=FlowOptions(k=2, margin=1.0, gap_tolerance=0.0))
    assert plan.stats["objective"] == pytest.approx(lp_optimum(problem), rel=1e-7, abs=1e-4)


def test_merging_identical_demand_is_exact():
    problem = random_problem(3, 40, 12, short=True)
    merged = solve_flow(problem, SOLVER, options=FlowOptions(k=3, gap_tolerance=0.0))
    apart = solve_flow(
        problem, SOLVER, options=FlowOptions(k=3, aggregate=False, gap_tolerance=0.0)
    )
    assert merged.stats["objective"] == pytest.approx(apart.stats["objective"])


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_plans_never_overfill_a_day_or_lose_a_unit(seed):
    problem = random_problem(seed, 20, 10, short=True)
    plan = solve_flow(problem, SOLVER)
    by_line = defaultdict(int)
    for a in plan.assignments:
        by_line[a.line_id] += a.units
    for u in plan.unmet:
        by_line[u.line_id] += u.units
    assert all(by_line[d.line_id] == d.units for d in problem.demands)
    horizon = int(problem.horizon_s // DAY)
    per_machine = defaultdict(int)
    for a in plan.assignments:
        per_machine[a.machine_id] += a.units
    for s in problem.supplies:
        per_day = int(s.seconds_per_day * s.speed_factor // 4800)
        assert per_machine[s.machine_id] <= max(
            0, per_day * horizon - int(np.ceil(s.busy_s / 4800 - 1e-9))
        )


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
    assert made["l002"] == 30  # urgent class first: 15 h of the day
    assert made["l001"] == 9  # the 9 hours left


@pytest.mark.parametrize("seed", range(4))
def test_stopping_at_the_gap_tolerance_keeps_the_promise(seed):
    problem = random_problem(seed, 30, 15, short=True)
    exact = solve_flow(problem, SOLVER, options=ALL).stats["objective"]
    quick = solve_flow(
        problem, SOLVER, options=FlowOptions(k=2, margin=1.0, gap_tolerance=0.01)
    ).stats
    assert quick["lp_bound"] <= exact + 1e-6
    assert quick["objective"] >= exact - 1e-6
    assert quick["objective"] <= exact * 1.01 + 1e-6
    assert quick["gap"] <= 0.01

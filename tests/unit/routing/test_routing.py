"""The routing instance, its checker, the VRPLIB reader and the delivery figures; the
PyVRP adapter against exhaustive enumeration on small instances."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.adapters.solvers.pyvrp_routing import DecomposedPyVrp, PyVrpSolver
from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Place
from fabnet.routing.deliveries import DeliveryProblem, Fleet, Parcel, build, plan_deliveries
from fabnet.routing.instance import Route, RoutingSolution, VehicleType, VrpInstance, evaluate
from fabnet.routing.modes import CARGO_BIKE, MODES, VAN
from fabnet.routing.vrplib import read_solution, read_vrptw

DATA = Path(__file__).parents[2] / "data" / "pyvrp-instances"
SOLVER = PyVrpSolver()


def line_instance(
    xs: list[int],
    *,
    demand: list[int] | None = None,
    early: list[int] | None = None,
    late: list[int] | None = None,
    service: int = 0,
    capacity: int = 100,
    count: int = 1,
    shift: int = 1 << 40,
) -> VrpInstance:
    """Locations on a line at ``xs`` (the first is the depot); distance = duration."""
    pts = np.array(xs, dtype=np.int64)
    dist = np.abs(pts[:, None] - pts[None, :])
    n = len(xs)
    return VrpInstance(
        n_depots=1,
        distance=dist,
        duration=dist.copy(),
        demand=np.array([[0]] + [[d] for d in (demand or [1] * (n - 1))], dtype=np.int64),
        tw_early=np.array(early or [0] * n, dtype=np.int64),
        tw_late=np.array(late or [10**9] * n, dtype=np.int64),
        service=np.array([0] + [service] * (n - 1), dtype=np.int64),
        vehicle_types=(VehicleType(count=count, capacity=(capacity,), shift=shift),),
    )


def test_the_checker_counts_distance_and_finds_every_broken_rule():
    inst = line_instance([0, 10, 20, 30], demand=[5, 5, 5], capacity=10)
    one = RoutingSolution((Route(0, (1, 2, 3)),))
    got = evaluate(inst, one)
    assert got.distance == 60 and not got.feasible
    assert any("over the capacity" in p for p in got.problems)
    missing = evaluate(inst, RoutingSolution((Route(0, (1, 2)),)))
    assert any("not visited" in p for p in missing.problems)
    twice = evaluate(inst, RoutingSolution((Route(0, (1, 2, 2, 3)),)))
    assert any("more than once" in p for p in twice.problems)
    two = evaluate(inst, RoutingSolution((Route(0, (1, 2)), Route(0, (3,)))))
    assert any("2 routes, 1 vehicles" in p for p in two.problems)


def test_windows_wait_when_early_and_fail_when_late():
    inst = line_instance([0, 10, 20], early=[0, 50, 0], late=[1000, 60, 65])
    assert evaluate(inst, RoutingSolution((Route(0, (1, 2)),))).feasible  # waits at 1
    inst = line_instance([0, 10, 20], late=[1000, 15, 1000])
    assert evaluate(inst, RoutingSolution((Route(0, (1, 2)),))).feasible
    late = evaluate(inst, RoutingSolution((Route(0, (2, 1)),)))
    assert not late.feasible and "window closes" in late.problems[0]
    closed = line_instance([0, 10, 20], late=[30, 1000, 1000])
    shut = evaluate(closed, RoutingSolution((Route(0, (1, 2)),)))
    assert not shut.feasible and "depot closes" in shut.problems[0]


def test_a_shift_counts_from_the_latest_departure_not_the_depot_opening():
    """The first stop opens at 500: leaving at 490 the route takes 30, within a shift of
    40, though leaving when the depot opens (0) it would take 520."""
    inst = line_instance([0, 10, 20], early=[0, 500, 0], late=[10**6, 600, 10**6], shift=40)
    assert evaluate(inst, RoutingSolution((Route(0, (1, 2)),))).feasible
    tight = line_instance([0, 10, 20], early=[0, 500, 0], late=[10**6, 600, 10**6], shift=39)
    assert not evaluate(tight, RoutingSolution((Route(0, (1, 2)),))).feasible


def _route_problems(ev) -> list[str]:
    return [p for p in ev.problems if p.startswith("routes[")]


def _brute_force(inst: VrpInstance) -> int:
    """The optimum over every split of the clients into routes and every order."""
    clients = list(inst.clients)
    best = 1 << 62
    vt = inst.vehicle_types[0]
    for labels in itertools.product(range(vt.count), repeat=len(clients)):
        groups = [
            [c for c, g in zip(clients, labels, strict=True) if g == k] for k in range(vt.count)
        ]
        total = 0
        for g in groups:
            if not g:
                continue
            least = min(
                (
                    e.distance
                    for perm in itertools.permutations(g)
                    if not _route_problems(e := evaluate(inst, RoutingSolution((Route(0, perm),))))
                ),
                default=None,
            )
            if least is None:
                total = 1 << 62
                break
            total += least
        best = min(best, total)
    return best


def _random_instance(seed: int, n: int) -> VrpInstance:
    rng = random.Random(seed)
    pts = [(0, 0)] + [(rng.randint(-50, 50), rng.randint(-50, 50)) for _ in range(n)]
    xy = np.array(pts, dtype=np.float64)
    dist = np.floor(np.sqrt(((xy[:, None] - xy[None, :]) ** 2).sum(axis=2))).astype(np.int64)
    early = [0] + [rng.choice([0, 0, rng.randint(0, 150)]) for _ in range(n)]
    late = [10**6] + [e + rng.choice([10**6, 120, 200]) for e in early[1:]]
    return VrpInstance(
        n_depots=1,
        distance=dist,
        duration=dist.copy(),
        demand=np.array([[0]] + [[rng.randint(1, 4)] for _ in range(n)], dtype=np.int64),
        tw_early=np.array(early, dtype=np.int64),
        tw_late=np.array(late, dtype=np.int64),
        service=np.array([0] + [5] * n, dtype=np.int64),
        vehicle_types=(VehicleType(count=2, capacity=(8,)),),
    )


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6))
def test_pyvrp_reaches_the_enumerated_optimum_on_small_instances(seed, n):
    """Independent answer: every split into two routes and every order, checked by
    ``evaluate``. PyVRP's routes are feasible by the checker and as short as the best."""
    inst = _random_instance(seed, n)
    best = _brute_force(inst)
    got = SOLVER(inst, time_limit_s=0.5, seed=1)
    ev = evaluate(inst, got)
    if best >= 1 << 62:
        assert not ev.feasible
        return
    assert ev.feasible, ev.problems
    assert ev.distance == best


def test_a_gehring_homberger_instance_and_its_best_known_solution_read_as_published():
    inst = read_vrptw(DATA / "R1_10_1.vrp")
    assert inst.n == 1001 and inst.vehicle_types[0].capacity == (200,)
    assert int(inst.service[1]) == 100  # 10.0 in tenths
    bks, cost = read_solution(DATA / "R1_10_1.sol")
    ev = evaluate(inst, bks)
    assert ev.feasible, ev.problems[:3]
    assert ev.distance / 10 == pytest.approx(cost, abs=1e-9)


def test_a_short_solve_of_a_1000_customer_instance_is_feasible():
    inst = read_vrptw(DATA / "R1_10_1.vrp")
    bks, cost = read_solution(DATA / "R1_10_1.sol")
    got = SOLVER(inst, time_limit_s=3, seed=1)
    ev = evaluate(inst, got)
    assert ev.feasible, ev.problems[:3]
    assert ev.distance / 10 >= cost * (1 - 1e-9)  # never below the best known
    warm = SOLVER(inst, time_limit_s=1, seed=1, initial=bks)
    assert evaluate(inst, warm).distance / 10 == pytest.approx(cost)


def test_bad_vrplib_files_are_refused_naming_the_problem(tmp_path):
    bad = tmp_path / "bad.vrp"
    bad.write_text("NAME : x\nDIMENSION : 3\n")
    with pytest.raises(InvalidInput, match="CAPACITY"):
        read_vrptw(bad)
    short = tmp_path / "short.vrp"
    short.write_text(
        "NAME : x\nDIMENSION : 3\nCAPACITY : 10\nNODE_COORD_SECTION\n1 0 0\n2 1 1\n"
        "DEMAND_SECTION\n1 0\n2 1\nTIME_WINDOW_SECTION\n1 0 9\n2 0 9\nDEPOT_SECTION\n1\n-1\nEOF\n"
    )
    with pytest.raises(InvalidInput, match="DIMENSION"):
        read_vrptw(short)
    for header in ("VEHICLES : many\n", "SERVICE_TIME : nan\n", "VEHICLES : 0\n"):
        odd = tmp_path / "odd.vrp"
        odd.write_text(short.read_text().replace("CAPACITY : 10\n", f"CAPACITY : 10\n{header}"))
        with pytest.raises(InvalidInput):
            read_vrptw(odd)
    huge = tmp_path / "huge.vrp"
    huge.write_text("NAME : x\nDIMENSION : 20000\nCAPACITY : 10\n")
    with pytest.raises(InvalidInput, match="DIMENSION"):
        read_vrptw(huge)  # refused before any matrix is built


def _parcels(n: int, seed: int = 3) -> tuple[Parcel, ...]:
    rng = random.Random(seed)
    return tuple(
        Parcel(
            f"p{i}",
            Place(52.52 + rng.uniform(-0.1, 0.1), 13.40 + rng.uniform(-0.15, 0.15)),
            mass_g=rng.randint(100, 2000),
            volume_ml=1000,
            window=(8 * 3600, 18 * 3600),
        )
        for i in range(n)
    )


def test_deliveries_are_routed_and_the_figures_are_recomputed():
    depot = Place(52.52, 13.40)
    problem = DeliveryProblem(_parcels(40), (Fleet(VAN, 5, depot, 7 * 3600, 20 * 3600),))
    solution, rep = plan_deliveries(problem, SOLVER, time_limit_s=1.0)
    assert rep.feasible and rep.stops == 40
    assert rep.distance_km < rep.direct_distance_km / 4
    assert rep.co2_kg == pytest.approx(rep.distance_km * VAN.co2_kg_per_km)
    assert rep.direct_co2_kg == pytest.approx(rep.direct_distance_km * VAN.co2_kg_per_km)
    built = build(problem)
    assert evaluate(built.instance, solution).distance == pytest.approx(rep.distance_km * 1000)


def test_a_parcel_heavier_than_any_vehicle_is_not_silently_dropped():
    depot = Place(52.52, 13.40)
    heavy = Parcel("heavy", Place(52.53, 13.41), mass_g=2_000_000, volume_ml=1000)
    problem = DeliveryProblem((heavy, *_parcels(5)), (Fleet(VAN, 2, depot),))
    _, rep = plan_deliveries(problem, SOLVER, time_limit_s=0.5)
    assert not rep.feasible and any("capacity" in p for p in rep.problems)


def test_modes_name_their_sources_and_an_unsourced_factor_must_be_set():
    for mode in MODES.values():
        assert mode.co2_source
    assert CARGO_BIKE.co2_kg_per_km is None and "UNSOURCED" in CARGO_BIKE.co2_source
    depot = Place(52.52, 13.40)
    problem = DeliveryProblem(_parcels(5), (Fleet(CARGO_BIKE.with_(speed_kmh=30.0), 2, depot),))
    with pytest.raises(InvalidInput) as caught:
        plan_deliveries(problem, SOLVER, time_limit_s=0.3)
    assert caught.value.field == "modes.cargo_bike.co2_kg_per_km"
    with pytest.raises(InvalidInput):
        VAN.with_(capacity_kg=0)


def test_the_sector_solver_visits_every_stop_once_within_its_budget():
    """Two sectors solved on two cores, then joined and improved: every client once,
    the checker's rules kept, within the budget (and a tiny instance goes to one search)."""
    inst = read_vrptw(DATA / "R1_10_1.vrp")
    got = DecomposedPyVrp(workers=2)(inst, time_limit_s=4.0, seed=1)
    ev = evaluate(inst, got)
    assert ev.feasible, ev.problems[:3]
    assert got.seconds < 6.0
    small = _random_instance(5, 6)
    assert evaluate(small, DecomposedPyVrp(workers=2)(small, time_limit_s=0.3)).feasible

"""Parcels to deliver, the fleets that carry them, and what a plan costs in km, money and
CO2: the bridge between places on Earth and the integer VrpInstance.

Distances are great-circle kilometres times ``detour`` (a road network's excess over the
straight line: an operator's parameter, 1.0 by default, since fabnet has no road network
offline). A vehicle's time is its distance over the mode's speed, plus each stop's
service time. Windows are seconds from the start of the delivery day.

Baselines from the same parcels: **direct**, each parcel its own van round trip from its
depot; **carrier**, every parcel by the parcel carrier, at its tonne-km factor over the
depot-to-door distance.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import EARTH_RADIUS_KM, Place
from fabnet.routing.instance import (
    NO_LIMIT,
    RoutingSolution,
    VehicleType,
    VrpInstance,
    VrpSolver,
    evaluate,
)
from fabnet.routing.modes import CARRIER, VAN, Mode

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class Parcel:
    id: str
    place: Place
    mass_g: int
    volume_ml: int
    window: tuple[float, float] = (0.0, DAY_S)  # seconds from the day's start
    service_s: float = 180.0

    def __post_init__(self) -> None:
        if self.mass_g < 1 or self.volume_ml < 1:
            raise InvalidInput(f"parcels.{self.id}", "mass and volume must be >= 1")
        lo, hi = self.window
        if not (0 <= lo <= hi <= 7 * DAY_S):
            raise InvalidInput(f"parcels.{self.id}.window", "must be 0 <= opens <= closes")


@dataclass(frozen=True, slots=True)
class Fleet:
    mode: Mode
    count: int
    depot: Place
    opens_s: float = 0.0
    closes_s: float = DAY_S


@dataclass(frozen=True)
class DeliveryProblem:
    parcels: tuple[Parcel, ...]
    fleets: tuple[Fleet, ...]
    detour: float = 1.0
    speed_kmh: float | None = None  # one speed for every fleet (None: theirs, all alike)

    def __post_init__(self) -> None:
        if not self.fleets:
            raise InvalidInput("fleets", "at least one fleet")
        if not (math.isfinite(self.detour) and 1.0 <= self.detour <= 3.0):
            raise InvalidInput("detour", "must be in [1, 3]")
        if len({p.id for p in self.parcels}) != len(self.parcels):
            raise InvalidInput("parcels", "ids must be unique")


def great_circle_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    out: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return out


@dataclass(frozen=True)
class Built:
    instance: VrpInstance
    km: np.ndarray  # (n, n) road km
    depots: tuple[Place, ...]


def build(problem: DeliveryProblem) -> Built:
    """The integer instance (metres, seconds, grams and millilitres)."""
    depots: list[Place] = []
    for f in problem.fleets:
        if f.depot not in depots:
            depots.append(f.depot)
    places = depots + [p.place for p in problem.parcels]
    lat = np.array([p.lat for p in places])
    lon = np.array([p.lon for p in places])
    km = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * problem.detour
    speeds = {f.mode.speed_kmh for f in problem.fleets}
    if problem.speed_kmh is None and len(speeds) != 1:
        raise InvalidInput("fleets", "one speed for all the fleets of a plan (for now)")
    speed = problem.speed_kmh or speeds.pop()
    n_d = len(depots)
    demand = np.zeros((len(places), 2), dtype=np.int64)
    demand[n_d:, 0] = [p.mass_g for p in problem.parcels]
    demand[n_d:, 1] = [p.volume_ml for p in problem.parcels]
    early = np.zeros(len(places), dtype=np.int64)
    late = np.full(len(places), int(DAY_S), dtype=np.int64)
    for i, f in enumerate(problem.fleets):
        d = depots.index(f.depot)
        early[d], late[d] = int(f.opens_s), int(f.closes_s)
        del i
    early[n_d:] = [int(p.window[0]) for p in problem.parcels]
    late[n_d:] = [int(p.window[1]) for p in problem.parcels]
    service = np.zeros(len(places), dtype=np.int64)
    service[n_d:] = [round(p.service_s) for p in problem.parcels]
    types = tuple(
        VehicleType(
            count=f.count,
            capacity=(round(f.mode.capacity_kg * 1000), round(f.mode.capacity_l * 1000)),
            depot=depots.index(f.depot),
            shift=round(f.mode.shift_h * 3600),
            max_distance=round(f.mode.range_km * 1000) if f.mode.range_km < 1e6 else NO_LIMIT,
            unit_distance_cost=1,
            name=f.mode.name,
        )
        for f in problem.fleets
    )
    instance = VrpInstance(
        n_depots=n_d,
        distance=np.rint(km * 1000).astype(np.int64),
        duration=np.rint(km / speed * 3600).astype(np.int64),
        demand=demand,
        tw_early=early,
        tw_late=late,
        service=service,
        vehicle_types=types,
        names=tuple(["depot"] * n_d + [p.id for p in problem.parcels]),
        xy=np.column_stack(  # km east and north of the first depot (equirectangular)
            [
                np.radians(lon - lon[0]) * np.cos(np.radians(lat[0])) * EARTH_RADIUS_KM,
                np.radians(lat - lat[0]) * EARTH_RADIUS_KM,
            ]
        ),
    )
    return Built(instance, km, tuple(depots))


@dataclass(frozen=True)
class DeliveryReport:
    stops: int
    routes: int
    distance_km: float
    co2_kg: float
    cost: float
    plan_s: float
    feasible: bool
    problems: tuple[str, ...]
    direct_distance_km: float
    direct_co2_kg: float
    carrier_co2_kg: float


def _factor(mode: Mode) -> float:
    if mode.co2_kg_per_km is None:
        raise InvalidInput(f"modes.{mode.name}.co2_kg_per_km", f"not set ({mode.co2_source})")
    return mode.co2_kg_per_km


def report(problem: DeliveryProblem, built: Built, solution: RoutingSolution) -> DeliveryReport:
    """The plan's figures, recomputed from the instance, and the two baselines."""
    ev = evaluate(built.instance, solution)
    km = co2 = cost = 0.0
    stops = 0
    for route, metres in zip(solution.routes, ev.route_distance, strict=True):
        if not route.visits:
            continue
        mode = problem.fleets[route.vehicle_type].mode
        km += metres / 1000
        co2 += metres / 1000 * _factor(mode)
        cost += metres / 1000 * mode.cost_per_km + len(route.visits) * mode.cost_per_stop
        stops += len(route.visits)
    n_d = built.instance.n_depots
    home = built.km[:n_d, n_d:].min(axis=0)  # each parcel's nearest depot
    mass_t = np.array([p.mass_g for p in problem.parcels]) / 1e6
    direct_km = float(2 * home.sum())
    carrier_tkm = CARRIER.co2_kg_per_tkm or 0.0
    return DeliveryReport(
        stops=stops,
        routes=sum(1 for r in solution.routes if r.visits),
        distance_km=km,
        co2_kg=co2,
        cost=cost,
        plan_s=solution.seconds,
        feasible=ev.feasible,
        problems=ev.problems,
        direct_distance_km=direct_km,
        direct_co2_kg=direct_km * _factor(VAN),
        carrier_co2_kg=float((home * mass_t).sum() * carrier_tkm),
    )


def plan_deliveries(
    problem: DeliveryProblem, solver: VrpSolver, *, time_limit_s: float = 10.0, seed: int = 0
) -> tuple[RoutingSolution, DeliveryReport]:
    """Routes for the parcels within ``time_limit_s`` (instance building included)."""
    started = time.perf_counter()
    built = build(problem)
    left = max(0.1, time_limit_s - (time.perf_counter() - started))
    solution = solver(built.instance, time_limit_s=left, seed=seed)
    solution = RoutingSolution(solution.routes, time.perf_counter() - started, solution.solver)
    return solution, report(problem, built, solution)

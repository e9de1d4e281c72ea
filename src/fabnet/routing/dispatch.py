"""A routing wave: which parcels go how, and the couriers' routes, in bounded time.

For each waiting parcel the wave weighs its options by the operator's generalised cost
(money + value of time x hours + carbon price x kg CO2e; ``Weights``):

- **courier through a hub**: a land courier (van, cargo bike, ride-share driver) based
  at a hub within ``local_radius_km`` of both ends collects it on a route from the hub
  (first echelon) and, unless the destination is the hub itself, another route delivers
  it from the hub (second echelon). Its figures are estimated before routing from the
  consolidation factor (routed km per km of direct round trips, measured by routing runs:
  ``benchmarks/routing.py``), then measured on the routes the solver makes;
- **drone**: a drone based within range flies base -> pickup -> drop -> base, one parcel
  a trip, if the parcel is within its payload and the flight crosses no no-fly area and
  no area grounded by weather (routing/airspace.py);
- **parcel carrier**: door to door, days on the way by the hub's distance bands, the
  same bands the production planner plans with (a band of 0 days is the hub's same-day
  service: ``same_day_h`` hours), CO2 at the carrier's tonne-km factor.

An option that arrives by the parcel's deadline wins over one that does not. The land
parcels of each hub are then routed: the second-echelon deliveries first (the parcels
are at the hub now), then the collections, each courier one route of each, through the
``VrpSolver`` port. Every route is walked again here (capacity, shift, range): a stop
that breaks a rule stays waiting, with the reason. A parcel already picked up is never
given to this function, so it is never moved to another courier.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Place
from fabnet.routing.deliveries import DeliveryProblem, Fleet, Parcel, build
from fabnet.routing.instance import Route, RoutingSolution, VrpInstance, VrpSolver
from fabnet.routing.modes import DRONE, Mode
from fabnet.routing.policy import CARRIER_MODE, LogisticsPolicy, Weights


@dataclass(frozen=True, slots=True)
class Waiting:
    """A parcel waiting for a route: at its producer, or at a hub after a first leg."""

    id: str
    origin: Place
    destination: Place
    mass_g: int
    volume_ml: int
    due: datetime
    at_hub: bool = False


@dataclass(frozen=True, slots=True)
class Courier:
    id: str
    mode: Mode
    base: Place
    free_from: datetime | None = None  # None: free now


@dataclass(frozen=True, slots=True)
class LegPlan:
    parcel_id: str
    mode: str
    courier_id: str | None
    route_id: str
    stop: int
    to: Place
    to_hub: bool
    pickup_eta: datetime
    eta: datetime
    distance_km: float
    co2_kg: float


@dataclass(frozen=True, slots=True)
class RouteSummary:
    route_id: str
    courier_id: str
    mode: str
    kind: str  # collect | deliver | fly
    stops: int
    parcels: int
    distance_km: float
    co2_kg: float
    starts: datetime
    ends: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "route_id": self.route_id,
            "courier_id": self.courier_id,
            "mode": self.mode,
            "kind": self.kind,
            "stops": self.stops,
            "parcels": self.parcels,
            "distance_km": round(self.distance_km, 3),
            "co2_kg": round(self.co2_kg, 4),
            "starts": self.starts.isoformat(),
            "ends": self.ends.isoformat(),
        }


@dataclass
class Wave:
    legs: dict[str, LegPlan] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)  # parcel id -> why it waits
    routes: list[RouteSummary] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Option:
    kind: str  # courier | drone | carrier
    cost: float
    hours: float
    co2_kg: float
    hub: Place | None = None
    courier_id: str | None = None

    def score(self, w: Weights) -> float:
        return self.cost + w.value_of_time_per_h * self.hours + w.co2_price_per_kg * self.co2_kg


def co2_factor(mode: Mode) -> float:
    if mode.co2_kg_per_km is None and mode.co2_kg_per_tkm is None:
        raise InvalidInput(f"modes.{mode.name}.co2_kg_per_km", f"not set ({mode.co2_source})")
    return mode.co2_kg_per_km or 0.0


def carrier_option(p: Waiting, policy: LogisticsPolicy) -> Option | None:
    km = p.origin.distance_km(p.destination) * policy.detour
    days = policy.transit_days(km)
    if days is None:
        return None
    carrier = policy.mode(CARRIER_MODE)
    if p.mass_g > carrier.capacity_kg * 1000 or p.volume_ml > carrier.capacity_l * 1000:
        return None
    co2 = km * p.mass_g / 1e6 * (carrier.co2_kg_per_tkm or 0.0)
    cost = carrier.cost_per_stop + km * carrier.cost_per_km
    days = max(days, policy.carrier_min_days)
    return Option("carrier", cost, 24.0 * days if days else policy.same_day_h, co2)


def drone_option(p: Waiting, drones: Sequence[Courier], policy: LogisticsPolicy) -> Option | str:
    """The nearest drone that may fly this parcel, or why none may."""
    why = "no drone is based within range"
    best: Option | None = None
    for d in drones:
        m = d.mode
        if p.mass_g > m.capacity_kg * 1000 or p.volume_ml > m.capacity_l * 1000:
            why = f"heavier or larger than a drone carries ({m.capacity_kg:g} kg)"
            continue
        path = (d.base, p.origin, p.destination, d.base)
        km = sum(a.distance_km(b) for a, b in itertools.pairwise(path))
        if km > m.range_km:
            continue
        refused = policy.airspace.why_not(path)
        if refused:
            why = refused
            continue
        option = Option(
            "drone",
            km * m.cost_per_km + m.cost_per_stop,
            km / m.speed_kmh,
            km * co2_factor(m),
            courier_id=d.id,
        )
        if best is None or option.score(policy.weights) < best.score(policy.weights):
            best = option
    return best if best is not None else why


def courier_option(
    p: Waiting, hubs: dict[Place, list[Courier]], policy: LogisticsPolicy
) -> Option | None:
    """Through the nearest hub whose couriers reach both ends (estimated figures)."""
    best: Option | None = None
    for hub, couriers in hubs.items():
        if p.at_hub and hub.distance_km(p.origin) > policy.hub_radius_km:
            continue  # a parcel at a hub leaves from that hub
        d_in = 0.0 if p.at_hub else hub.distance_km(p.origin)
        d_out = hub.distance_km(p.destination)
        if d_in > policy.local_radius_km or d_out > policy.local_radius_km:
            continue
        if not any(_fits(p, c.mode) for c in couriers):
            continue
        mode = max(couriers, key=lambda c: c.mode.capacity_kg).mode
        legs = (0 if p.at_hub else 1) + (0 if d_out <= policy.hub_radius_km else 1)
        km = policy.consolidation * 2 * (d_in + d_out) * policy.detour
        option = Option(
            "courier",
            km * mode.cost_per_km + legs * mode.cost_per_stop,
            legs * mode.shift_h / 2,  # an estimate: each leg within half a shift on average
            km * co2_factor(mode),
            hub=hub,
        )
        if best is None or option.score(policy.weights) < best.score(policy.weights):
            best = option
    return best


def _fits(p: Waiting, mode: Mode) -> bool:
    return p.mass_g <= mode.capacity_kg * 1000 and p.volume_ml <= mode.capacity_l * 1000


def choose(
    p: Waiting,
    *,
    now: datetime,
    hubs: dict[Place, list[Courier]],
    drones: Sequence[Courier],
    policy: LogisticsPolicy,
) -> Option | str:
    """The best option for ``p`` (on time first, then by generalised cost), or why none."""
    options: list[Option] = []
    reasons: list[str] = []
    courier = courier_option(p, hubs, policy)
    if courier is not None:
        options.append(courier)
    if not p.at_hub:
        drone = drone_option(p, drones, policy)
        if isinstance(drone, Option):
            options.append(drone)
        elif drones:
            reasons.append(f"drone: {drone}")
        carrier = carrier_option(p, policy)
        if carrier is not None:
            options.append(carrier)
        else:
            reasons.append("carrier: too heavy or large, or the destination is unreachable")
    if not options:
        heaviest = max((m.capacity_kg for m in policy.modes.values()), default=0.0)
        if p.mass_g > heaviest * 1000:
            return f"{p.mass_g / 1000:g} kg is heavier than any vehicle ({heaviest:g} kg)"
        return "no mode can carry it: " + ("; ".join(reasons) or "no courier serves the hub")
    left_h = (p.due - now).total_seconds() / 3600

    def rank(o: Option) -> tuple[bool, float]:
        return (o.hours > left_h, o.score(policy.weights))

    return min(options, key=rank)


def plan_wave(
    parcels: Sequence[Waiting],
    couriers: Sequence[Courier],
    *,
    now: datetime,
    policy: LogisticsPolicy,
    solver: VrpSolver,
    seed: int = 0,
) -> Wave:
    """Legs for the parcels that can go now, and why the others wait."""
    started = time.perf_counter()
    wave = Wave()
    drones = [c for c in couriers if c.mode.name == DRONE.name]
    hubs: dict[Place, list[Courier]] = defaultdict(list)
    for c in couriers:
        if c.mode.name not in (DRONE.name, CARRIER_MODE):
            hubs[_hub_of(c.base, hubs, policy)].append(c)
    by_hub: dict[Place, list[Waiting]] = defaultdict(list)
    by_drone: dict[str, list[Waiting]] = defaultdict(list)
    for p in sorted(parcels, key=lambda p: (p.due, p.id)):
        option = choose(p, now=now, hubs=hubs, drones=drones, policy=policy)
        if isinstance(option, str):
            wave.waiting[p.id] = option
        elif option.kind == "courier":
            assert option.hub is not None
            by_hub[option.hub].append(p)
        elif option.kind == "drone":
            assert option.courier_id is not None
            by_drone[option.courier_id].append(p)
        else:
            _carrier_leg(p, now, policy, wave)
    for d in drones:
        _fly(d, by_drone.get(d.id, []), now, policy, wave)
    total = sum(len(v) for v in by_hub.values()) or 1
    for hub, members in by_hub.items():
        share = policy.budget_s * len(members) / total
        _HubRoutes(hub, hubs[hub], now, policy, solver, seed, wave).route(members, share)
    wave.seconds = time.perf_counter() - started
    return wave


def _hub_of(base: Place, hubs: dict[Place, list[Courier]], policy: LogisticsPolicy) -> Place:
    for hub in hubs:
        if hub.distance_km(base) <= policy.hub_radius_km:
            return hub
    return base


def _carrier_leg(p: Waiting, now: datetime, policy: LogisticsPolicy, wave: Wave) -> None:
    option = carrier_option(p, policy)
    assert option is not None
    km = p.origin.distance_km(p.destination) * policy.detour
    wave.legs[p.id] = LegPlan(
        parcel_id=p.id,
        mode=CARRIER_MODE,
        courier_id=None,
        route_id=f"carrier-{now:%Y%m%dT%H%M}",
        stop=0,
        to=p.destination,
        to_hub=False,
        pickup_eta=now,
        eta=now + timedelta(hours=option.hours),
        distance_km=km,
        co2_kg=option.co2_kg,
    )


def _fly(
    d: Courier, parcels: list[Waiting], now: datetime, policy: LogisticsPolicy, w: Wave
) -> None:
    """One parcel a trip, back to back, while the drone's shift lasts."""
    m = d.mode
    t = max(now, d.free_from or now)
    end = t + timedelta(hours=m.shift_h)
    route_id = f"rte-{now:%Y%m%dT%H%M}-{d.id}-fly"
    km_all = co2_all = 0.0
    first, n = t, 0
    for p in parcels:
        legs = [d.base.distance_km(p.origin), p.origin.distance_km(p.destination)]
        back = p.destination.distance_km(d.base)
        km = sum(legs) + back
        done = t + timedelta(hours=km / m.speed_kmh)
        if done > end:
            w.waiting[p.id] = "the drone's flying time for this wave is used up"
            continue
        pickup = t + timedelta(hours=legs[0] / m.speed_kmh)
        w.legs[p.id] = LegPlan(
            p.id, m.name, d.id, route_id, n, p.destination, False, pickup,
            pickup + timedelta(hours=legs[1] / m.speed_kmh), km, km * co2_factor(m),
        )  # fmt: skip
        km_all += km
        co2_all += km * co2_factor(m)
        t, n = done, n + 1
    if n:
        w.routes.append(
            RouteSummary(route_id, d.id, m.name, "fly", n, n, km_all, co2_all, first, t)
        )


@dataclass
class _Stop:
    place: Place
    parcels: list[Waiting]

    @property
    def mass_g(self) -> int:
        return sum(p.mass_g for p in self.parcels)

    @property
    def volume_ml(self) -> int:
        return sum(p.volume_ml for p in self.parcels)


def _stops(parcels: list[Waiting], where: str, cap: tuple[float, float]) -> list[_Stop]:
    """Parcels at one place make one stop, split where a stop outgrows a vehicle."""
    out: dict[tuple[float, float], list[_Stop]] = defaultdict(list)
    for p in parcels:
        place = p.origin if where == "origin" else p.destination
        key = (round(place.lat, 5), round(place.lon, 5))
        stops = out[key]
        if (
            not stops
            or stops[-1].mass_g + p.mass_g > cap[0]
            or stops[-1].volume_ml + p.volume_ml > cap[1]
        ):
            stops.append(_Stop(place, []))
        stops[-1].parcels.append(p)
    return [s for group in out.values() for s in group]


@dataclass
class _HubRoutes:
    """One hub's routing in a wave: its couriers, when each is free, the wave it adds to."""

    hub: Place
    couriers: list[Courier]
    now: datetime
    policy: LogisticsPolicy
    solver: VrpSolver
    seed: int
    wave: Wave
    free: dict[str, datetime] = field(default_factory=dict)

    def route(self, parcels: list[Waiting], budget_s: float) -> None:
        """Deliveries from the hub first (those parcels are there now), then collections."""
        self.free = {c.id: max(self.now, c.free_from or self.now) for c in self.couriers}
        deliver = [p for p in parcels if p.at_hub]
        collect = [p for p in parcels if not p.at_hub]
        for kind, group in (("deliver", deliver), ("collect", collect)):
            if group:
                self._solve(kind, group, budget_s / 2)

    def _solve(self, kind: str, parcels: list[Waiting], budget_s: float) -> None:
        couriers, policy = self.couriers, self.policy
        biggest = max(couriers, key=lambda c: c.mode.capacity_kg).mode
        stops = _stops(
            parcels,
            "destination" if kind == "deliver" else "origin",
            (biggest.capacity_kg * 1000, biggest.capacity_l * 1000),
        )
        if len(stops) > policy.max_stops_per_hub:  # bounded before the matrices are built
            stops.sort(key=lambda s: min(p.due for p in s.parcels))
            for s in stops[policy.max_stops_per_hub :]:
                for p in s.parcels:
                    self.wave.waiting[p.id] = (
                        f"over the {policy.max_stops_per_hub} stops a hub routes in one wave"
                    )
            stops = stops[: policy.max_stops_per_hub]
        start = min(self.free.values())
        problem = DeliveryProblem(
            parcels=tuple(
                Parcel(
                    id=f"s{i}",
                    place=s.place,
                    mass_g=max(1, s.mass_g),
                    volume_ml=max(1, s.volume_ml),
                    window=(0.0, _window_s(s, kind, start, biggest)),
                )
                for i, s in enumerate(stops)
            ),
            fleets=tuple(Fleet(c.mode, 1, self.hub) for c in couriers),
            detour=policy.detour,
            speed_kmh=min(c.mode.speed_kmh for c in couriers),
        )
        built = build(problem)
        inst = built.instance
        if len(stops) == 1:  # nothing to search: one stop, the first courier
            solution = RoutingSolution((Route(0, (inst.n_depots,)),), solver="one stop")
        else:
            solution = self.solver(inst, time_limit_s=max(0.05, budget_s), seed=self.seed)
        served: set[int] = set()
        for route in solution.routes:
            if not route.visits:
                continue
            c = couriers[route.vehicle_type]
            kept = _walk(inst, route.visits, c.mode)
            if kept:
                served.update(kept)
                self._legs(kind, c, kept, stops, inst)
        for i, s in enumerate(stops):
            if i + inst.n_depots not in served:
                for p in s.parcels:
                    self.wave.waiting[p.id] = "no courier of the hub has room for it in this wave"

    def _legs(
        self, kind: str, c: Courier, kept: list[int], stops: list[_Stop], inst: VrpInstance
    ) -> None:
        hub, n_depots = self.hub, inst.n_depots
        depart = self.free[c.id]
        route_id = f"rte-{self.now:%Y%m%dT%H%M}-{c.id}-{kind}"
        path = [0, *kept, 0]
        arrive: list[int] = []
        t = 0
        for a, b in itertools.pairwise(path):
            t += int(inst.duration[a, b])
            if b != 0:
                arrive.append(t)
                t += int(inst.service[b])
        end = depart + timedelta(seconds=t)
        route_km = _path_m(inst, path) / 1000
        route_co2 = route_km * co2_factor(c.mode)
        # the route's km and CO2 shared by tonne-km (GLEC-style allocation): each parcel's
        # mass times its distance from the hub
        weight = {
            p.id: p.mass_g * max(hub.distance_km(stops[v - n_depots].place), 1e-3)
            for v in kept
            for p in stops[v - n_depots].parcels
        }
        total = sum(weight.values())
        parcels = 0
        for order, (v, at_s) in enumerate(zip(kept, arrive, strict=True)):
            at_stop = depart + timedelta(seconds=at_s)
            for p in stops[v - n_depots].parcels:
                share = weight[p.id] / total
                direct = (
                    kind == "collect"
                    and p.destination.distance_km(hub) <= self.policy.hub_radius_km
                )
                self.wave.legs[p.id] = LegPlan(
                    parcel_id=p.id,
                    mode=c.mode.name,
                    courier_id=c.id,
                    route_id=route_id,
                    stop=order,
                    to=p.destination if (kind == "deliver" or direct) else hub,
                    to_hub=kind == "collect" and not direct,
                    pickup_eta=at_stop if kind == "collect" else depart,
                    eta=end if kind == "collect" else at_stop,
                    distance_km=route_km * share,
                    co2_kg=route_co2 * share,
                )
                parcels += 1
        self.free[c.id] = end
        self.wave.routes.append(
            RouteSummary(
                route_id,
                c.id,
                c.mode.name,
                kind,
                len(kept),
                parcels,
                route_km,
                route_co2,
                depart,
                end,
            )
        )


def _path_m(inst: VrpInstance, path: list[int]) -> int:
    return sum(int(inst.distance[a, b]) for a, b in itertools.pairwise(path))


def _window_s(stop: _Stop, kind: str, start: datetime, mode: Mode) -> float:
    """Deliveries by their earliest deadline (never tighter than the shift allows: a
    window no route can meet would make the whole instance infeasible); collections any
    time in the shift."""
    shift_s = mode.shift_h * 3600
    if kind == "collect":
        return shift_s
    due = min(p.due for p in stop.parcels)
    return min(shift_s, max((due - start).total_seconds(), shift_s / 2))


def _walk(inst: VrpInstance, visits: tuple[int, ...], mode: Mode) -> list[int]:
    """The longest prefix of ``visits`` that keeps capacity, range and shift."""
    kept: list[int] = []
    mass = vol = 0
    for v in visits:
        mass += int(inst.demand[v, 0])
        vol += int(inst.demand[v, 1])
        if mass > mode.capacity_kg * 1000 or vol > mode.capacity_l * 1000:
            break
        path = [0, *kept, v, 0]
        dist = _path_m(inst, path)
        dur = sum(
            int(inst.duration[a, b]) + int(inst.service[b]) for a, b in itertools.pairwise(path)
        )
        if dist > mode.range_km * 1000 or dur > mode.shift_h * 3600:
            break
        kept.append(v)
    return kept


__all__ = ["CARRIER_MODE", "LogisticsPolicy", "Weights", "plan_wave"]

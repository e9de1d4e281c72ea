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
``VrpSolver`` port (routing/hub_routes.py). Every route is walked again there (capacity,
shift, range): a stop that breaks a rule stays waiting, with the reason. A parcel
already picked up is never given to this function, so it is never moved to another
courier. The wave's own types (routing/wave.py) are exported here too.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fabnet.domain.units import Place
from fabnet.routing.hub_routes import HubRoutes, co2_factor
from fabnet.routing.instance import VrpSolver
from fabnet.routing.modes import DRONE, Mode
from fabnet.routing.policy import CARRIER_MODE, LogisticsPolicy, Weights
from fabnet.routing.wave import Courier, LegPlan, RouteSummary, Waiting, Wave


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
        HubRoutes(hub, hubs[hub], now, policy, solver, seed, wave).route(members, share)
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


__all__ = [
    "Courier",
    "LegPlan",
    "Option",
    "RouteSummary",
    "Waiting",
    "Wave",
    "choose",
    "plan_wave",
]

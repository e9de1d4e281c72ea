"""One hub's land routes in a wave: its second-echelon deliveries (the parcels are at
the hub), then its collections, each courier one route of each, through the
``VrpSolver`` port; every route walked again here (capacity, shift, range), a stop that
breaks a rule left waiting with the reason."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Place
from fabnet.routing.deliveries import DeliveryProblem, Fleet, Parcel, build
from fabnet.routing.instance import Route, RoutingSolution, VrpInstance, VrpSolver
from fabnet.routing.modes import Mode
from fabnet.routing.policy import LogisticsPolicy
from fabnet.routing.wave import Courier, LegPlan, RouteSummary, Waiting, Wave


def co2_factor(mode: Mode) -> float:
    """kg CO2e per km a route of ``mode`` drives (0 for a mode with a tonne-km factor
    only); a mode with neither set is refused, naming the field."""
    if mode.co2_kg_per_km is None and mode.co2_kg_per_tkm is None:
        raise InvalidInput(f"modes.{mode.name}.co2_kg_per_km", f"not set ({mode.co2_source})")
    return mode.co2_kg_per_km or 0.0


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
class HubRoutes:
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

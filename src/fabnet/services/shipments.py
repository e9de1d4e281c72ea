"""Shipments: made units become parcels, routing waves give them legs, couriers report
each step with its proof, and a delivered shipment moves the escrow.

- ``on_units_made`` (a reaction): the units one job made become parcels ready at their
  producer, each within the parcel carrier's limits (a job of 500 units is several
  parcels); a unit heavier than any vehicle is kept waiting with that reason.
- ``plan_shipments`` (the hub's sweep, and ``POST /shipments/plan``): one routing wave
  (routing/dispatch.py) over the parcels waiting and those planned but not picked up on
  a courier who has not set out; solved on a snapshot, applied where nothing moved since.
- ``record_shipment_event``: a courier's pickup, arrival at the hub, delivery with its
  proof, failure or return; the consignee confirms a carrier's delivery; an operator may
  record any step. Each is one transaction and one logged event.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from fabnet.domain import events as ev
from fabnet.domain.access import Principal
from fabnet.domain.errors import Forbidden, InvalidInput, NotFound
from fabnet.domain.ids import PREFIXES, CourierId, JobId, ShipmentId
from fabnet.domain.shipments import Courier, Leg, Shipment, WeatherSwitch, WrongProof
from fabnet.domain.states import ProofKind, Role, ShipmentState
from fabnet.domain.units import Place
from fabnet.fabrication.profiles import REFERENCE
from fabnet.routing import dispatch
from fabnet.routing.airspace import Airspace
from fabnet.routing.hub_routes import co2_factor
from fabnet.routing.instance import VrpSolver
from fabnet.routing.policy import CARRIER_MODE
from fabnet.services.commands import (
    PlanShipments,
    RecordShipmentEvent,
    RegisterCourier,
    SwitchWeather,
)
from fabnet.services.planning import density
from fabnet.services.ports import MAX_PAGE, Clock, IdSource, Listing, Page, Policy, UnitOfWork

EVENT_KINDS = ("picked_up", "in_transit", "at_hub", "delivered", "failed", "returned", "retry")


# -- parcels from made units ------------------------------------------------------------


def parcel_sizes(uow: UnitOfWork, event: ev.UnitsMade, policy: Policy) -> tuple[float, float]:
    """One unit's mass (g) and packed volume (ml): the filament the estimate gave (or
    the bounding box at the reference infill when there is none) and the bounding box."""
    design = uow.designs.get(event.design_id)
    box_ml = design.bbox.x_mm * design.bbox.y_mm * design.bbox.z_mm / 1000
    rho = density(event.material)
    mass = design.unit_mass_g(rho) or box_ml * REFERENCE.infill_density * rho
    return max(mass, 0.1), max(box_ml, 0.1)


def on_units_made(
    uow: UnitOfWork, event: ev.UnitsMade, *, ids: IdSource, policy: Policy
) -> list[Shipment]:
    if event.units <= 0:
        return []
    order = uow.orders.get(event.order_id)
    line = order.find_line(event.line_id)
    producer = uow.producers.get(event.producer_id)
    job = uow.jobs.get(event.job_id)
    if line is None:
        raise NotFound("line", event.line_id)
    unit_g, unit_ml = parcel_sizes(uow, event, policy)
    limit = policy.logistics.mode(CARRIER_MODE)
    per_parcel = max(
        1,
        min(
            math.floor(limit.capacity_kg * 1000 / unit_g),
            math.floor(limit.capacity_l * 1000 / unit_ml),
        ),
    )
    days_late = max(0, math.ceil((event.at - job.due).total_seconds() / 86_400))
    made: list[Shipment] = []
    left = event.units
    while left > 0:
        units = min(left, per_parcel)
        left -= units
        shipment = Shipment(
            id=ShipmentId(ids.new(PREFIXES["shipment"])),
            order_id=order.id,
            line_id=line.id,
            producer_id=producer.id,
            job_ids=(JobId(event.job_id),),
            units=units,
            mass_g=max(1, math.ceil(units * unit_g)),
            volume_ml=max(1, math.ceil(units * unit_ml)),
            origin=producer.place,
            destination=line.destination,
            due=line.deadline,
            made_days_late=days_late,
            proof_code=f"{secrets.randbelow(10**6):06d}",
            created_at=event.at,
        ).ready(event.at, (JobId(event.job_id),))
        uow.shipments.add(shipment)
        made.append(shipment)
    return made


# -- couriers ---------------------------------------------------------------------------


def register_courier(
    cmd: RegisterCourier, *, uow: UnitOfWork, clock: Clock, ids: IdSource, policy: Policy
) -> CourierId:
    if not cmd.actor.is_operator:
        raise Forbidden("only an operator registers couriers")
    mode = policy.logistics.mode(cmd.mode)
    if mode.name == CARRIER_MODE:
        raise InvalidInput("mode", "the parcel carrier is booked, not registered as a courier")
    co2_factor(mode)  # a mode whose emission factor is unset is refused here
    courier = Courier(
        id=CourierId(ids.new(PREFIXES["courier"])),
        name=cmd.name.strip()[:200],
        mode=mode.name,
        base=Place(cmd.lat, cmd.lon),
        created_at=clock.now(),
    ).registered()
    with uow:
        uow.couriers.add(courier)
        uow.commit()
    return courier.id


def list_couriers(uow: UnitOfWork, actor: Principal, page: Page) -> Listing[Courier]:
    if not actor.is_operator:
        raise Forbidden("only an operator lists couriers")
    with uow.reading():
        return uow.couriers.page(page)


# -- the weather switch -----------------------------------------------------------------


def switch_weather(
    cmd: SwitchWeather, *, uow: UnitOfWork, clock: Clock, policy: Policy
) -> dict[str, Any]:
    """Set a weather area flyable or not, at once and logged; the next wave obeys it."""
    if not cmd.actor.is_operator:
        raise Forbidden("only an operator grounds drones")
    areas = {a.name for a in policy.logistics.airspace.areas if a.kind == "weather"}
    if cmd.area not in areas:
        known = ", ".join(sorted(areas)) or "none: set them in FABNET_LOGISTICS airspace"
        raise InvalidInput("area", f"not a weather area of the airspace (known: {known})")
    now = clock.now()
    with uow:
        switch = uow.weather.find(cmd.area)
        if switch is None:
            switch = WeatherSwitch(id=cmd.area, flyable=cmd.flyable, set_at=now, set_by="")
            uow.weather.add(switch)
        switch.switch(cmd.flyable, now, cmd.actor.id)
        uow.commit()
    return {"area": cmd.area, "flyable": cmd.flyable, "set_at": now.isoformat()}


def airspace_now(uow: UnitOfWork, policy: Policy) -> Airspace:
    """The settings' airspace with the weather switches operators have set since."""
    airspace = policy.logistics.airspace
    names = {a.name for a in airspace.areas if a.kind == "weather"}
    for w in uow.weather.everyone():
        if w.id in names:
            airspace = airspace.with_weather(w.id, w.flyable)
    return airspace


def weather_view(uow: UnitOfWork, policy: Policy) -> list[dict[str, Any]]:
    with uow.reading():
        airspace = airspace_now(uow, policy)
    return [{"area": a.name, "flyable": a.flyable} for a in airspace.areas if a.kind == "weather"]


# -- routing waves ----------------------------------------------------------------------


@dataclass
class WaveReport:
    planned: int = 0  # parcels given a leg in this wave
    waiting: dict[str, str] = field(default_factory=dict)  # shipment id -> why
    routes: list[dispatch.RouteSummary] = field(default_factory=list)
    skipped: int = 0  # changed while the wave was solved: the next wave takes them
    seconds: float = 0.0


def _waiting(s: Shipment) -> dispatch.Waiting:
    return dispatch.Waiting(
        id=s.id,
        origin=s.origin,
        destination=s.destination,
        mass_g=s.mass_g,
        volume_ml=s.volume_ml,
        due=s.due,
        at_hub=s.leg_no > 1,
    )


def plan_shipments(
    cmd: PlanShipments,
    *,
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    vrp_solver: VrpSolver | None = None,
) -> WaveReport:
    """One routing wave. Parcels in a courier's hands, those planned on a courier already
    on its way and those booked with the carrier keep their leg; the rest is routed."""
    if cmd.actor is not None and not cmd.actor.is_operator:
        raise Forbidden("only an operator plans shipments")
    now = clock.now()
    logistics = policy.logistics
    if cmd.budget_s is not None:
        if not (math.isfinite(cmd.budget_s) and 0 < cmd.budget_s <= 600):
            raise InvalidInput("budget_s", "must be in (0, 600] seconds")
        logistics = replace(logistics, budget_s=cmd.budget_s)
    with uow.reading():
        logistics = replace(logistics, airspace=airspace_now(uow, policy))
        couriers = uow.couriers.active()
        planned = uow.shipments.planned()
        # a courier with a parcel in hand, or whose route has begun, keeps its route
        on_the_way = {s.courier_id for s in uow.shipments.in_hand() if s.courier_id} | {
            s.courier_id for s in planned if s.courier_id and s.leg and s.leg.pickup_eta <= now
        }
        free = [c for c in couriers if c.id not in on_the_way]
        free_ids = {c.id for c in free}
        # booked with the carrier stays booked; planned on a courier not yet out may move
        candidates = uow.shipments.waiting() + [s for s in planned if s.courier_id in free_ids]
        versions = {s.id: s.version for s in candidates}
    if not candidates:
        return WaveReport()
    solver = vrp_solver or _fallback_solver()
    wave = dispatch.plan_wave(
        [_waiting(s) for s in candidates],
        [dispatch.Courier(c.id, logistics.mode(c.mode), c.base) for c in free],
        now=now,
        policy=logistics,
        solver=solver,
        seed=cmd.seed,
    )
    report = WaveReport(routes=wave.routes, seconds=wave.seconds, waiting=dict(wave.waiting))
    with uow:
        for shipment_id, version in versions.items():
            s = uow.shipments.find(shipment_id)
            if s is None or s.version != version:
                report.skipped += 1
                continue
            plan = wave.legs.get(shipment_id)
            if plan is not None:
                s.plan(_leg(plan), now)
                report.planned += 1
            else:
                s.unplan(now, wave.waiting.get(shipment_id, "not routed in this wave"))
        uow.commit()
    return report


def _leg(plan: dispatch.LegPlan) -> Leg:
    return Leg(
        mode=plan.mode,
        courier_id=CourierId(plan.courier_id) if plan.courier_id else None,
        route_id=plan.route_id,
        stop=plan.stop,
        to=plan.to,
        to_hub=plan.to_hub,
        pickup_eta=plan.pickup_eta,
        eta=plan.eta,
        distance_km=plan.distance_km,
        co2_kg=plan.co2_kg,
    )


def _fallback_solver() -> VrpSolver:
    from fabnet.routing.nearest import NearestNeighbour

    return NearestNeighbour()


# -- steps on the way -------------------------------------------------------------------


def record_shipment_event(
    cmd: RecordShipmentEvent, *, uow: UnitOfWork, clock: Clock
) -> dict[str, Any]:
    if cmd.kind not in EVENT_KINDS:
        raise InvalidInput("kind", f"choose from {', '.join(EVENT_KINDS)}")
    now = clock.now()
    actor = cmd.actor
    with uow:
        s = uow.shipments.find(cmd.shipment_id)
        if s is None or not _may_see(uow, actor, s):
            raise NotFound("shipment", cmd.shipment_id)
        courier = _acting_courier(uow, actor, s, cmd.kind)
        if cmd.kind == "picked_up":
            s.pick_up(now, courier)
        elif cmd.kind == "in_transit":
            s.in_transit(now, courier, cmd.reason)
        elif cmd.kind == "at_hub":
            s.at_hub(now, courier)
        elif cmd.kind == "delivered":
            kind = _proof_kind(cmd.proof_kind, actor)
            try:
                s.deliver(now, courier, kind, cmd.proof)
            except WrongProof:
                uow.commit()  # the wrong try counts: five, and the code is refused
                raise
        elif cmd.kind == "failed":
            s.fail(now, courier, cmd.reason)
        elif cmd.kind == "returned":
            s.return_to_maker(now, courier)
        else:
            s.retry(now)
        uow.commit()
    return shipment_view(s, actor)


def _proof_kind(value: str, actor: Principal) -> ProofKind:
    try:
        kind = ProofKind(value)
    except ValueError:
        raise InvalidInput(
            "proof_kind", f"choose from {', '.join(k.value for k in ProofKind)}"
        ) from None
    if kind is ProofKind.CONSIGNEE and actor.role is not Role.CONSUMER:
        raise InvalidInput("proof_kind", "only the consignee confirms as 'consignee'")
    return kind


def _acting_courier(uow: UnitOfWork, actor: Principal, s: Shipment, kind: str) -> str | None:
    """Who may record ``kind``, and as which courier (None: not as a courier).

    A courier records the steps of the legs on its own route; the consignee confirms a
    delivery; the maker hands a parcel to the carrier (a pickup of a carrier leg); an
    operator records anything (and alone sends a failed parcel back on its way)."""
    if actor.is_operator:
        return None
    if actor.role is Role.COURIER:
        if kind == "retry":
            raise Forbidden("an operator decides whether a failed parcel is sent again")
        if not s.carried_by(actor.id):
            raise Forbidden(f"shipment {s.id} is not on your route")
        return actor.id
    if actor.role is Role.CONSUMER:
        if kind != "delivered":
            raise Forbidden("the consignee confirms deliveries only")
        return None
    if actor.role is Role.PRODUCER:
        carrier_leg = s.leg is not None and s.leg.courier_id is None
        if kind != "picked_up" or not carrier_leg:
            raise Forbidden("a maker records only handing a parcel to the parcel carrier")
        return None
    raise Forbidden("not allowed")


def _may_see(uow: UnitOfWork, actor: Principal, s: Shipment) -> bool:
    if actor.is_operator:
        return True
    if actor.role is Role.COURIER:
        return s.carried_by(actor.id)
    if actor.role is Role.PRODUCER:
        return actor.producer_id == s.producer_id
    order = uow.orders.find(s.order_id)
    return order is not None and actor.owns_order(order.consumer_id)


# -- reads ------------------------------------------------------------------------------


def shipment_view(s: Shipment, actor: Principal, *, consignee: bool = False) -> dict[str, Any]:
    """A shipment as ``actor`` may read it: the one-time code for its consignee (and
    operators) only, never for a courier or a maker."""
    leg = s.leg
    out: dict[str, Any] = {
        "id": s.id,
        "order_id": s.order_id,
        "line_id": s.line_id,
        "producer_id": s.producer_id,
        "units": s.units,
        "mass_g": s.mass_g,
        "volume_ml": s.volume_ml,
        "state": s.state.value,
        "leg": s.leg_no,
        "from": {"lat": s.origin.lat, "lon": s.origin.lon},
        "to": {"lat": s.destination.lat, "lon": s.destination.lon},
        "due": s.due.isoformat(),
        "mode": leg.mode if leg else None,
        "courier_id": leg.courier_id if leg else None,
        "route_id": leg.route_id if leg else None,
        "pickup_eta": leg.pickup_eta.isoformat() if leg else None,
        "eta": leg.eta.isoformat() if leg else None,
        "to_hub": leg.to_hub if leg else False,
        "delivered_at": s.delivered_at.isoformat() if s.delivered_at else None,
        "on_time": s.on_time,
        "distance_km": round(s.distance_km + (leg.distance_km if leg else 0.0), 3),
        "co2_kg": round(s.co2_kg + (leg.co2_kg if leg else 0.0), 4),
        "reason": s.reason,
    }
    if consignee or actor.is_operator:
        out["proof_code"] = s.proof_code
    return out


@dataclass(frozen=True)
class ParcelPage:
    items: list[dict[str, Any]]  # shipment views
    total: int


def order_shipments(
    uow: UnitOfWork, actor: Principal, order_id: str, page: Page | None = None
) -> ParcelPage:
    """The order's parcels, a page at a time (an order of millions of units is thousands
    of parcels): all of them for its consignee (with the codes), a maker's own for it."""
    page = page or Page(limit=MAX_PAGE)
    with uow.reading():
        order = uow.orders.find(order_id)
        if order is None:
            raise NotFound("order", order_id)
        if actor.owns_order(order.consumer_id):
            found = uow.shipments.page(page, order_id=order_id)
            views = [shipment_view(s, actor, consignee=True) for s in found.items]
            return ParcelPage(views, found.total)
        if actor.role is Role.PRODUCER and actor.producer_id:
            found = uow.shipments.page(page, order_id=order_id, producer_id=actor.producer_id)
            if found.total:
                return ParcelPage([shipment_view(s, actor) for s in found.items], found.total)
        raise NotFound("order", order_id)


def get_shipment(uow: UnitOfWork, actor: Principal, shipment_id: str) -> dict[str, Any]:
    with uow.reading():
        s = uow.shipments.find(shipment_id)
        if s is None or not _may_see(uow, actor, s):
            raise NotFound("shipment", shipment_id)
        order = uow.orders.get(s.order_id)
        return shipment_view(s, actor, consignee=actor.owns_order(order.consumer_id))


ROUTE_STATES = (ShipmentState.PLANNED, ShipmentState.PICKED_UP, ShipmentState.IN_TRANSIT)


def courier_route(uow: UnitOfWork, actor: Principal, courier_id: str) -> dict[str, Any]:
    """The courier's stops, in order: each pickup, then where each parcel goes."""
    if not (actor.is_operator or actor.courier_id == courier_id):
        raise NotFound("courier", courier_id)
    with uow.reading():
        courier = uow.couriers.find(courier_id)
        if courier is None:
            raise NotFound("courier", courier_id)
        mine = uow.shipments.of_courier(courier_id, ROUTE_STATES)
    mine.sort(
        key=lambda s: (s.leg.pickup_eta if s.leg else datetime.max, s.leg.stop if s.leg else 0)
    )
    stops: list[dict[str, Any]] = []
    for s in mine:
        assert s.leg is not None
        if s.state is ShipmentState.PLANNED:
            stops.append(_stop("pickup", s, s.origin, s.leg.pickup_eta))
        stops.append(_stop("drop_at_hub" if s.leg.to_hub else "deliver", s, s.leg.to, s.leg.eta))
    stops.sort(key=lambda x: x["eta"])
    return {
        "courier_id": courier.id,
        "mode": courier.mode,
        "base": {"lat": courier.base.lat, "lon": courier.base.lon},
        "stops": stops,
    }


def _stop(action: str, s: Shipment, place: Place, eta: datetime) -> dict[str, Any]:
    return {
        "action": action,
        "shipment_id": s.id,
        "state": s.state.value,
        "units": s.units,
        "mass_g": s.mass_g,
        "lat": place.lat,
        "lon": place.lon,
        "eta": eta.isoformat(),
        "route_id": s.leg.route_id if s.leg else "",
    }

"""The operator's view of the whole network: counters, alerts and what the map draws.

Read in one read-only transaction (one snapshot). Units move through planned (in a live
job), printing (in a running job), made, shipped (picked up, on the way or at a hub) and
delivered; on time is delivered by the deadline over delivered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fabnet.domain.access import Principal
from fabnet.domain.errors import Forbidden
from fabnet.domain.events import JobFlagged
from fabnet.domain.states import (
    MachineStatus,
    OrderState,
    ShipmentState,
)
from fabnet.services.ports import UnitOfWork

OPEN_ORDERS = (OrderState.PLACED, OrderState.PLANNED, OrderState.IN_PRODUCTION)
SHIPPED = (ShipmentState.PICKED_UP, ShipmentState.IN_TRANSIT, ShipmentState.AT_HUB)
MAX_ALERTS = 50


def _operator(actor: Principal) -> None:
    if not actor.is_operator:
        raise Forbidden("the network overview is the operator's")


def overview(uow: UnitOfWork, actor: Principal, now: datetime) -> dict[str, Any]:
    _operator(actor)
    with uow.reading():
        orders = uow.orders.everyone()
        jobs = uow.jobs.live()
        looked_at = uow.machines.flagged_or_offline()
        counts = uow.machines.counts_by_producer().values()
        shipments = uow.shipments.everyone()
        live_ids = {j.id for j in jobs}
        flags = [
            e
            for order_id in sorted({j.order_id for j in jobs})
            for e in uow.order_events(order_id, (JobFlagged,))
            if isinstance(e, JobFlagged) and e.job_id in live_ids
        ]
    live = jobs
    delivered = [s for s in shipments if s.state is ShipmentState.DELIVERED]
    units_delivered = sum(s.units for s in delivered)
    alerts: list[dict[str, str]] = []
    for f in flags[-MAX_ALERTS:]:
        alerts.append({"kind": "flagged", "ref": f.job_id, "text": f"job {f.job_id}: {f.kind}"})
    for j in live:
        if j.due < now:
            alerts.append({"kind": "late_job", "ref": j.id, "text": f"job {j.id} is past due"})
    for m in looked_at:
        if m.capacity_flag:
            alerts.append({"kind": "machine", "ref": m.id, "text": m.capacity_flag[:200]})
        if m.status is MachineStatus.OFFLINE:
            alerts.append({"kind": "silent", "ref": m.id, "text": f"machine {m.name} is offline"})
    for s in shipments:
        if s.state is ShipmentState.FAILED or (s.reason and s.state is ShipmentState.READY):
            alerts.append({"kind": "shipment", "ref": s.id, "text": s.reason or "failed"})
    return {
        "counters": {
            "orders_open": sum(1 for o in orders if o.state in OPEN_ORDERS),
            "units_ordered": sum(o.quantity for o in orders),
            "units_planned": sum(j.units_open for j in live),
            "units_printing": sum(j.units for j in live if j.state.value == "running"),
            "units_made": sum(o.units_made for o in orders),
            "units_shipped": sum(s.units for s in shipments if s.state in SHIPPED),
            "units_delivered": units_delivered,
            "on_time_ratio": round(
                sum(s.units for s in delivered if s.on_time) / units_delivered, 4
            )
            if units_delivered
            else None,
            "machines": sum(n for n, _ in counts),
            "machines_busy": sum(busy for _, busy in counts),
        },
        "alerts": alerts[:MAX_ALERTS],
        "alerts_total": len(alerts),
    }


def network_map(uow: UnitOfWork, actor: Principal) -> dict[str, Any]:
    """Compact arrays for the map: producers [lat, lon, machines, busy], open
    destinations [lat, lon, units], flows of live jobs [from lat, lon, to lat, lon,
    units], and couriers' legs under way [from lat, lon, to lat, lon, mode]."""
    _operator(actor)
    with uow.reading():
        producers = uow.producers.places()
        per = uow.machines.counts_by_producer()
        orders = uow.orders.open()
        jobs = uow.jobs.live()
        moving = uow.shipments.planned() + uow.shipments.in_hand()
    places: dict[str, tuple[float, float]] = {pid: (lat, lon) for pid, lat, lon in producers}
    lines: dict[str, Any] = {ln.id: ln for o in orders for ln in o.lines}
    flows: dict[tuple[str, str], int] = {}
    for j in jobs:
        if j.line_id in lines:
            flows[(j.producer_id, j.line_id)] = flows.get((j.producer_id, j.line_id), 0) + j.units
    return {
        "producers": [
            [round(lat, 4), round(lon, 4), *per.get(pid, (0, 0))] for pid, lat, lon in producers
        ],
        "destinations": [
            [round(ln.destination.lat, 4), round(ln.destination.lon, 4), ln.quantity]
            for ln in lines.values()
        ],
        "flows": [
            [
                round(places[pid][0], 4),
                round(places[pid][1], 4),
                round(lines[lid].destination.lat, 4),
                round(lines[lid].destination.lon, 4),
                units,
            ]
            for (pid, lid), units in flows.items()
            if pid in places
        ],
        "legs": [
            [
                round(s.origin.lat, 4),
                round(s.origin.lon, 4),
                round(s.leg.to.lat, 4),
                round(s.leg.to.lon, 4),
                s.leg.mode,
            ]
            for s in moving
            if s.leg is not None
        ],
    }

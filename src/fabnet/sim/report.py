"""What a run achieved, computed from the store alone (never from the scenario)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from fabnet.domain.states import JobState, ShipmentState
from fabnet.routing.modes import VAN
from fabnet.services.ports import UnitOfWork


@dataclass(frozen=True)
class Summary:
    units_ordered: int
    units_made: int
    on_time_ratio: float  # units made by their line's deadline / units ordered
    producers: int
    producers_engaged: int  # producers that made at least one unit
    orders: int
    jobs: int
    jobs_failed: int
    distance_km_mean: float  # producer to destination, per unit made
    distance_km_p95: float
    sim_days: float
    wall_s: float = 0.0
    # delivery (from the shipments): units delivered by their deadline / units ordered
    units_delivered: int = 0
    delivered_on_time_ratio: float = 0.0
    delivery_km_per_unit: float = 0.0
    co2_kg_per_unit: float = 0.0
    by_mode: dict[str, dict[str, float]] = field(default_factory=dict)
    # the naive baseline from the same parcels: each its own van round trip from its maker
    naive_km_per_unit: float = 0.0
    naive_co2_kg_per_unit: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(sorted_pairs: list[tuple[float, int]], q: float) -> float:
    """Weighted percentile (nearest rank) of (value, weight) pairs sorted by value."""
    total = sum(w for _, w in sorted_pairs)
    if total == 0:
        return 0.0
    rank = q * total
    seen = 0
    for value, weight in sorted_pairs:
        seen += weight
        if seen >= rank:
            return value
    return sorted_pairs[-1][0]


def summarize(uow: UnitOfWork, *, sim_days: float = 0.0, wall_s: float = 0.0) -> Summary:
    with uow:
        orders = uow.orders.everyone()
        producers = {p.id: p for p in uow.producers.everyone()}
        jobs = uow.jobs.everyone()
        shipments = uow.shipments.everyone()
    lines = {ln.id: ln for o in orders for ln in o.lines}
    made = on_time = 0
    engaged: set[str] = set()
    distances: list[tuple[float, int]] = []
    for job in jobs:
        if job.units_made == 0:
            continue
        made += job.units_made
        engaged.add(job.producer_id)
        if job.finished_at is not None and job.finished_at <= job.due:
            on_time += job.units_made
        km = producers[job.producer_id].place.distance_km(lines[job.line_id].destination)
        distances.append((km, job.units_made))
    distances.sort()
    ordered = sum(o.quantity for o in orders)
    delivery = _delivery(shipments, producers, ordered)
    return Summary(
        units_ordered=ordered,
        units_made=made,
        on_time_ratio=round(on_time / ordered, 4) if ordered else 0.0,
        producers=len(producers),
        producers_engaged=len(engaged),
        orders=len(orders),
        jobs=len(jobs),
        jobs_failed=sum(1 for j in jobs if j.state is JobState.FAILED),
        distance_km_mean=round(sum(d * w for d, w in distances) / made, 2) if made else 0.0,
        distance_km_p95=round(_percentile(distances, 0.95), 2),
        sim_days=round(sim_days, 3),
        wall_s=round(wall_s, 3),
        **delivery,
    )


def _delivery(shipments: list[Any], producers: Mapping[Any, Any], ordered: int) -> dict[str, Any]:
    done = [s for s in shipments if s.state is ShipmentState.DELIVERED]
    units = sum(s.units for s in done)
    if not units:
        return {}
    modes: dict[str, list[float]] = {}
    naive_km = 0.0
    for s in done:
        key = "+".join(s.modes) or "?"
        got = modes.setdefault(key, [0.0, 0.0, 0.0])
        got[0] += s.units
        got[1] += s.distance_km
        got[2] += s.co2_kg
        naive_km += 2 * producers[s.producer_id].place.distance_km(s.destination)
    van = VAN.co2_kg_per_km or 0.0
    return {
        "units_delivered": units,
        "delivered_on_time_ratio": round(
            sum(s.units for s in done if s.on_time) / ordered if ordered else 0.0, 4
        ),
        "delivery_km_per_unit": round(sum(s.distance_km for s in done) / units, 4),
        "co2_kg_per_unit": round(sum(s.co2_kg for s in done) / units, 5),
        "by_mode": {
            k: {
                "units": int(v[0]),
                "km_per_unit": round(v[1] / v[0], 4),
                "co2_kg_per_unit": round(v[2] / v[0], 5),
            }
            for k, v in sorted(modes.items())
        },
        "naive_km_per_unit": round(naive_km / units, 4),
        "naive_co2_kg_per_unit": round(naive_km * van / units, 5),
    }

"""How each aggregate becomes a flat row and back: the one persistence mapping (the
logistics aggregates' in adapters/logistics_rows.py).

Both stores use it: the in-memory store keeps these rows in dicts, the SQL store in
tables (adapters/db/tables.py has one column per key). Nested value collections (an
order's lines, a list of materials) are JSON values; everything a query filters on is
a plain column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from fabnet.domain.access import ApiKey
from fabnet.domain.aggregate import Aggregate
from fabnet.domain.capabilities import Process
from fabnet.domain.designs import Design
from fabnet.domain.ids import (
    ApiKeyId,
    DesignId,
    JobId,
    LineId,
    MachineId,
    OrderId,
    PrincipalId,
    ProducerId,
)
from fabnet.domain.jobs import Job
from fabnet.domain.orders import Order, OrderLine
from fabnet.domain.pricing import PriceRule, ProducerClass
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.reliability import Belief, Probation
from fabnet.domain.states import (
    FacilityStatus,
    JobState,
    MachineStatus,
    OrderState,
    ReviewStatus,
    Role,
)
from fabnet.domain.times import LATEST, stored_utc
from fabnet.domain.units import Box, Place

Row = dict[str, Any]
A = TypeVar("A", bound=Aggregate)


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return None if value is None else stored_utc(value)


def utc_given(value: datetime) -> datetime:
    """``utc`` of a time that is always stored."""
    out = utc(value)
    assert out is not None
    return out


@dataclass(frozen=True)
class Mapper(Generic[A]):
    kind: str  # the table name and the noun in errors
    to_row: Callable[[A], Row]
    from_row: Callable[[Row], A]


def _producer_row(p: Producer) -> Row:
    return {
        "id": p.id,
        "name": p.name,
        "lat": p.place.lat,
        "lon": p.place.lon,
        "address": p.address,
        "status": p.status.value,
        "certifications": list(p.certifications),
        "external_ref": p.external_ref or None,
        "jobs_done": p.jobs_done,
        "jobs_failed": p.jobs_failed,
        "extra": dict(p.extra),
        "producer_class": p.producer_class.value,
        "pricing": p.pricing.to_dict() if p.pricing else None,
        **_belief_row(p.belief),
    }


def _producer(r: Row) -> Producer:
    return Producer(
        id=ProducerId(r["id"]),
        name=r["name"],
        place=Place(r["lat"], r["lon"]),
        address=r["address"],
        status=FacilityStatus(r["status"]),
        certifications=tuple(r["certifications"]),
        external_ref=r["external_ref"] or "",
        jobs_done=r["jobs_done"],
        jobs_failed=r["jobs_failed"],
        producer_class=ProducerClass(r["producer_class"]),
        pricing=PriceRule.from_dict(r["pricing"]) if r["pricing"] else None,
        extra=dict(r["extra"]),
        belief=_belief(r),
        version=r["version"],
    )


def _belief_row(b: Belief) -> Row:
    return {"rel_successes": b.successes, "rel_failures": b.failures, "rel_at": b.at}


def _belief(r: Row) -> Belief:
    at = r.get("rel_at")
    return Belief(
        float(r.get("rel_successes") or 0.0),
        float(r.get("rel_failures") or 0.0),
        utc_given(at) if at is not None else None,
    )


def _machine_row(m: Machine) -> Row:
    return {
        "id": m.id,
        "producer_id": m.producer_id,
        "name": m.name,
        "process": m.process.value,
        "make": m.make,
        "model": m.model,
        "volume_x_mm": m.build_volume.x_mm,
        "volume_y_mm": m.build_volume.y_mm,
        "volume_z_mm": m.build_volume.z_mm,
        "materials": list(m.materials),
        "nozzle_mm": m.nozzle_mm,
        "hours_per_day": m.hours_per_day,
        "speed_factor": m.speed_factor,
        "status": m.status.value,
        "event_seq": m.event_seq,
        "unreachable": m.unreachable,
        "slow_runs": m.slow_runs,
        "capacity_flag": m.capacity_flag,
        **_belief_row(m.belief),
        "probation": asdict(m.probation) if m.probation else None,
    }


def _machine(r: Row) -> Machine:
    return Machine(
        id=MachineId(r["id"]),
        producer_id=ProducerId(r["producer_id"]),
        name=r["name"],
        process=Process(r["process"]),
        make=r["make"],
        model=r["model"],
        build_volume=Box(r["volume_x_mm"], r["volume_y_mm"], r["volume_z_mm"]),
        materials=tuple(r["materials"]),
        nozzle_mm=r["nozzle_mm"],
        hours_per_day=r["hours_per_day"],
        speed_factor=r["speed_factor"],
        status=MachineStatus(r["status"]),
        event_seq=r["event_seq"],
        unreachable=bool(r["unreachable"]),
        slow_runs=r["slow_runs"] or 0,
        capacity_flag=r["capacity_flag"] or "",
        belief=_belief(r),
        probation=Probation(**r["probation"]) if r.get("probation") else None,
        version=r["version"],
    )


def _design_row(d: Design) -> Row:
    return {
        "id": d.id,
        "name": d.name,
        "filename": d.filename,
        "media_type": d.media_type,
        "size_bytes": d.size_bytes,
        "process": d.process.value,
        "materials": list(d.materials),
        "bbox_x_mm": d.bbox.x_mm,
        "bbox_y_mm": d.bbox.y_mm,
        "bbox_z_mm": d.bbox.z_mm,
        "triangles": d.triangles,
        "print_time_s": d.print_time_s,
        "owner_id": d.owner_id,
        "created_at": d.created_at,
        "extra": dict(d.extra),
        "content_hash": d.content_hash or d.id,
        "public": d.public,
        "filament_mm3": d.filament_mm3,
        "estimated_print_time_s": d.estimated_print_time_s,
    }


def _design(r: Row) -> Design:
    return Design(
        id=DesignId(r["id"]),
        name=r["name"],
        filename=r["filename"],
        media_type=r["media_type"],
        size_bytes=r["size_bytes"],
        process=Process(r["process"]),
        materials=tuple(r["materials"]),
        bbox=Box(r["bbox_x_mm"], r["bbox_y_mm"], r["bbox_z_mm"]),
        triangles=r["triangles"],
        print_time_s=r["print_time_s"],
        owner_id=PrincipalId(r["owner_id"]),
        created_at=utc_given(r["created_at"]),
        extra=dict(r["extra"]),
        content_hash=r["content_hash"] or r["id"],
        public=bool(r["public"]),
        filament_mm3=r["filament_mm3"] or 0.0,
        estimated_print_time_s=r["estimated_print_time_s"] or 0.0,
        version=r["version"],
    )


def _line_json(line: OrderLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "design_id": line.design_id,
        "process": line.process.value,
        "material": line.material,
        "quantity": line.quantity,
        "deadline": line.deadline.isoformat(),
        "lat": line.destination.lat,
        "lon": line.destination.lon,
        "units_allocated": line.units_allocated,
        "units_made": line.units_made,
        "units_failed": line.units_failed,
        "units_rejected": line.units_rejected,
        "min_review": line.min_review.value,
    }


def stored_time(text: str) -> datetime:
    try:
        return stored_utc(datetime.fromisoformat(text))
    except ValueError:  # a year past 9999 cannot even be parsed
        return LATEST


def _line(j: dict[str, Any]) -> OrderLine:
    return OrderLine(
        id=LineId(j["id"]),
        design_id=DesignId(j["design_id"]),
        process=Process(j["process"]),
        material=j["material"],
        quantity=j["quantity"],
        deadline=stored_time(j["deadline"]),
        destination=Place(j["lat"], j["lon"]),
        units_allocated=j["units_allocated"],
        units_made=j["units_made"],
        units_failed=j["units_failed"],
        units_rejected=j.get("units_rejected", 0),
        min_review=ReviewStatus(j.get("min_review", ReviewStatus.NOT_REVIEWED.value)),
    )


def _order_row(o: Order) -> Row:
    return {
        "id": o.id,
        "consumer_id": o.consumer_id,
        "placed_at": o.placed_at,
        "priority": o.priority,
        "reference": o.reference or None,
        "state": o.state.value,
        "updated_at": o.updated_at,
        "lines": [_line_json(line) for line in o.lines],
    }


def _order(r: Row) -> Order:
    return Order(
        id=OrderId(r["id"]),
        consumer_id=PrincipalId(r["consumer_id"]),
        lines=[_line(j) for j in r["lines"]],
        placed_at=utc_given(r["placed_at"]),
        priority=r["priority"],
        reference=r["reference"] or "",
        state=OrderState(r["state"]),
        updated_at=utc(r["updated_at"]),
        version=r["version"],
    )


def _job_row(j: Job) -> Row:
    return {
        "id": j.id,
        "order_id": j.order_id,
        "line_id": j.line_id,
        "design_id": j.design_id,
        "machine_id": j.machine_id,
        "producer_id": j.producer_id,
        "material": j.material,
        "units": j.units,
        "unit_time_s": j.unit_time_s,
        "due": j.due,
        "offered_at": j.offered_at,
        "expires_at": j.expires_at,
        "state": j.state.value,
        "updated_at": j.updated_at,
        "started_at": j.started_at,
        "finished_at": j.finished_at,
        "units_made": j.units_made,
        "note": j.note,
        "design_hash": j.design_hash,
    }


def _job(r: Row) -> Job:
    return Job(
        id=JobId(r["id"]),
        order_id=OrderId(r["order_id"]),
        line_id=LineId(r["line_id"]),
        design_id=DesignId(r["design_id"]),
        machine_id=MachineId(r["machine_id"]),
        producer_id=ProducerId(r["producer_id"]),
        material=r["material"],
        units=r["units"],
        unit_time_s=r["unit_time_s"],
        due=utc_given(r["due"]),
        offered_at=utc_given(r["offered_at"]),
        expires_at=utc_given(r["expires_at"]),
        state=JobState(r["state"]),
        updated_at=utc(r["updated_at"]),
        started_at=utc(r["started_at"]),
        finished_at=utc(r["finished_at"]),
        units_made=r["units_made"],
        note=r["note"],
        design_hash=r["design_hash"] or "",
        version=r["version"],
    )


def _key_row(k: ApiKey) -> Row:
    return {
        "id": k.id,
        "name": k.name,
        "principal_id": k.principal_id,
        "role": k.role.value,
        "producer_id": k.producer_id,
        "key_hash": k.key_hash,
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
        "expires_at": k.expires_at,
        "scopes": list(k.scopes),
    }


def _key(r: Row) -> ApiKey:
    return ApiKey(
        id=ApiKeyId(r["id"]),
        name=r["name"],
        principal_id=PrincipalId(r["principal_id"]),
        role=Role(r["role"]),
        producer_id=ProducerId(r["producer_id"]) if r["producer_id"] else None,
        key_hash=r["key_hash"],
        created_at=utc_given(r["created_at"]),
        revoked_at=utc(r["revoked_at"]),
        expires_at=utc(r["expires_at"]),
        scopes=tuple(r["scopes"] or ("read", "write")),
        version=r["version"],
    )


PRODUCERS = Mapper[Producer]("producers", _producer_row, _producer)
MACHINES = Mapper[Machine]("machines", _machine_row, _machine)
DESIGNS = Mapper[Design]("designs", _design_row, _design)
ORDERS = Mapper[Order]("orders", _order_row, _order)
JOBS = Mapper[Job]("jobs", _job_row, _job)
API_KEYS = Mapper[ApiKey]("api_keys", _key_row, _key)

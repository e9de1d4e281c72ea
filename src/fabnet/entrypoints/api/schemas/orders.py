"""Designs, orders and jobs over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from fabnet.domain.designs import Design
from fabnet.domain.ids import DesignId
from fabnet.domain.jobs import Job
from fabnet.domain.orders import MAX_LINE_QUANTITY, Order
from fabnet.domain.states import DeclineReason, JobState, OrderState, ReviewStatus
from fabnet.entrypoints.api.schemas.common import Location, Strict
from fabnet.services.commands import LineRequest


class DesignOut(BaseModel):
    id: str
    content_hash: str
    public: bool
    name: str
    filename: str
    media_type: str
    size_bytes: int
    process: str
    materials: list[str]
    bbox_mm: tuple[float, float, float]
    triangles: int
    print_time_s: float
    estimated_print_time_s: float
    filament_mm3: float
    created_at: datetime
    license: str = Field(default="", description="SPDX id, as its source stated it")
    review_status: ReviewStatus = ReviewStatus.NOT_REVIEWED
    reviewed_by: str = ""
    reviewed_at: str = ""
    review_notes: str = ""
    source: str = Field(default="", description="where the design comes from (OKH repo)")

    @classmethod
    def of(cls, d: Design) -> DesignOut:
        return cls(
            id=d.id,
            content_hash=d.blob_key,
            public=d.public,
            name=d.name,
            filename=d.filename,
            media_type=d.media_type,
            size_bytes=d.size_bytes,
            process=d.process.value,
            materials=list(d.materials),
            bbox_mm=(d.bbox.x_mm, d.bbox.y_mm, d.bbox.z_mm),
            triangles=d.triangles,
            print_time_s=d.print_time_s,
            estimated_print_time_s=d.estimated_print_time_s,
            filament_mm3=d.filament_mm3,
            created_at=d.created_at,
            license=d.extra.get("license", ""),
            review_status=d.review_status,
            reviewed_by=d.extra.get("reviewed_by", ""),
            reviewed_at=d.extra.get("reviewed_at", ""),
            review_notes=d.extra.get("review_notes", ""),
            source=d.extra.get("source", ""),
        )


DESIGN_ID = "^(dsg_[0-9a-f]{20}|[0-9a-f]{64})$"  # new records, and those keyed by hash


class DestinationIn(Strict):
    """Where a line goes: coordinates, or a city (and country) found by the gazetteer."""

    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    city: str = Field(default="", max_length=200, examples=["Nairobi"])
    country: str = Field(default="", max_length=100, examples=["KE"])

    @model_validator(mode="after")
    def _coordinates_or_a_city(self) -> DestinationIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or a city")
        if self.lat is None and not self.city.strip():
            raise ValueError("give lat and lon, or a city (and country)")
        return self

    def place(self, field: str) -> tuple[float, float]:
        if self.lat is not None and self.lon is not None:
            return self.lat, self.lon  # coordinates win
        from fabnet.adapters.places import resolve_place

        return resolve_place(self.city, self.country, field)


class LineIn(Strict):
    design_id: str = Field(max_length=64, pattern=DESIGN_ID)
    material: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=MAX_LINE_QUANTITY)
    deadline: AwareDatetime = Field(strict=False, description="ISO 8601 with a timezone")
    destination: DestinationIn
    min_review: ReviewStatus = Field(
        default=ReviewStatus.NOT_REVIEWED,
        strict=False,
        description="plan this line only once its design is reviewed at least this far",
    )

    def request(self, field: str = "destination") -> LineRequest:
        lat, lon = self.destination.place(field)
        return LineRequest(
            design_id=DesignId(self.design_id),
            material=self.material,
            quantity=self.quantity,
            deadline=self.deadline,
            lat=lat,
            lon=lon,
            min_review=self.min_review,
        )


class OrderIn(Strict):
    lines: list[LineIn] = Field(min_length=1, max_length=1000)
    priority: int = Field(default=0, ge=0, le=9)
    reference: str = Field(default="", max_length=200)


class LineOut(BaseModel):
    id: str
    design_id: str
    process: str
    material: str
    quantity: int
    deadline: datetime
    destination: Location
    units_allocated: int
    units_made: int
    units_failed: int
    min_review: ReviewStatus = ReviewStatus.NOT_REVIEWED


class OrderOut(BaseModel):
    id: str
    consumer_id: str
    state: OrderState
    priority: int
    reference: str
    placed_at: datetime
    quantity: int
    units_made: int
    lines: list[LineOut]

    @classmethod
    def of(cls, o: Order) -> OrderOut:
        return cls(
            id=o.id,
            consumer_id=o.consumer_id,
            state=o.state,
            priority=o.priority,
            reference=o.reference,
            placed_at=o.placed_at,
            quantity=o.quantity,
            units_made=o.units_made,
            lines=[
                LineOut(
                    id=ln.id,
                    design_id=ln.design_id,
                    process=ln.process.value,
                    material=ln.material,
                    quantity=ln.quantity,
                    deadline=ln.deadline,
                    destination=Location(lat=ln.destination.lat, lon=ln.destination.lon),
                    units_allocated=ln.units_allocated,
                    units_made=ln.units_made,
                    units_failed=ln.units_failed,
                    min_review=ln.min_review,
                )
                for ln in o.lines
            ],
        )


class JobOut(BaseModel):
    id: str
    order_id: str
    line_id: str
    design_id: str
    machine_id: str
    producer_id: str
    material: str
    units: int
    unit_time_s: float
    state: JobState
    due: datetime
    offered_at: datetime
    expires_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    units_made: int
    note: str
    escrow_terms: dict[str, Any] | None = Field(
        default=None, description="the order's funded escrow terms (one job only)"
    )
    terms_digest: str | None = Field(
        default=None, description="accepting the job accepts the terms with this digest"
    )

    @classmethod
    def of(cls, j: Job) -> JobOut:
        return cls(
            id=j.id,
            order_id=j.order_id,
            line_id=j.line_id,
            design_id=j.design_id,
            machine_id=j.machine_id,
            producer_id=j.producer_id,
            material=j.material,
            units=j.units,
            unit_time_s=j.unit_time_s,
            state=j.state,
            due=j.due,
            offered_at=j.offered_at,
            expires_at=j.expires_at,
            started_at=j.started_at,
            finished_at=j.finished_at,
            units_made=j.units_made,
            note=j.note,
        )


class ReasonIn(Strict):
    reason: str = Field(default="", max_length=500)


class DeclineIn(Strict):
    kind: DeclineReason = Field(
        default=DeclineReason.OTHER,
        strict=False,
        description="out_of_material: the material leaves your machines until you restock; "
        "machine_down: the machine goes into maintenance; too_busy, other: this line is "
        "not offered to you again",
    )
    reason: str = Field(default="", max_length=500)


class FailIn(Strict):
    cause: str = Field(min_length=1, max_length=500)
    units_made: int = Field(default=0, ge=0)


class PlanOut(BaseModel):
    orders: int
    jobs_offered: int
    units_assigned: int
    units_unmet: int
    unmet: dict[str, str]


class AcceptIn(Strict):
    terms_digest: str = Field(
        default="", max_length=64, description="the escrow terms seen with the offer"
    )


class EscrowIn(Strict):
    """Terms within the hub's escrow policy (422 naming the term beyond it); what a
    silent arbiter means is the policy's rule for the order's class."""

    amount_minor: int = Field(ge=1, le=10**13, description="the order's price, minor units")
    currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")
    inspection_window_s: int = Field(default=72 * 3600, ge=0, le=90 * 86_400)
    arbiter_timeout_s: int = Field(default=14 * 86_400, ge=0, le=365 * 86_400)
    late_penalty_minor_per_unit_day: int = Field(default=0, ge=0, le=10**9)
    penalty_cap_permille: int = Field(default=100, ge=0, le=1000)


class DecisionIn(Strict):
    producer_share_permille: int = Field(ge=0, le=1000)


class RejectIn(Strict):
    producer_id: str = Field(min_length=1, max_length=40)
    units: int = Field(ge=1, le=10_000_000)


class FinishIn(Strict):
    material_lot: str = Field(default="", max_length=100, description="filament or resin lot")
    profile_hash: str = Field(default="", max_length=100, description="slicer profile hash")

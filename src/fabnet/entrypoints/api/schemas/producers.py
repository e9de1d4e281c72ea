"""Producers and machines over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from fabnet.domain.producers import Machine, Producer
from fabnet.domain.reliability import Belief, Probation, ReliabilityPrior
from fabnet.domain.states import FacilityStatus, MachineStatus
from fabnet.entrypoints.api.schemas.common import Location, Strict
from fabnet.services.commands import FacilitySpec, MachineSpec


class MachineIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    process: str = Field(min_length=1, max_length=60, examples=["fdm"])
    materials: list[str] = Field(min_length=1, max_length=50, examples=[["PLA", "PETG"]])
    build_volume_mm: tuple[float, float, float] = Field(strict=False, examples=[(250, 210, 210)])
    make: str = Field(default="", max_length=200)
    model: str = Field(default="", max_length=200)
    nozzle_mm: float | None = Field(default=None, gt=0, le=10)
    hours_per_day: float = Field(default=20.0, gt=0, le=24)
    speed_factor: float = Field(default=1.0, gt=0, le=100)

    def spec(self) -> MachineSpec:
        return MachineSpec(
            name=self.name,
            process=self.process,
            materials=tuple(self.materials),
            build_volume_mm=self.build_volume_mm,
            make=self.make,
            model=self.model,
            nozzle_mm=self.nozzle_mm,
            hours_per_day=self.hours_per_day,
            speed_factor=self.speed_factor,
        )


class PricingIn(Strict):
    """A producer's own prices, in integer minor units of ``currency``."""

    material_per_kg_minor: int = Field(ge=0, le=10**9)
    machine_per_hour_minor: int = Field(ge=0, le=10**9)
    setup_minor: int = Field(default=0, ge=0, le=10**9)
    margin_pct: float = Field(default=0.0, ge=0, le=1000)
    currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")


class ProducerIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    location: Location
    address: str = Field(default="", max_length=500)
    status: FacilityStatus = Field(default=FacilityStatus.ACTIVE, strict=False)
    certifications: list[str] = Field(default_factory=list, max_length=50)
    external_ref: str = Field(default="", max_length=200)
    machines: list[MachineIn] = Field(default_factory=list, max_length=1000)
    producer_class: Literal["maker", "fablab", "factory"] = "maker"
    pricing: PricingIn | None = None

    def spec(self) -> FacilitySpec:
        return FacilitySpec(
            name=self.name,
            lat=self.location.lat,
            lon=self.location.lon,
            address=self.address,
            status=self.status,
            certifications=tuple(self.certifications),
            external_ref=self.external_ref,
            machines=tuple(m.spec() for m in self.machines),
            producer_class=self.producer_class,
            pricing=self.pricing.model_dump() if self.pricing else None,
        )


class ProducerPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: FacilityStatus | None = Field(default=None, strict=False)
    certifications: list[str] | None = Field(default=None, max_length=50)
    producer_class: Literal["maker", "fablab", "factory"] | None = None
    pricing: PricingIn | None = None


class ProducerOut(BaseModel):
    id: str
    name: str
    location: Location
    address: str
    status: FacilityStatus
    certifications: list[str]
    reliability: float
    jobs_done: int
    jobs_failed: int
    producer_class: str
    pricing: PricingIn | None
    other_equipment: list[str] = Field(
        default_factory=list, description="equipment kept from an import, not planned on"
    )
    located: str = Field(
        default="", description="how an import without coordinates placed it ('' = its own)"
    )

    @classmethod
    def of(cls, p: Producer) -> ProducerOut:
        return cls(
            id=p.id,
            name=p.name,
            location=Location(lat=p.place.lat, lon=p.place.lon),
            address=p.address,
            status=p.status,
            certifications=list(p.certifications),
            reliability=round(p.reliability, 4),
            jobs_done=p.jobs_done,
            jobs_failed=p.jobs_failed,
            producer_class=p.producer_class.value,
            pricing=PricingIn.model_validate(p.pricing.to_dict()) if p.pricing else None,
            other_equipment=[e for e in p.extra.get("other_equipment", "").split("\n") if e],
            located=p.extra.get("located", ""),
        )


class MachineOut(BaseModel):
    id: str
    producer_id: str
    name: str
    process: str
    make: str
    model: str
    build_volume_mm: tuple[float, float, float]
    materials: list[str]
    nozzle_mm: float | None
    hours_per_day: float
    speed_factor: float
    status: MachineStatus
    capacity_flag: str = Field(description="why its declared capacity is in doubt; '' if not")
    probation: ProbationOut | None = Field(
        default=None, description="its terms while on probation; null once it graduated"
    )

    @classmethod
    def of(cls, m: Machine) -> MachineOut:
        v = m.build_volume
        return cls(
            id=m.id,
            producer_id=m.producer_id,
            name=m.name,
            process=m.process.value,
            make=m.make,
            model=m.model,
            build_volume_mm=(v.x_mm, v.y_mm, v.z_mm),
            materials=list(m.materials),
            nozzle_mm=m.nozzle_mm,
            hours_per_day=m.hours_per_day,
            speed_factor=m.speed_factor,
            status=m.status,
            capacity_flag=m.capacity_flag,
            probation=ProbationOut.of(m.probation) if m.probation else None,
        )


class ProbationOut(BaseModel):
    jobs_left: int = Field(description="jobs without a failure still to do")
    jobs: int = Field(description="jobs in a row it must do (a failure starts them again)")
    units_per_job: int = Field(description="most units of a line the planner gives it")
    graduate_at: float = Field(description="posterior mean reliability it must reach")

    @classmethod
    def of(cls, p: Probation) -> ProbationOut:
        return cls(
            jobs_left=p.left, jobs=p.jobs, units_per_job=p.units_per_job, graduate_at=p.graduate_at
        )


class BeliefOut(BaseModel):
    mean: float = Field(description="posterior mean chance a job succeeds")
    interval_90: tuple[float, float] = Field(description="90% credible interval")
    evidence: float = Field(description="discounted outcomes behind it, prior included")
    successes: float
    failures: float
    last_outcome_at: datetime | None

    @classmethod
    def of(cls, belief: Belief, prior: ReliabilityPrior, now: datetime) -> BeliefOut:
        post = belief.posterior(prior, now)
        lo, hi = post.interval(0.9)
        current = belief.decayed(now, prior) if belief.at else belief
        return cls(
            mean=round(post.mean, 4),
            interval_90=(round(lo, 4), round(hi, 4)),
            evidence=round(post.evidence, 3),
            successes=round(current.successes, 3),
            failures=round(current.failures, 3),
            last_outcome_at=belief.at,
        )


class MachineBeliefOut(BeliefOut):
    machine_id: str
    name: str


class ReliabilityOut(BaseModel):
    producer_id: str
    prior: dict[str, float]
    producer: BeliefOut
    machines: list[MachineBeliefOut]


class InviteIn(Strict):
    ttl_s: float = Field(default=7 * 86400.0, gt=0, le=90 * 86400.0, allow_inf_nan=False)


class InviteOut(BaseModel):
    producer_id: str
    code: str = Field(description="one-time; shown here once")
    expires_at: datetime


class EnrolIn(Strict):
    code: str = Field(min_length=1, max_length=200)


class EnrolOut(BaseModel):
    producer_id: str
    key_id: str
    principal_id: str
    secret: str = Field(description="the producer's API key; shown here once")


class RestockIn(Strict):
    material: str = Field(min_length=1, max_length=40, examples=["PLA"])


class MachineConfirmIn(Strict):
    build_volume_mm: tuple[float, float, float] = Field(strict=False, examples=[(250, 210, 210)])
    materials: list[str] = Field(min_length=1, max_length=50, examples=[["PLA", "PETG"]])


class MachineStatusIn(Strict):
    status: MachineStatus = Field(strict=False)


class MachineCommandIn(Strict):
    type: Literal["pause", "resume", "cancel", "bed_clear"]
    job_id: str = Field(default="", max_length=64)
    reason: str = Field(default="", max_length=500)


class MachineCommandOut(BaseModel):
    command_id: str


class MachineLiveOut(BaseModel):
    machine_id: str
    seen_at: datetime
    state: str
    job_id: str | None
    progress: float | None
    temps: dict[str, tuple[float, float]]
    messages: int

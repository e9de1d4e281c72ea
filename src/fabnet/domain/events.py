"""The catalogue of domain events. Every state change raises one; every event is logged.

Events are plain frozen dataclasses, named in the past tense. ``event_name(e)`` is the
stable name stored in the log; ``event_payload(e)`` its JSON-ready fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime


@dataclass(frozen=True, slots=True)
class ProducerRegistered(Event):
    producer_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ProducerUpdated(Event):
    producer_id: str


@dataclass(frozen=True, slots=True)
class MachineAdded(Event):
    machine_id: str
    producer_id: str
    process: str


@dataclass(frozen=True, slots=True)
class MachineStatusChanged(Event):
    machine_id: str
    producer_id: str
    status: str


@dataclass(frozen=True, slots=True)
class MachineCapacityFlagged(Event):
    """Its results contradict its declared capacity: for the operator to look at."""

    machine_id: str
    producer_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class DesignRegistered(Event):
    design_id: str
    name: str


@dataclass(frozen=True, slots=True)
class DesignReviewed(Event):
    """A reviewer's verdict on a design (not_reviewed, community_use, clinical_use)."""

    design_id: str
    status: str
    reviewer: str
    notes: str = ""


@dataclass(frozen=True, slots=True)
class DesignDownloaded(Event):
    """A producer fetched a design's file for a job (through a signed link)."""

    design_id: str
    content_hash: str
    job_id: str
    order_id: str
    producer_id: str


@dataclass(frozen=True, slots=True)
class OrderPlaced(Event):
    order_id: str
    consumer_id: str
    units: int


@dataclass(frozen=True, slots=True)
class OrderStateChanged(Event):
    order_id: str
    state: str


@dataclass(frozen=True, slots=True)
class JobEvent(Event):
    job_id: str
    order_id: str
    line_id: str
    machine_id: str
    producer_id: str
    units: int


@dataclass(frozen=True, slots=True)
class JobOffered(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobAccepted(JobEvent):
    terms_digest: str = ""  # the escrow terms the producer accepted with the job


@dataclass(frozen=True, slots=True)
class JobDeclined(JobEvent):
    reason: str = ""


@dataclass(frozen=True, slots=True)
class JobExpired(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobQueued(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobStarted(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobDone(JobEvent):
    units_made: int = 0


@dataclass(frozen=True, slots=True)
class UnitsMade(Event):
    """The provenance record of units: what, who, on which machine, from which material."""

    order_id: str
    line_id: str
    job_id: str
    units: int
    design_id: str  # the design record
    producer_id: str
    machine_id: str
    material: str
    material_lot: str = ""
    profile_hash: str = ""  # the slicer profile's hash, when the producer reports it
    qa: str = "not inspected"
    shipment: str = ""
    design_hash: str = ""  # the SHA-256 of the file the units were made from


@dataclass(frozen=True, slots=True)
class UnitsRejected(Event):
    """Units made that failed inspection: they go back to the line to be made again."""

    order_id: str
    line_id: str
    producer_id: str
    units: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class JobFlagged(JobEvent):
    """An anomaly in a running job's telemetry (fabrication/anomaly.py) and what the
    operator's policy does about it: ask the maker for a photo, or pause the print."""

    kind: str = ""  # temperature, stall, behind, error
    detail: str = ""
    action: str = "ask_photo"  # ask_photo | pause


@dataclass(frozen=True, slots=True)
class MachineQualified(Event):
    """A machine's test coupon measured against the tolerance rules."""

    machine_id: str
    producer_id: str
    passed: bool
    failed_features: str = ""  # comma-separated
    measurements: str = ""  # JSON: feature -> mm
    photo_hash: str = ""  # SHA-256 of the photo, stored content-addressed
    material: str = ""  # what the coupon was printed in (its tolerances)
    probation_jobs: int = 0  # jobs on probation it starts with (0: none)


@dataclass(frozen=True, slots=True)
class MachineGraduated(Event):
    """A machine on probation did its jobs without a failure and is trusted enough: the
    planner no longer bounds its jobs."""

    machine_id: str
    producer_id: str
    jobs: int
    reliability: float


@dataclass(frozen=True, slots=True)
class LotInspected(Event):
    """A job's lot checked by acceptance sampling (ISO 2859-1 single sampling, normal
    inspection, level II): the plan, what was found and the decision. Part of the
    provenance of the lot's units."""

    order_id: str
    line_id: str
    job_id: str
    producer_id: str
    lot_size: int
    aql: float
    code_letter: str
    sample_size: int
    accept: int
    reject: int
    nonconforming: int
    accepted: bool
    inspector: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class JobFailed(JobEvent):
    units_made: int = 0
    cause: str = ""


@dataclass(frozen=True, slots=True)
class JobCancelled(JobEvent):
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EscrowEvent(Event):
    order_id: str


@dataclass(frozen=True, slots=True)
class EscrowFunded(EscrowEvent):
    amount_minor: int
    currency: str
    units: int
    inspection_window_s: int
    arbiter_timeout_s: int
    default_outcome: str  # "release" or "refund" when the arbiter does not decide
    late_penalty_minor_per_unit_day: int
    penalty_cap_permille: int  # penalties take at most this share of a producer's earnings


@dataclass(frozen=True, slots=True)
class EscrowProductionStarted(EscrowEvent):
    pass


@dataclass(frozen=True, slots=True)
class EscrowUnitsDelivered(EscrowEvent):
    producer_id: str
    units: int
    days_late: int = 0
    job_id: str = ""  # the job that made them


@dataclass(frozen=True, slots=True)
class EscrowUnitsRejected(EscrowEvent):
    producer_id: str
    units: int  # failed inspection: they earn nothing


@dataclass(frozen=True, slots=True)
class EscrowAccepted(EscrowEvent):
    automatic: bool = False  # True when the inspection window passed without a dispute


@dataclass(frozen=True, slots=True)
class EscrowDisputed(EscrowEvent):
    reason: str = ""


@dataclass(frozen=True, slots=True)
class EscrowArbitrated(EscrowEvent):
    producer_share_permille: int  # of what producers would earn; the rest is refunded
    by_default: bool = False  # True when the arbiter's time ran out


@dataclass(frozen=True, slots=True)
class EscrowCancelled(EscrowEvent):
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ShipmentEvent(Event):
    """A parcel's step (domain/shipments.py); every one joins its order's log."""

    shipment_id: str
    order_id: str
    line_id: str
    producer_id: str
    units: int


@dataclass(frozen=True, slots=True)
class ShipmentReady(ShipmentEvent):
    """Made units packed at their producer (or back from a failed delivery), waiting
    for a route."""

    job_ids: str = ""  # comma-separated
    mass_g: int = 0


@dataclass(frozen=True, slots=True)
class ShipmentPlanned(ShipmentEvent):
    leg: int = 1
    mode: str = ""
    courier_id: str = ""  # "" for the parcel carrier
    route_id: str = ""
    eta: str = ""  # ISO time of arrival at the leg's end
    to_hub: bool = False
    pickup_eta: str = ""  # ISO time of the pickup


@dataclass(frozen=True, slots=True)
class ShipmentPickedUp(ShipmentEvent):
    leg: int = 1


@dataclass(frozen=True, slots=True)
class ShipmentInTransit(ShipmentEvent):
    leg: int = 1
    note: str = ""


@dataclass(frozen=True, slots=True)
class ShipmentAtHub(ShipmentEvent):
    leg: int = 1


@dataclass(frozen=True, slots=True)
class ShipmentDelivered(ShipmentEvent):
    """Delivered with its proof: the code's or the signature's or photo's SHA-256."""

    leg: int = 1
    proof_kind: str = ""
    proof_sha256: str = ""
    on_time: bool = True
    made_days_late: int = 0  # production's lateness: the basis of the maker's penalty
    distance_km: float = 0.0  # its share of the routes' km, all legs
    co2_kg: float = 0.0
    modes: str = ""  # each leg's mode, comma-separated


@dataclass(frozen=True, slots=True)
class ShipmentFailed(ShipmentEvent):
    leg: int = 1
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ShipmentReturned(ShipmentEvent):
    leg: int = 1


@dataclass(frozen=True, slots=True)
class WeatherSwitched(Event):
    """Drones grounded (or flying again) in a weather area of the airspace."""

    area: str
    flyable: bool
    by: str = ""


@dataclass(frozen=True, slots=True)
class CourierRegistered(Event):
    courier_id: str
    mode: str


def event_name(event: Event) -> str:
    return type(event).__name__


def event_payload(event: Event) -> dict[str, Any]:
    data = asdict(event)
    data["at"] = event.at.isoformat()
    return data


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        ProducerRegistered,
        ProducerUpdated,
        MachineAdded,
        MachineStatusChanged,
        MachineCapacityFlagged,
        DesignRegistered,
        DesignReviewed,
        DesignDownloaded,
        OrderPlaced,
        OrderStateChanged,
        JobOffered,
        JobAccepted,
        JobDeclined,
        JobExpired,
        JobQueued,
        JobStarted,
        JobDone,
        JobFailed,
        JobCancelled,
        UnitsMade,
        UnitsRejected,
        LotInspected,
        JobFlagged,
        MachineQualified,
        MachineGraduated,
        EscrowFunded,
        EscrowProductionStarted,
        EscrowUnitsDelivered,
        EscrowUnitsRejected,
        EscrowAccepted,
        EscrowDisputed,
        EscrowArbitrated,
        EscrowCancelled,
        ShipmentReady,
        ShipmentPlanned,
        ShipmentPickedUp,
        ShipmentInTransit,
        ShipmentAtHub,
        ShipmentDelivered,
        ShipmentFailed,
        ShipmentReturned,
        CourierRegistered,
        WeatherSwitched,
    )
}


def event_from(name: str, payload: dict[str, Any]) -> Event:
    """Rebuild an event from its logged name and payload (the inverse of event_payload)."""
    from datetime import datetime

    cls = EVENT_TYPES[name]
    data = dict(payload)
    data["at"] = datetime.fromisoformat(data["at"])
    return cls(**data)


def field_names(cls: type[Event]) -> list[str]:
    return [f.name for f in fields(cls)]

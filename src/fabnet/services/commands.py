"""The catalogue of commands: what callers ask fabnet to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fabnet.domain.access import Principal
from fabnet.domain.ids import ApiKeyId, DesignId, JobId, LineId, MachineId, OrderId, ProducerId
from fabnet.domain.states import DeclineReason, FacilityStatus, MachineStatus, ReviewStatus, Role
from fabnet.services.machine_messages import AgentEvent


class Command:
    """Marker base class."""


@dataclass(frozen=True)
class MachineSpec:
    name: str
    process: str
    materials: tuple[str, ...]
    build_volume_mm: tuple[float, float, float] | None  # None: not known (unverified)
    make: str = ""
    model: str = ""
    nozzle_mm: float | None = None
    hours_per_day: float = 20.0
    speed_factor: float = 1.0
    unverified: str = ""  # why it cannot be planned on until its producer confirms it


@dataclass(frozen=True)
class FacilitySpec:
    """A producer with its machines, as an OKW record or an API body describes it."""

    name: str
    lat: float
    lon: float
    address: str = ""
    status: FacilityStatus = FacilityStatus.ACTIVE
    certifications: tuple[str, ...] = ()
    external_ref: str = ""
    machines: tuple[MachineSpec, ...] = ()
    producer_class: str = "maker"
    pricing: dict[str, object] | None = None  # PriceRule fields; None: the hub's default
    extra: dict[str, str] = field(default_factory=dict)  # import notes (other equipment)


@dataclass(frozen=True)
class RegisterProducer(Command):
    actor: Principal
    facility: FacilitySpec


@dataclass(frozen=True)
class ImportFacilities(Command):
    """Create or update producers by ``external_ref``; same input twice changes nothing."""

    actor: Principal
    facilities: tuple[FacilitySpec, ...]


@dataclass(frozen=True)
class UpdateProducer(Command):
    actor: Principal
    producer_id: ProducerId
    name: str | None = None
    status: FacilityStatus | None = None
    certifications: tuple[str, ...] | None = None
    producer_class: str | None = None
    pricing: dict[str, object] | None = None


@dataclass(frozen=True)
class AddMachine(Command):
    actor: Principal
    producer_id: ProducerId
    machine: MachineSpec


@dataclass(frozen=True)
class ConfirmMachine(Command):
    """A producer states an imported machine's build volume and materials."""

    actor: Principal
    machine_id: MachineId
    build_volume_mm: tuple[float, float, float]
    materials: tuple[str, ...]


@dataclass(frozen=True)
class SetMachineStatus(Command):
    actor: Principal
    machine_id: MachineId
    status: MachineStatus


@dataclass(frozen=True)
class RegisterDesign(Command):
    actor: Principal
    filename: str
    data: bytes
    name: str
    process: str
    materials: tuple[str, ...]
    print_time_s: float | None = None  # None: the fast estimate's time
    extra: dict[str, str] = field(default_factory=dict)  # licence, source (OKH import)


@dataclass(frozen=True)
class LineRequest:
    design_id: DesignId
    material: str
    quantity: int
    deadline: datetime
    lat: float
    lon: float
    min_review: ReviewStatus = ReviewStatus.NOT_REVIEWED


@dataclass(frozen=True)
class ReviewDesign(Command):
    """A reviewer sets how far a design is vetted."""

    actor: Principal
    design_id: DesignId
    status: ReviewStatus
    notes: str = ""


@dataclass(frozen=True)
class PlaceOrder(Command):
    actor: Principal
    lines: tuple[LineRequest, ...]
    priority: int = 0
    reference: str = ""
    plan: bool = True  # plan at once (the default) or leave it for a later PlanOrders


@dataclass(frozen=True)
class CancelOrder(Command):
    actor: Principal
    order_id: OrderId
    reason: str = ""


@dataclass(frozen=True)
class PlanOrders(Command):
    """Plan the unallocated units of these orders (all open orders when empty)."""

    order_ids: tuple[str, ...] = ()
    solver: str = ""  # "" = the policy's solver


@dataclass(frozen=True)
class AcceptJob(Command):
    actor: Principal
    job_id: JobId
    terms_digest: str = ""  # the escrow terms seen with the offer; refused if they changed


@dataclass(frozen=True)
class DeclineJob(Command):
    actor: Principal
    job_id: JobId
    reason: str = ""  # free text
    kind: DeclineReason = DeclineReason.OTHER


@dataclass(frozen=True)
class InviteProducer(Command):
    """The operator invites a producer: a one-time enrolment code, for its key."""

    actor: Principal
    producer_id: ProducerId
    ttl_s: float = 7 * 86400.0


@dataclass(frozen=True)
class Enrol(Command):
    """A producer exchanges its enrolment code for its API key (once)."""

    code: str


@dataclass(frozen=True)
class FlagJob(Command):
    """The hub saw an anomaly in a running job's telemetry (internal: the MQTT bridge)."""

    job_id: JobId
    kind: str
    detail: str


@dataclass(frozen=True)
class QualifyMachine(Command):
    """A maker's caliper measurements of the test coupon its machine printed."""

    actor: Principal
    machine_id: MachineId
    measurements: dict[str, object]
    photo: bytes = b""
    material: str = ""  # what the coupon was printed in; "" = the machine's first


@dataclass(frozen=True)
class InspectLot(Command):
    """An inspector records what a sample of a finished job's lot showed."""

    actor: Principal
    job_id: JobId
    aql: float
    nonconforming: int
    note: str = ""


@dataclass(frozen=True)
class RestockMaterial(Command):
    """A producer has a material again that a decline took off its machines."""

    actor: Principal
    producer_id: ProducerId
    material: str


@dataclass(frozen=True)
class QueueJob(Command):
    actor: Principal
    job_id: JobId


@dataclass(frozen=True)
class StartJob(Command):
    actor: Principal
    job_id: JobId


@dataclass(frozen=True)
class FinishJob(Command):
    actor: Principal
    job_id: JobId
    material_lot: str = ""  # recorded in the provenance log
    profile_hash: str = ""


@dataclass(frozen=True)
class FailJob(Command):
    actor: Principal
    job_id: JobId
    cause: str
    units_made: int = 0


@dataclass(frozen=True)
class CancelJob(Command):
    actor: Principal
    job_id: JobId
    reason: str = ""


@dataclass(frozen=True)
class ExpireOffers(Command):
    """Expire every offer whose time ran out (a scheduler calls this)."""


@dataclass(frozen=True)
class CreateApiKey(Command):
    name: str
    role: Role
    producer_id: str | None = None
    principal_id: str | None = None  # defaults to a new principal (a new consumer, say)
    extra: dict[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ("read", "write")


@dataclass(frozen=True)
class RevokeApiKey(Command):
    """An operator revokes any key; a principal its own."""

    actor: Principal
    key_id: ApiKeyId


@dataclass(frozen=True)
class FundEscrow(Command):
    """Fund an order's escrow before production starts, on terms within the hub's
    escrow policy; what a silent arbiter means is the policy's, not the consumer's."""

    actor: Principal
    order_id: OrderId
    amount_minor: int
    currency: str = "EUR"
    inspection_window_s: int = 72 * 3600
    arbiter_timeout_s: int = 14 * 86_400
    late_penalty_minor_per_unit_day: int = 0
    penalty_cap_permille: int = 100


@dataclass(frozen=True)
class RejectUnits(Command):
    """An inspector records units of one producer that failed QA: they are made again."""

    actor: Principal
    order_id: OrderId
    producer_id: ProducerId
    units: int
    line_id: LineId | None = None  # may be left out when the order has one line
    reason: str = ""


@dataclass(frozen=True)
class AcceptDelivery(Command):
    actor: Principal
    order_id: OrderId


@dataclass(frozen=True)
class OpenDispute(Command):
    actor: Principal
    order_id: OrderId
    reason: str = ""


@dataclass(frozen=True)
class DecideDispute(Command):
    actor: Principal
    order_id: OrderId
    producer_share_permille: int


@dataclass(frozen=True)
class SweepEscrows(Command):
    """Accept deliveries whose inspection window passed, apply the default outcome of
    disputes whose arbiter ran out of time (a scheduler calls this)."""


@dataclass(frozen=True)
class RequestQuote(Command):
    """Quote a part: from an uploaded file (filename + data) or a registered design."""

    actor: Principal
    material: str = "PLA"
    quantity: int = 1
    filename: str = ""
    data: bytes = b""
    design_id: DesignId | None = None
    exact: bool = False  # also slice with the real slicer


@dataclass(frozen=True)
class ApplyAgentEvent(Command):
    """A job event reported by a producer's agent, from a topic under ``producer_id``."""

    producer_id: ProducerId
    event: AgentEvent


@dataclass(frozen=True)
class HearMachine(Command):
    machine_id: MachineId


@dataclass(frozen=True)
class SweepHeartbeats(Command):
    timeout_s: float


@dataclass(frozen=True)
class SendMachineCommand(Command):
    actor: Principal
    machine_id: MachineId
    type: str  # cancel, pause, resume, bed_clear
    job_id: JobId | None = None
    reason: str = ""


@dataclass(frozen=True)
class RegisterCourier(Command):
    actor: Principal
    name: str
    mode: str  # van, ev_van, cargo_bike, ride_share, drone (routing/modes.py)
    lat: float
    lon: float  # its base: the hub its routes start from and end at


@dataclass(frozen=True)
class PlanShipments(Command):
    """One routing wave (the hub runs one every FABNET_ROUTING_INTERVAL_S)."""

    actor: Principal | None = None  # None: the hub itself
    seed: int = 0
    budget_s: float | None = None  # the solver's time for the wave (None: the policy's)


@dataclass(frozen=True)
class RecordShipmentEvent(Command):
    actor: Principal
    shipment_id: str
    kind: str  # picked_up, in_transit, at_hub, delivered, failed, returned, retry
    proof_kind: str = "code"  # for delivered: code, signature, photo, consignee
    proof: str = ""  # the code, or the signature's or photo's SHA-256
    reason: str = ""  # for failed (required) and in_transit (a note)


@dataclass(frozen=True)
class SwitchWeather(Command):
    """Ground the drones of a weather area of the airspace, or let them fly again."""

    actor: Principal
    area: str
    flyable: bool

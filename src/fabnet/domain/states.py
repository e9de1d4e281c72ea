"""The catalogue of state names, and the moves each state machine allows."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    EXPIRED = "expired"


JOB_MOVES: dict[JobState, frozenset[JobState]] = {
    JobState.OFFERED: frozenset(
        {JobState.ACCEPTED, JobState.DECLINED, JobState.EXPIRED, JobState.CANCELLED}
    ),
    JobState.ACCEPTED: frozenset({JobState.QUEUED, JobState.FAILED, JobState.CANCELLED}),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.FAILED, JobState.CANCELLED}),
    JobState.RUNNING: frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED}),
    JobState.DONE: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.DECLINED: frozenset(),
    JobState.EXPIRED: frozenset(),
}

JOB_LIVE = frozenset({JobState.OFFERED, JobState.ACCEPTED, JobState.QUEUED, JobState.RUNNING})
JOB_FINAL = frozenset(set(JobState) - JOB_LIVE)


class OrderState(StrEnum):
    PLACED = "placed"  # accepted, nothing planned yet
    PLANNED = "planned"  # every unit is in a job or made
    IN_PRODUCTION = "in_production"  # at least one unit made
    FULFILLED = "fulfilled"  # every unit made
    CANCELLED = "cancelled"


ORDER_MOVES: dict[OrderState, frozenset[OrderState]] = {
    OrderState.PLACED: frozenset(
        {OrderState.PLANNED, OrderState.IN_PRODUCTION, OrderState.CANCELLED}
    ),
    OrderState.PLANNED: frozenset(
        {OrderState.PLACED, OrderState.IN_PRODUCTION, OrderState.FULFILLED, OrderState.CANCELLED}
    ),
    OrderState.IN_PRODUCTION: frozenset({OrderState.FULFILLED, OrderState.CANCELLED}),
    # units that fail inspection are made again
    OrderState.FULFILLED: frozenset({OrderState.IN_PRODUCTION}),
    OrderState.CANCELLED: frozenset(),
}


class MachineStatus(StrEnum):
    IDLE = "idle"
    BUSY = "busy"
    PAUSED = "paused"
    OFFLINE = "offline"
    MAINTENANCE = "maintenance"
    UNVERIFIED = "unverified"  # imported without a build volume or materials: not planned


class ReviewStatus(StrEnum):
    """How far a design has been vetted, lowest first (after the NIH 3D Print Exchange's
    review levels for PPE designs)."""

    NOT_REVIEWED = "not_reviewed"
    COMMUNITY_USE = "community_use"  # reviewed: fit for use outside clinics
    CLINICAL_USE = "clinical_use"  # reviewed: fit for clinical use

    @property
    def rank(self) -> int:
        return list(ReviewStatus).index(self)


class DeclineReason(StrEnum):
    """Why a producer declines an offer: each tells the planner something different."""

    OUT_OF_MATERIAL = "out_of_material"  # the material leaves the producer's machines
    MACHINE_DOWN = "machine_down"  # the machine goes into maintenance
    TOO_BUSY = "too_busy"  # not this line from this producer
    OTHER = "other"  # not this line from this producer


class FacilityStatus(StrEnum):
    """Open Know-Where facility statuses."""

    ACTIVE = "active"
    PLANNED = "planned"
    TEMPORARY_CLOSURE = "temporary_closure"
    CLOSED = "closed"


class Role(StrEnum):
    OPERATOR = "operator"
    CONSUMER = "consumer"
    PRODUCER = "producer"
    COURIER = "courier"


class ShipmentState(StrEnum):
    """Where a parcel is. ``ready``: made, waiting at its producer (or, after the first
    leg, at the hub) for a route; ``planned``: on a courier's route or booked with the
    parcel carrier, with an ETA."""

    READY = "ready"
    PLANNED = "planned"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    AT_HUB = "at_hub"
    DELIVERED = "delivered"
    FAILED = "failed"
    RETURNED = "returned"


SHIPMENT_MOVES: dict[ShipmentState, frozenset[ShipmentState]] = {
    ShipmentState.READY: frozenset({ShipmentState.PLANNED, ShipmentState.FAILED}),
    # a planned parcel not yet picked up may be routed again (another courier, or back to
    # ready when no route has room): never one already picked up
    ShipmentState.PLANNED: frozenset(
        {
            ShipmentState.PLANNED,
            ShipmentState.READY,
            ShipmentState.PICKED_UP,
            ShipmentState.FAILED,
        }
    ),
    ShipmentState.PICKED_UP: frozenset(
        {
            ShipmentState.IN_TRANSIT,
            ShipmentState.AT_HUB,
            ShipmentState.DELIVERED,
            ShipmentState.FAILED,
        }
    ),
    ShipmentState.IN_TRANSIT: frozenset(
        {ShipmentState.AT_HUB, ShipmentState.DELIVERED, ShipmentState.FAILED}
    ),
    ShipmentState.AT_HUB: frozenset({ShipmentState.PLANNED, ShipmentState.FAILED}),
    ShipmentState.DELIVERED: frozenset(),
    # a failed delivery is tried again (ready) or goes back to its maker
    ShipmentState.FAILED: frozenset({ShipmentState.READY, ShipmentState.RETURNED}),
    ShipmentState.RETURNED: frozenset(),
}

SHIPMENT_WAITING = frozenset({ShipmentState.READY, ShipmentState.AT_HUB})
SHIPMENT_MOVING = frozenset(
    {ShipmentState.PICKED_UP, ShipmentState.IN_TRANSIT}
)  # in a courier's hands: never routed to another


class ProofKind(StrEnum):
    """How a delivery is proven: the consignee's one-time code (checked), a signature
    or photo (its SHA-256, logged), or the consignee's own confirmation."""

    CODE = "code"
    SIGNATURE = "signature"
    PHOTO = "photo"
    CONSIGNEE = "consignee"

"""Shipments: the units one job made, on their way to the line's destination; couriers.

::

    ready --> planned --> picked_up --> (in_transit) --> delivered
      ^          |  ^          |              |      +--> at_hub --> planned (next leg)
      |          +--+ re-routed (never once picked up)
      +---- failed <-- any of planned, picked_up, in_transit, at_hub
                 +--> returned (to its maker)

A shipment travels in legs: the first from its producer, to the destination or to a
hub; from a hub, a second leg to the destination. Each leg is on one courier's route
(or booked with the parcel carrier). A leg's courier is fixed once the parcel is picked
up: routing moves only parcels still waiting for their pickup.

Delivery is proven by the consignee's one-time code (the shipment keeps the code for
its consignee to read; the log keeps only its hash), or by the SHA-256 of a signature or
photo. Wrong codes are counted; after ``MAX_PROOF_ATTEMPTS`` the code is refused until
an operator looks.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from fabnet.domain.aggregate import Aggregate
from fabnet.domain.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from fabnet.domain.events import (
    CourierRegistered,
    ShipmentAtHub,
    ShipmentDelivered,
    ShipmentEvent,
    ShipmentFailed,
    ShipmentInTransit,
    ShipmentPickedUp,
    ShipmentPlanned,
    ShipmentReady,
    ShipmentReturned,
    WeatherSwitched,
)
from fabnet.domain.ids import CourierId, JobId, LineId, OrderId, ProducerId, ShipmentId
from fabnet.domain.states import SHIPMENT_MOVES, ProofKind, ShipmentState
from fabnet.domain.units import Place

MAX_PROOF_ATTEMPTS = 5


class WrongProof(InvalidInput):
    """A wrong code: the try is counted (the caller commits the count), then refused."""

    def __init__(self, left: int) -> None:
        super().__init__("proof", f"the code does not match ({left} tries left)")
        self.left = left


CARRIER = "parcel_carrier"  # the mode of a leg booked with the parcel carrier (no courier)
_HEX64 = re.compile(r"[0-9a-f]{64}")


def proof_digest(value: str) -> str:
    return hashlib.sha256(value.strip().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg as routing planned it: who carries it, where to, and when."""

    mode: str
    courier_id: CourierId | None  # None: the parcel carrier
    route_id: str
    stop: int  # the parcel's place in its route (pickup order)
    to: Place  # the leg's end: the destination or a hub
    to_hub: bool
    pickup_eta: datetime
    eta: datetime  # arrival at ``to``
    distance_km: float  # this parcel's share of the route's km (by tonne-km)
    co2_kg: float  # its share of the route's emissions


@dataclass(kw_only=True)
class Shipment(Aggregate):
    id: ShipmentId
    order_id: OrderId
    line_id: LineId
    producer_id: ProducerId
    job_ids: tuple[JobId, ...]
    units: int
    mass_g: int
    volume_ml: int
    origin: Place  # where it is now: the producer, or the hub after a first leg
    destination: Place
    due: datetime  # the line's deadline: delivered by then is on time
    made_days_late: int  # production's own lateness (the escrow's penalty basis)
    proof_code: str  # the consignee's one-time code (shown to the consignee only)
    created_at: datetime
    state: ShipmentState = ShipmentState.READY
    leg_no: int = 1
    leg: Leg | None = None
    updated_at: datetime | None = None
    delivered_at: datetime | None = None
    distance_km: float = 0.0  # all legs so far
    co2_kg: float = 0.0
    modes: tuple[str, ...] = ()  # the mode of each leg so far
    proof_attempts: int = 0
    reason: str = ""  # why it failed, or why routing left it waiting

    def __post_init__(self) -> None:
        if self.units < 1:
            raise InvalidInput("units", "a shipment carries at least one unit")
        if self.mass_g < 1 or self.volume_ml < 1:
            raise InvalidInput("mass_g", "a parcel has a mass and a size")

    # -- reads --------------------------------------------------------------------------

    @property
    def courier_id(self) -> CourierId | None:
        return self.leg.courier_id if self.leg else None

    @property
    def on_time(self) -> bool | None:
        if self.delivered_at is None:
            return None
        return self.delivered_at <= self.due

    def carried_by(self, courier_id: str) -> bool:
        return self.leg is not None and self.leg.courier_id == courier_id

    # -- moves --------------------------------------------------------------------------

    def ready(self, at: datetime, job_ids: tuple[JobId, ...]) -> Shipment:
        """Mark a newly made shipment as ready at its producer (raises its event)."""
        self.updated_at = at
        self.events.append(
            self._event(ShipmentReady, at, job_ids=",".join(job_ids), mass_g=self.mass_g)
        )
        return self

    def plan(self, leg: Leg, at: datetime) -> None:
        """On a route (again). A parcel in a courier's hands is never routed again."""
        if self.state is ShipmentState.PLANNED and self.leg == leg:
            return
        self._move(ShipmentState.PLANNED, at)
        self.leg, self.reason = leg, ""
        self.events.append(
            self._event(
                ShipmentPlanned,
                at,
                leg=self.leg_no,
                mode=leg.mode,
                courier_id=leg.courier_id or "",
                route_id=leg.route_id,
                eta=leg.eta.isoformat(),
                to_hub=leg.to_hub,
                pickup_eta=leg.pickup_eta.isoformat(),
            )
        )

    def unplan(self, at: datetime, reason: str) -> None:
        """No route has room for it in this wave: back to waiting (not an event worth
        logging each wave: the reason is kept on the shipment)."""
        if self.state is ShipmentState.PLANNED:
            self._move(ShipmentState.READY, at)
            self.leg = None
        self.reason = reason[:300]
        self.updated_at = at

    def pick_up(self, at: datetime, courier_id: str | None) -> None:
        self._check_carrier(courier_id)
        self._move(ShipmentState.PICKED_UP, at)
        self.events.append(self._event(ShipmentPickedUp, at, leg=self.leg_no))

    def in_transit(self, at: datetime, courier_id: str | None, note: str = "") -> None:
        self._check_carrier(courier_id)
        self._move(ShipmentState.IN_TRANSIT, at)
        self.events.append(self._event(ShipmentInTransit, at, leg=self.leg_no, note=note[:200]))

    def at_hub(self, at: datetime, courier_id: str | None) -> None:
        self._check_carrier(courier_id)
        assert self.leg is not None
        if not self.leg.to_hub:
            raise InvalidInput("kind", "this leg ends at the destination, not at a hub")
        self._move(ShipmentState.AT_HUB, at)
        self._close_leg()
        self.origin = self.leg.to
        self.leg_no += 1
        self.events.append(self._event(ShipmentAtHub, at, leg=self.leg_no - 1))
        self.leg = None

    def deliver(
        self, at: datetime, courier_id: str | None, proof_kind: ProofKind, proof: str
    ) -> None:
        """Delivered, with its proof checked (a code) or recorded (a digest)."""
        self._check_carrier(courier_id)
        if self.state not in (ShipmentState.PICKED_UP, ShipmentState.IN_TRANSIT):
            raise InvalidTransition("shipment", self.id, self.state, ShipmentState.DELIVERED)
        assert self.leg is not None
        if self.leg.to_hub:
            raise InvalidInput("kind", "this leg ends at a hub: report at_hub")
        logged = self._check_proof(proof_kind, proof)
        self._move(ShipmentState.DELIVERED, at)
        self._close_leg()
        self.delivered_at = at
        self.events.append(
            self._event(
                ShipmentDelivered,
                at,
                leg=self.leg_no,
                proof_kind=proof_kind.value,
                proof_sha256=logged,
                on_time=at <= self.due,
                made_days_late=self.made_days_late,
                distance_km=round(self.distance_km, 3),
                co2_kg=round(self.co2_kg, 4),
                modes=",".join(self.modes),
            )
        )

    def fail(self, at: datetime, courier_id: str | None, reason: str) -> None:
        self._check_carrier(courier_id)
        if not reason.strip():
            raise InvalidInput("reason", "say why the delivery failed")
        self._move(ShipmentState.FAILED, at)
        self.reason = reason.strip()[:300]
        self.events.append(self._event(ShipmentFailed, at, leg=self.leg_no, reason=self.reason))

    def retry(self, at: datetime) -> None:
        """A failed delivery waits for a route again, from where the parcel is now."""
        self._move(ShipmentState.READY, at)
        self.leg = None
        self.events.append(self._event(ShipmentReady, at, job_ids="", mass_g=self.mass_g))

    def return_to_maker(self, at: datetime, courier_id: str | None) -> None:
        self._check_carrier(courier_id)
        self._move(ShipmentState.RETURNED, at)
        self.events.append(self._event(ShipmentReturned, at, leg=self.leg_no))

    # -- rules --------------------------------------------------------------------------

    def _check_carrier(self, courier_id: str | None) -> None:
        """``courier_id`` None: an operator (or the consignee) acts; else it must be the
        courier of the current leg."""
        if courier_id is None:
            return
        if self.leg is None or self.leg.courier_id != courier_id:
            raise Forbidden(f"shipment {self.id} is not on your route")

    def _check_proof(self, kind: ProofKind, proof: str) -> str:
        if kind is ProofKind.CODE:
            if self.proof_attempts >= MAX_PROOF_ATTEMPTS:
                raise Conflict(
                    f"shipment {self.id}: {MAX_PROOF_ATTEMPTS} wrong codes; an operator must "
                    "confirm this delivery"
                )
            if not hmac.compare_digest(proof.strip().encode(), self.proof_code.encode()):
                self.proof_attempts += 1
                left = MAX_PROOF_ATTEMPTS - self.proof_attempts
                raise WrongProof(left)
            return proof_digest(proof)
        if kind in (ProofKind.SIGNATURE, ProofKind.PHOTO):
            value = proof.strip().lower()
            if not _HEX64.fullmatch(value):
                raise InvalidInput("proof", f"a {kind.value} is given as its SHA-256 (64 hex)")
            return value
        return ""  # the consignee's own confirmation: who confirmed is in the event's actor

    def _close_leg(self) -> None:
        assert self.leg is not None
        self.distance_km += self.leg.distance_km
        self.co2_kg += self.leg.co2_kg
        self.modes = (*self.modes, self.leg.mode)

    def _move(self, target: ShipmentState, at: datetime) -> None:
        if target not in SHIPMENT_MOVES[self.state]:
            raise InvalidTransition("shipment", self.id, self.state, target)
        self.state = target
        self.updated_at = at

    def _event(self, cls: type[ShipmentEvent], at: datetime, **extra: object) -> ShipmentEvent:
        return cls(
            at=at,
            shipment_id=self.id,
            order_id=self.order_id,
            line_id=self.line_id,
            producer_id=self.producer_id,
            units=self.units,
            **extra,
        )


@dataclass(kw_only=True)
class Courier(Aggregate):
    """Someone who carries parcels: a van or cargo-bike courier, a ride-share driver, a
    drone operator. Its base is its hub: routes start and end there."""

    id: CourierId
    name: str
    mode: str  # a name in routing/modes.py
    base: Place
    created_at: datetime
    active: bool = True

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("name", "must not be empty")

    def registered(self) -> Courier:
        self.events.append(
            CourierRegistered(at=self.created_at, courier_id=self.id, mode=self.mode)
        )
        return self


@dataclass(kw_only=True)
class WeatherSwitch(Aggregate):
    """Whether drones may fly in a weather area of the hub's airspace, as an operator last
    set it (the setting's ``flyable`` until then)."""

    id: str  # the area's name
    flyable: bool
    set_at: datetime
    set_by: str

    def switch(self, flyable: bool, at: datetime, by: str) -> None:
        self.flyable, self.set_at, self.set_by = flyable, at, by
        self.events.append(WeatherSwitched(at=at, area=self.id, flyable=flyable, by=by))

"""Escrow contracts: a deterministic state machine over logged events, and nothing else.

::

    funded --> in_production --> delivered --> accepted (released)
       |             |               |   +--> disputed --> arbitrated (released / refunded / split)
       +-------------+---------------+--> cancelled (refunded)

Money is integer minor units and is conserved after every event:
``funded == held + sum(paid) + refunded``. A unit earns ``amount // units``; units that
failed inspection earn nothing and are made again (the contract is back in production
until they are delivered); lateness costs ``late_penalty x units x days`` but at most
``penalty_cap`` of what that producer earned; the remainder goes back to the consumer.
Replaying the same events gives the same balances, to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from fabnet.domain import events as ev
from fabnet.domain.errors import InvalidInput, InvalidTransition


class EscrowState(StrEnum):
    OPEN = "open"  # not funded yet
    FUNDED = "funded"
    IN_PRODUCTION = "in_production"
    DELIVERED = "delivered"
    DISPUTED = "disputed"
    RELEASED = "released"
    REFUNDED = "refunded"


TERMINAL = frozenset({EscrowState.RELEASED, EscrowState.REFUNDED})


@dataclass
class Escrow:
    order_id: str
    state: EscrowState = EscrowState.OPEN
    terms: ev.EscrowFunded | None = None
    delivered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    late_unit_days: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    delivered_at: datetime | None = None
    disputed_at: datetime | None = None
    held: int = 0
    paid: dict[str, int] = field(default_factory=dict)
    refunded: int = 0

    @classmethod
    def replay(cls, order_id: str, events: Iterable[ev.Event]) -> Escrow:
        escrow = cls(order_id)
        for event in events:
            if isinstance(event, ev.EscrowEvent) and event.order_id == order_id:
                escrow.apply(event)
        return escrow

    @property
    def funded(self) -> int:
        return self.terms.amount_minor if self.terms else 0

    @property
    def good_units(self) -> int:
        """Units delivered and not rejected."""
        return sum(self.delivered.values()) - sum(self.rejected.values())

    @property
    def unit_price(self) -> int:
        return self.terms.amount_minor // self.terms.units if self.terms else 0

    def apply(self, event: ev.EscrowEvent) -> None:
        if event.order_id != self.order_id:
            raise InvalidInput("order_id", "the event is about another order")
        handler = _HANDLERS.get(type(event))
        if handler is None:
            raise InvalidInput("event", f"{type(event).__name__} is not an escrow event")
        handler(self, event)

    def _need(self, *states: EscrowState, target: str) -> None:
        if self.state not in states:
            raise InvalidTransition("escrow", self.order_id, self.state, target)

    def _fund(self, e: ev.EscrowFunded) -> None:
        self._need(EscrowState.OPEN, target="funded")
        for name in (
            "amount_minor",
            "units",
            "inspection_window_s",
            "arbiter_timeout_s",
            "late_penalty_minor_per_unit_day",
        ):
            if getattr(e, name) < (1 if name in ("amount_minor", "units") else 0):
                raise InvalidInput(name, "out of range")
        if not 0 <= e.penalty_cap_permille <= 1000:
            raise InvalidInput("penalty_cap_permille", "must be in 0..1000")
        if e.default_outcome not in ("release", "refund"):
            raise InvalidInput("default_outcome", "must be 'release' or 'refund'")
        self.terms, self.held, self.state = e, e.amount_minor, EscrowState.FUNDED

    def _start(self, e: ev.EscrowProductionStarted) -> None:
        self._need(EscrowState.FUNDED, target="in_production")
        self.state = EscrowState.IN_PRODUCTION

    def _deliver(self, e: ev.EscrowUnitsDelivered) -> None:
        self._need(EscrowState.FUNDED, EscrowState.IN_PRODUCTION, target="delivered")
        assert self.terms is not None
        if e.units < 1 or e.days_late < 0:
            raise InvalidInput("units", "deliveries are of at least one unit, never early")
        if self.good_units + e.units > self.terms.units:
            raise InvalidInput("units", "more units delivered than were ordered")
        self.delivered[e.producer_id] += e.units
        self.late_unit_days[e.producer_id] += e.units * e.days_late
        self.state = EscrowState.IN_PRODUCTION
        if self.good_units == self.terms.units:
            self.state, self.delivered_at = EscrowState.DELIVERED, e.at

    def _reject(self, e: ev.EscrowUnitsRejected) -> None:
        self._need(EscrowState.IN_PRODUCTION, EscrowState.DELIVERED, target="inspected")
        if self.delivered_at is not None and e.at > self._inspection_deadline():
            raise InvalidTransition("escrow", self.order_id, "inspection closed", "rejected")
        good = self.delivered[e.producer_id] - self.rejected[e.producer_id]
        if not 1 <= e.units <= good:
            raise InvalidInput("units", f"{e.producer_id} has {good} delivered units to reject")
        self.rejected[e.producer_id] += e.units
        # the rejected units are made again before the order counts as delivered
        self.state, self.delivered_at = EscrowState.IN_PRODUCTION, None

    def _inspection_deadline(self) -> datetime:
        assert self.terms is not None
        assert self.delivered_at is not None
        return self.delivered_at + timedelta(seconds=self.terms.inspection_window_s)

    def _accept(self, e: ev.EscrowAccepted) -> None:
        self._need(EscrowState.DELIVERED, target="accepted")
        if e.automatic and e.at < self._inspection_deadline():
            raise InvalidTransition("escrow", self.order_id, "inspection window open", "accepted")
        self._settle(1000)
        self.state = EscrowState.RELEASED

    def _dispute(self, e: ev.EscrowDisputed) -> None:
        self._need(EscrowState.DELIVERED, target="disputed")
        if e.at > self._inspection_deadline():
            raise InvalidTransition("escrow", self.order_id, "inspection closed", "disputed")
        self.state, self.disputed_at = EscrowState.DISPUTED, e.at

    def _arbitrate(self, e: ev.EscrowArbitrated) -> None:
        self._need(EscrowState.DISPUTED, target="arbitrated")
        assert self.terms is not None
        assert self.disputed_at is not None
        share = e.producer_share_permille
        if e.by_default:
            deadline = self.disputed_at + timedelta(seconds=self.terms.arbiter_timeout_s)
            if e.at < deadline:
                raise InvalidTransition(
                    "escrow", self.order_id, "arbiter still has time", "default"
                )
            share = 1000 if self.terms.default_outcome == "release" else 0
        if not 0 <= share <= 1000:
            raise InvalidInput("producer_share_permille", "must be in 0..1000")
        self._settle(share)
        self.state = EscrowState.RELEASED if share else EscrowState.REFUNDED

    def _cancel(self, e: ev.EscrowCancelled) -> None:
        self._need(EscrowState.FUNDED, EscrowState.IN_PRODUCTION, target="cancelled")
        self._settle(1000)  # units already delivered are paid for; the rest goes back
        self.state = EscrowState.REFUNDED

    def earnings(self) -> dict[str, int]:
        """What each producer has earned so far, penalties taken (before any share)."""
        assert self.terms is not None
        out = {}
        for producer, units in sorted(self.delivered.items()):
            good = units - self.rejected[producer]
            gross = good * self.unit_price
            penalty = self.late_unit_days[producer] * self.terms.late_penalty_minor_per_unit_day
            cap = gross * self.terms.penalty_cap_permille // 1000
            out[producer] = gross - min(penalty, cap)
        return out

    def _settle(self, share_permille: int) -> None:
        for producer, earned in self.earnings().items():
            amount = earned * share_permille // 1000
            if amount:
                self.paid[producer] = self.paid.get(producer, 0) + amount
                self.held -= amount
        self.refunded += self.held
        self.held = 0

    def balances(self) -> dict[str, object]:
        return {
            "held": self.held,
            "paid": dict(sorted(self.paid.items())),
            "refunded": self.refunded,
            "state": self.state.value,
        }


_HANDLERS: dict[type[ev.EscrowEvent], Callable[[Escrow, Any], None]] = {
    ev.EscrowFunded: Escrow._fund,
    ev.EscrowProductionStarted: Escrow._start,
    ev.EscrowUnitsDelivered: Escrow._deliver,
    ev.EscrowUnitsRejected: Escrow._reject,
    ev.EscrowAccepted: Escrow._accept,
    ev.EscrowDisputed: Escrow._dispute,
    ev.EscrowArbitrated: Escrow._arbitrate,
    ev.EscrowCancelled: Escrow._cancel,
}

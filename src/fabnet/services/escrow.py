"""Escrow per order: the contract is the replay of the order's escrow events; a command
checks its event against that state, then logs it in the order's transaction."""

from __future__ import annotations

from collections.abc import Callable

from fabnet.domain import events as ev
from fabnet.domain.access import Principal
from fabnet.domain.contracts import Escrow, EscrowState
from fabnet.domain.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from fabnet.domain.escrow_policy import terms_digest, terms_of
from fabnet.domain.orders import Order
from fabnet.domain.states import OrderState
from fabnet.services.commands import (
    AcceptDelivery,
    DecideDispute,
    FundEscrow,
    OpenDispute,
    RejectUnits,
    SweepEscrows,
)
from fabnet.services.learning import learn_outcome
from fabnet.services.ports import Clock, Policy, UnitOfWork

ESCROW_EVENTS: tuple[type[ev.Event], ...] = (
    ev.EscrowFunded,
    ev.EscrowProductionStarted,
    ev.EscrowUnitsDelivered,
    ev.EscrowUnitsRejected,
    ev.EscrowAccepted,
    ev.EscrowDisputed,
    ev.EscrowArbitrated,
    ev.EscrowCancelled,
)


def escrow_of(uow: UnitOfWork, order_id: str) -> Escrow:
    return Escrow.replay(order_id, uow.order_events(order_id, ESCROW_EVENTS))


def record(uow: UnitOfWork, order: Order, event: ev.EscrowEvent) -> Escrow:
    """Check ``event`` against the contract and log it with the order (whose version
    moves, so two writers cannot both apply events to one contract)."""
    escrow = escrow_of(uow, order.id)
    escrow.apply(event)
    order.events.append(event)
    order.updated_at = event.at
    return escrow


def _order(uow: UnitOfWork, actor: Principal, order_id: str) -> Order:
    order = uow.orders.find(order_id)
    if order is None or not actor.owns_order(order.consumer_id):
        raise NotFound("order", order_id)
    return order


def _one_event(
    uow: UnitOfWork, actor: Principal, order_id: str, make: Callable[[Order], ev.EscrowEvent]
) -> dict[str, object]:
    """One escrow command: the caller's order, one checked event, one transaction."""
    with uow:
        order = _order(uow, actor, order_id)
        escrow = record(uow, order, make(order))
        uow.commit()
    return escrow.balances()


def fund_escrow(
    cmd: FundEscrow, *, uow: UnitOfWork, clock: Clock, policy: Policy
) -> dict[str, object]:
    """Fund the order's escrow on terms within the hub's policy, before any of its
    units is made or started: producers see the terms with their offers."""
    with uow:
        order = _order(uow, cmd.actor, cmd.order_id)
        if order.units_made or any(j.started_at for j in uow.jobs.of_order(order.id)):
            raise InvalidTransition("escrow", order.id, "in production", "funded")
        policy.escrow.check(
            amount_minor=cmd.amount_minor,
            units=order.quantity,
            inspection_window_s=cmd.inspection_window_s,
            arbiter_timeout_s=cmd.arbiter_timeout_s,
            late_penalty_minor_per_unit_day=cmd.late_penalty_minor_per_unit_day,
            penalty_cap_permille=cmd.penalty_cap_permille,
        )
        event = ev.EscrowFunded(
            at=clock.now(),
            order_id=order.id,
            amount_minor=cmd.amount_minor,
            currency=cmd.currency,
            units=order.quantity,
            inspection_window_s=cmd.inspection_window_s,
            arbiter_timeout_s=cmd.arbiter_timeout_s,
            default_outcome=policy.escrow.default_outcome(order.priority),
            late_penalty_minor_per_unit_day=cmd.late_penalty_minor_per_unit_day,
            penalty_cap_permille=cmd.penalty_cap_permille,
        )
        escrow = record(uow, order, event)
        uow.commit()
    return escrow.balances()


def escrow_view(uow: UnitOfWork, actor: Principal, order_id: str) -> dict[str, object]:
    """The escrow as each party may read it: the consumer (and operators) all of it; a
    producer with a job of the order the terms and its own part only."""
    with uow.reading():
        order = uow.orders.find(order_id)
        if order is None:
            raise NotFound("order", order_id)
        escrow = escrow_of(uow, order_id)
        if actor.owns_order(order.consumer_id):
            return {
                **escrow.balances(),
                "terms": terms_of(escrow.terms),
                "terms_digest": terms_digest(escrow.terms),
            }
        mine = actor.producer_id
        if mine is None or not any(j.producer_id == mine for j in uow.jobs.of_order(order_id)):
            raise NotFound("order", order_id)
        return {
            "state": escrow.state.value,
            "terms": terms_of(escrow.terms),
            "terms_digest": terms_digest(escrow.terms),
            "delivered": escrow.delivered.get(mine, 0),
            "rejected": escrow.rejected.get(mine, 0),
            "paid": escrow.paid.get(mine, 0),
        }


def reject_units(cmd: RejectUnits, *, uow: UnitOfWork, clock: Clock) -> dict[str, object]:
    """An inspector records units of one producer that failed QA: they leave the line's
    made units and are planned again (a reaction), and they earn nothing."""
    if not cmd.actor.is_operator:
        raise Forbidden("only an operator (the inspector) records failed units")
    now = clock.now()
    with uow:
        order = _order(uow, cmd.actor, cmd.order_id)
        line_id = cmd.line_id or (order.lines[0].id if len(order.lines) == 1 else "")
        if not line_id:
            raise InvalidInput("line_id", f"name the line: the order has {len(order.lines)}")
        line = order.find_line(line_id)
        if line is None:
            raise InvalidInput("line_id", f"no line {line_id!r} in this order")
        made = sum(
            j.units_made
            for j in uow.jobs.of_order(order.id)
            if j.line_id == line.id and j.producer_id == cmd.producer_id
        )
        rejected = sum(
            e.units
            for e in uow.order_events(order.id, (ev.UnitsRejected,))
            if isinstance(e, ev.UnitsRejected)
            and e.line_id == line.id
            and e.producer_id == cmd.producer_id
        )
        if not 1 <= cmd.units <= made - rejected:
            raise InvalidInput(
                "units", f"{cmd.producer_id} has {made - rejected} accepted units on this line"
            )
        order.reject(line.id, cmd.producer_id, cmd.units, now, cmd.reason)
        # a rejected lot is a failed outcome for its maker
        learn_outcome(uow, cmd.producer_id, None, succeeded=False, at=now)
        uow.commit()
    return escrow_of_order(uow, order.id)


def escrow_of_order(uow: UnitOfWork, order_id: str) -> dict[str, object]:
    with uow:
        return escrow_of(uow, order_id).balances()


def accept_delivery(cmd: AcceptDelivery, *, uow: UnitOfWork, clock: Clock) -> dict[str, object]:
    return _one_event(
        uow,
        cmd.actor,
        cmd.order_id,
        lambda order: ev.EscrowAccepted(at=clock.now(), order_id=order.id),
    )


def open_dispute(cmd: OpenDispute, *, uow: UnitOfWork, clock: Clock) -> dict[str, object]:
    return _one_event(
        uow,
        cmd.actor,
        cmd.order_id,
        lambda order: ev.EscrowDisputed(at=clock.now(), order_id=order.id, reason=cmd.reason[:500]),
    )


def decide_dispute(cmd: DecideDispute, *, uow: UnitOfWork, clock: Clock) -> dict[str, object]:
    if not cmd.actor.is_operator:
        raise Forbidden("only an operator arbitrates disputes")
    return _one_event(
        uow,
        cmd.actor,
        cmd.order_id,
        lambda order: ev.EscrowArbitrated(
            at=clock.now(), order_id=order.id, producer_share_permille=cmd.producer_share_permille
        ),
    )


def sweep_escrows(cmd: SweepEscrows, *, uow: UnitOfWork, clock: Clock) -> list[str]:
    now = clock.now()
    settled: list[str] = []
    with uow:
        for order in uow.orders.settling():
            escrow = escrow_of(uow, order.id)
            event: ev.EscrowEvent | None = None
            if escrow.state is EscrowState.DELIVERED and escrow.terms is not None:
                event = ev.EscrowAccepted(at=now, order_id=order.id, automatic=True)
            elif escrow.state is EscrowState.DISPUTED:
                event = ev.EscrowArbitrated(
                    at=now, order_id=order.id, producer_share_permille=0, by_default=True
                )
            if event is None:
                continue
            try:
                record(uow, order, event)
            except InvalidTransition:  # not due yet: the contract says so
                continue
            settled.append(order.id)
        uow.commit()
    return settled


# Reactions (services/reactions.py runs them from the event stream, each event once).


def on_job_started(uow: UnitOfWork, event: ev.JobStarted) -> None:
    if escrow_of(uow, event.order_id).state is EscrowState.FUNDED:
        order = uow.orders.get(event.order_id)
        record(uow, order, ev.EscrowProductionStarted(at=event.at, order_id=order.id))


def on_shipment_delivered(uow: UnitOfWork, event: ev.ShipmentDelivered) -> None:
    """Units count as delivered when their shipment is, with its proof. The maker's
    lateness is production's own (made after the job's due time), never the courier's."""
    escrow = escrow_of(uow, event.order_id)
    if event.units <= 0 or escrow.state not in (EscrowState.FUNDED, EscrowState.IN_PRODUCTION):
        return
    shipment = uow.shipments.get(event.shipment_id)
    job_id = shipment.job_ids[0] if shipment.job_ids else ""
    days_late = event.made_days_late
    if not job_id or not _accepted_under(uow, event.order_id, job_id, terms_digest(escrow.terms)):
        days_late = 0  # penalties bind only a producer who accepted them with the job
    record(
        uow,
        uow.orders.get(event.order_id),
        ev.EscrowUnitsDelivered(
            at=event.at,
            order_id=event.order_id,
            producer_id=event.producer_id,
            units=event.units,
            days_late=days_late,
            job_id=job_id,
        ),
    )


def _accepted_under(uow: UnitOfWork, order_id: str, job_id: str, digest: str) -> bool:
    return any(
        isinstance(e, ev.JobAccepted) and e.job_id == job_id and e.terms_digest == digest
        for e in uow.order_events(order_id, (ev.JobAccepted,))
    )


def on_units_rejected(uow: UnitOfWork, event: ev.UnitsRejected) -> None:
    escrow = escrow_of(uow, event.order_id)
    if escrow.state not in (EscrowState.IN_PRODUCTION, EscrowState.DELIVERED):
        return
    good = escrow.delivered[event.producer_id] - escrow.rejected[event.producer_id]
    units = min(event.units, good)  # units made before the escrow was funded are not in it
    if units < 1:
        return
    record(
        uow,
        uow.orders.get(event.order_id),
        ev.EscrowUnitsRejected(
            at=event.at, order_id=event.order_id, producer_id=event.producer_id, units=units
        ),
    )


def on_order_cancelled(uow: UnitOfWork, event: ev.OrderStateChanged) -> None:
    if event.state != OrderState.CANCELLED:
        return
    if escrow_of(uow, event.order_id).state in (EscrowState.FUNDED, EscrowState.IN_PRODUCTION):
        order = uow.orders.get(event.order_id)
        record(
            uow, order, ev.EscrowCancelled(at=event.at, order_id=order.id, reason="order cancelled")
        )

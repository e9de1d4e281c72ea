"""Orders: place and cancel."""

from __future__ import annotations

from fabnet.domain.errors import (
    Conflict,
    DuplicateOrder,
    Forbidden,
    InvalidInput,
    LimitExceeded,
    NotFound,
)
from fabnet.domain.ids import PREFIXES, DesignId, LineId, OrderId
from fabnet.domain.orders import Order, OrderLine
from fabnet.domain.states import Role
from fabnet.domain.units import Place
from fabnet.services.commands import CancelOrder, PlaceOrder
from fabnet.services.jobs import release_job_units
from fabnet.services.ports import Clock, IdSource, Policy, UnitOfWork

MAX_LINES = 1000


def place_order(
    cmd: PlaceOrder, *, uow: UnitOfWork, clock: Clock, ids: IdSource, policy: Policy
) -> OrderId:
    if cmd.actor.role not in (Role.CONSUMER, Role.OPERATOR):
        raise Forbidden("only consumers and operators place orders")
    if not 1 <= len(cmd.lines) <= MAX_LINES:
        raise InvalidInput("lines", f"an order has 1 to {MAX_LINES} lines")
    if len(cmd.reference) > 200:
        raise InvalidInput("reference", "at most 200 characters")
    now = clock.now()
    with uow:
        lines = []
        for i, req in enumerate(cmd.lines):
            design = uow.designs.find(req.design_id)
            if design is None or not design.visible_to(
                cmd.actor.id, operator=cmd.actor.is_operator
            ):
                raise InvalidInput(f"lines[{i}].design_id", f"no design {req.design_id!r}")
            material = req.material.strip().upper()
            if material not in design.materials:
                raise InvalidInput(
                    f"lines[{i}].material",
                    f"{req.material!r} is not a material of this design "
                    f"({', '.join(design.materials)})",
                )
            try:
                destination = Place(req.lat, req.lon)
                lines.append(
                    OrderLine(
                        id=LineId(ids.new(PREFIXES["line"])),
                        design_id=DesignId(design.id),
                        process=design.process,
                        material=material,
                        quantity=req.quantity,
                        deadline=req.deadline,
                        destination=destination,
                        min_review=req.min_review,
                    )
                )
            except InvalidInput as exc:
                raise InvalidInput(f"lines[{i}].{exc.field}", exc.problem) from None
        if cmd.actor.role is Role.CONSUMER:
            _within_quota(uow, cmd.actor.id, sum(line.quantity for line in lines), policy)
        order = Order.place(
            id=OrderId(ids.new(PREFIXES["order"])),
            consumer_id=cmd.actor.id,
            lines=lines,
            at=now,
            priority=cmd.priority,
            reference=cmd.reference,
        )
        uow.orders.add(order)
        try:
            uow.commit()
        except Conflict:  # the unique (consumer, reference) key said no
            if cmd.reference:
                raise DuplicateOrder(cmd.reference) from None
            raise
    return order.id


def _within_quota(uow: UnitOfWork, consumer_id: str, more: int, policy: Policy) -> None:
    """A consumer may have at most ``max_open_units_per_consumer`` units ordered and not
    yet made, so that one account cannot take a region's whole capacity."""
    cap = policy.max_open_units_per_consumer
    open_units = sum(o.quantity - o.units_made for o in uow.orders.open_of(consumer_id))
    if open_units + more > cap:
        raise LimitExceeded(
            "max_open_units_per_consumer",
            f"this order would bring your open units to {open_units + more}; "
            f"the hub allows {cap} per consumer",
        )


def cancel_order(cmd: CancelOrder, *, uow: UnitOfWork, clock: Clock) -> OrderId:
    now = clock.now()
    with uow:
        order = uow.orders.find(cmd.order_id)
        if order is None or not cmd.actor.owns_order(order.consumer_id):
            raise NotFound("order", cmd.order_id)
        for job in uow.jobs.of_order(order.id):
            if job.is_live:
                units = job.units_open
                job.cancel(now, cmd.reason or "order cancelled")
                release_job_units(order, job, units, now)
        order.cancel(now)
        uow.commit()
    return order.id

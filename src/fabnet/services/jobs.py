"""Jobs through their life: accept, decline, expire, queue, start, finish, fail, cancel.

Every move keeps the order's unit bookkeeping in step, in the same transaction. What
follows from a move (escrow steps, re-planning) is a reaction to its events
(services/reactions.py), never a call from here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fabnet.domain.access import Principal
from fabnet.domain.errors import Conflict, InvalidInput, NotFound
from fabnet.domain.escrow_policy import terms_digest
from fabnet.domain.ids import JobId, ProducerId
from fabnet.domain.jobs import Job
from fabnet.domain.orders import Order
from fabnet.domain.states import DeclineReason, JobState, MachineStatus
from fabnet.services import escrow
from fabnet.services.commands import (
    AcceptJob,
    CancelJob,
    DeclineJob,
    ExpireOffers,
    FailJob,
    FinishJob,
    QueueJob,
    RestockMaterial,
    StartJob,
)
from fabnet.services.learning import learn_outcome
from fabnet.services.ports import Clock, UnitOfWork


def release_job_units(
    order: Order, job: Job, units: int, at: datetime, *, failed: bool = False
) -> None:
    if units:
        order.release(job.line_id, units, at, failed=failed)


def _own_job(uow: UnitOfWork, actor: Principal, job_id: str) -> Job:
    job = uow.jobs.find(job_id)
    if job is None or not actor.owns_producer(job.producer_id):
        raise NotFound("job", job_id)
    return job


def _step(
    uow: UnitOfWork, actor: Principal, job_id: str, move: Callable[[Job, Order], None]
) -> JobId:
    with uow:
        job = _own_job(uow, actor, job_id)
        order = uow.orders.get(job.order_id)
        move(job, order)
        uow.commit()
    return job.id


# The moves, each inside the caller's transaction (handlers here, agent events too).


def do_accept(
    uow: UnitOfWork, job: Job, order: Order, now: datetime, seen_digest: str = ""
) -> None:
    """Accepting a job accepts the order's escrow terms as they stand now (their digest
    is logged with the acceptance); a producer that names the digest it saw with the
    offer is refused if the terms changed since."""
    current = terms_digest(escrow.escrow_of(uow, order.id).terms)
    if seen_digest and seen_digest != current:
        raise Conflict(
            f"the escrow terms of order {order.id!r} changed since the offer; read the job again"
        )
    job.accept(now, current)


def do_decline(uow: UnitOfWork, job: Job, order: Order, now: datetime, reason: str) -> None:
    units = job.units_open
    job.decline(now, reason)
    release_job_units(order, job, units, now)


def do_queue(uow: UnitOfWork, job: Job, order: Order, now: datetime) -> None:
    job.queue(now)


def do_start(uow: UnitOfWork, job: Job, order: Order, now: datetime) -> None:
    job.start(now)
    uow.machines.get(job.machine_id).set_status(MachineStatus.BUSY, now)


def do_finish(
    uow: UnitOfWork,
    job: Job,
    order: Order,
    now: datetime,
    material_lot: str = "",
    profile_hash: str = "",
) -> None:
    units = job.units_open
    job.finish(now, material_lot=material_lot, profile_hash=profile_hash)
    if order.is_open:
        order.complete(job.line_id, units, now)
    line = order.find_line(job.line_id)
    on_time = line is None or now <= line.deadline  # a late job counts against it
    _learn(uow, job, now, succeeded=on_time, done=True)
    _machine_done(uow, job, now)


def _learn(uow: UnitOfWork, job: Job, now: datetime, *, succeeded: bool, done: bool) -> None:
    uow.producers.get(job.producer_id).record_outcome(succeeded=done, at=None)
    learn_outcome(uow, job.producer_id, job.machine_id, succeeded=succeeded, at=now)


def do_fail(
    uow: UnitOfWork, job: Job, order: Order, now: datetime, cause: str, units_made: int = 0
) -> None:
    open_units = job.units_open
    job.fail(now, cause, units_made)
    if order.is_open:
        order.complete(job.line_id, units_made, now)
        release_job_units(order, job, open_units - units_made, now, failed=True)
    _learn(uow, job, now, succeeded=False, done=False)
    _machine_done(uow, job, now)


def do_cancel(uow: UnitOfWork, job: Job, order: Order, now: datetime, reason: str) -> None:
    units = job.units_open
    was_running = job.state is JobState.RUNNING
    job.cancel(now, reason)
    if order.is_open:
        release_job_units(order, job, units, now)
    if was_running:
        _machine_done(uow, job, now)


def _machine_done(uow: UnitOfWork, job: Job, at: datetime) -> None:
    machine = uow.machines.get(job.machine_id)
    # the store filters on committed state; the identity map holds this transaction's
    still_running = any(j.state is JobState.RUNNING for j in uow.jobs.running_on(machine.id))
    if machine.status in (MachineStatus.BUSY, MachineStatus.PAUSED) and not still_running:
        machine.set_status(MachineStatus.IDLE, at)


def accept_job(cmd: AcceptJob, *, uow: UnitOfWork, clock: Clock) -> JobId:
    return _step(
        uow,
        cmd.actor,
        cmd.job_id,
        lambda j, o: do_accept(uow, j, o, clock.now(), cmd.terms_digest),
    )


def decline_job(cmd: DeclineJob, *, uow: UnitOfWork, clock: Clock) -> JobId:
    """A decline says why (``cmd.kind``), and what it says changes what the planner
    knows: out of material takes the material off the producer's machines until it
    restocks; machine down puts the machine into maintenance (its other work is planned
    elsewhere); too busy and other keep this line away from the producer."""

    def step(job: Job, order: Order) -> None:
        now = clock.now()
        note = f"{cmd.kind.value}: {cmd.reason}" if cmd.reason else cmd.kind.value
        do_decline(uow, job, order, now, note)
        if cmd.kind is DeclineReason.OUT_OF_MATERIAL:
            producer = uow.producers.get(job.producer_id)
            emptied = [
                m for m in uow.machines.of_producer(job.producer_id) if job.material in m.materials
            ]
            for machine in emptied:
                machine.materials = tuple(x for x in machine.materials if x != job.material)
            before = producer.extra.get(f"out_of:{job.material}", "")
            ids = sorted({*filter(None, before.split(",")), *(m.id for m in emptied)})
            producer.extra = {**producer.extra, f"out_of:{job.material}": ",".join(ids)}
        elif cmd.kind is DeclineReason.MACHINE_DOWN:
            from fabnet.services.producers import strand_jobs

            machine = uow.machines.get(job.machine_id)
            machine.set_status(MachineStatus.MAINTENANCE, now)
            strand_jobs(uow, [machine.id], now, "machine down (declined an offer)")

    return _step(uow, cmd.actor, cmd.job_id, step)


def restock_material(cmd: RestockMaterial, *, uow: UnitOfWork, clock: Clock) -> ProducerId:
    """The material goes back on the machines an out-of-material decline took it off."""
    with uow:
        producer = uow.producers.find(cmd.producer_id)
        if producer is None or not cmd.actor.owns_producer(producer.id):
            raise NotFound("producer", cmd.producer_id)
        material = cmd.material.strip().upper()
        ids = producer.extra.get(f"out_of:{material}")
        if ids is None:
            raise InvalidInput("material", f"no decline took {cmd.material!r} off its machines")
        for machine in uow.machines.with_ids(i for i in ids.split(",") if i):
            if material not in machine.materials:
                machine.materials = (*machine.materials, material)
        producer.extra = {k: v for k, v in producer.extra.items() if k != f"out_of:{material}"}
        uow.commit()
    return producer.id


def queue_job(cmd: QueueJob, *, uow: UnitOfWork, clock: Clock) -> JobId:
    return _step(uow, cmd.actor, cmd.job_id, lambda j, o: do_queue(uow, j, o, clock.now()))


def start_job(cmd: StartJob, *, uow: UnitOfWork, clock: Clock) -> JobId:
    return _step(uow, cmd.actor, cmd.job_id, lambda j, o: do_start(uow, j, o, clock.now()))


def finish_job(cmd: FinishJob, *, uow: UnitOfWork, clock: Clock) -> JobId:
    return _step(
        uow,
        cmd.actor,
        cmd.job_id,
        lambda j, o: do_finish(uow, j, o, clock.now(), cmd.material_lot, cmd.profile_hash),
    )


def fail_job(cmd: FailJob, *, uow: UnitOfWork, clock: Clock) -> JobId:
    return _step(
        uow,
        cmd.actor,
        cmd.job_id,
        lambda j, o: do_fail(uow, j, o, clock.now(), cmd.cause, cmd.units_made),
    )


def cancel_job(cmd: CancelJob, *, uow: UnitOfWork, clock: Clock) -> JobId:
    return _step(
        uow, cmd.actor, cmd.job_id, lambda j, o: do_cancel(uow, j, o, clock.now(), cmd.reason)
    )


def expire_offers(cmd: ExpireOffers, *, uow: UnitOfWork, clock: Clock) -> list[JobId]:
    now = clock.now()
    expired = []
    with uow:
        for job in uow.jobs.offers_expiring_by(now):
            order = uow.orders.get(job.order_id)
            units = job.units_open
            job.expire(now)
            if order.is_open:
                release_job_units(order, job, units, now)
            expired.append(job.id)
        uow.commit()
    return expired

"""Reactions: what follows from events, driven from the stored event stream.

One table (``REACTIONS``) says which event types each reaction handles. A reaction reads
the events after its durable position, handles the ones it cares about and moves its
position in the same transaction as its effects, so a crash between a command's commit
and its reactions loses nothing (the next drain picks the events up) and nothing happens
twice (an effect and the position that records it commit together; a second drainer
racing the first loses the position's compare-and-set and rolls back).

A handler works inside an open unit of work and never commits; it is given the events
of one batch (number, event), oldest first. Effects outside the store (a message to a
machine) happen at least once: such handlers check the current state before they act.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fabnet.domain import events as ev
from fabnet.domain.errors import FabnetError, StaleUpdate
from fabnet.services import escrow, planning, shipments
from fabnet.services.machine_messages import encode
from fabnet.services.machines import command_for
from fabnet.services.ports import UnitOfWork

log = logging.getLogger(__name__)

Batch = list[tuple[int, ev.Event]]


@dataclass(frozen=True)
class Reaction:
    name: str  # the key of its durable position: never rename a reaction
    events: tuple[type[ev.Event], ...]
    handle: Callable[..., None]  # (batch, *, uow, <dependencies it names>)
    needs: tuple[str, ...] = ()  # dependencies that must be present for it to run
    from_start: bool = True  # False: a new reaction starts at the newest event
    batch: int = 500
    # work done first in a read-only transaction (a solve); ``handle`` gets it as
    # ``prepared`` and checks that it still holds
    prepare: Callable[..., Any] | None = None


# -- the handlers ----------------------------------------------------------------------


def _order_ids(batch: Batch) -> tuple[str, ...]:
    """The orders a batch concerns; none (every open order) when a design was reviewed."""
    if any(isinstance(e, ev.DesignReviewed) for _, e in batch):
        return ()
    return tuple(sorted({getattr(e, "order_id", "") for _, e in batch} - {""}))


def propose_plan(
    batch: Batch, *, uow: UnitOfWork, clock: Any, policy: Any, **deps: Any
) -> planning.Proposal:
    """Solve on a read-only snapshot (the solve takes time; no write lock is held)."""
    return planning.propose(
        uow,
        _order_ids(batch),
        now=clock.now(),
        policy=policy,
        solver=policy.solver,
        flow_solver=deps.get("flow_solver"),
    )


def replan(
    batch: Batch,
    *,
    uow: UnitOfWork,
    clock: Any,
    ids: Any,
    policy: Any,
    prepared: planning.Proposal | None = None,
    **deps: Any,
) -> None:
    """Units that went back to a line are planned again; a new order is planned at once.
    One solve for the whole batch, applied if its orders did not change meanwhile (else
    solved again, here)."""
    now = clock.now()
    if prepared is not None and planning.apply(uow, prepared, now=now, ids=ids, policy=policy):
        return
    planning.plan_within(
        uow,
        _order_ids(batch),
        now=now,
        ids=ids,
        policy=policy,
        solver=policy.solver,
        flow_solver=deps.get("flow_solver"),
    )


ESCROW_STEPS: dict[type[ev.Event], Callable[[UnitOfWork, Any], None]] = {
    ev.JobStarted: escrow.on_job_started,
    ev.ShipmentDelivered: escrow.on_shipment_delivered,
    ev.UnitsRejected: escrow.on_units_rejected,
    ev.OrderStateChanged: escrow.on_order_cancelled,
}


def escrow_steps(batch: Batch, *, uow: UnitOfWork, **_unused: Any) -> None:
    """The escrow follows the order: production started, units delivered (a shipment
    delivered with its proof), units rejected, order cancelled."""
    for _seq, event in batch:
        ESCROW_STEPS[type(event)](uow, event)


def notify_agents(
    batch: Batch, *, uow: UnitOfWork, commands: Any, clock: Any, policy: Any, **_unused: Any
) -> None:
    """Offers, and cancels the hub made, go to the machine's agent (at least once; an
    agent also catches up over HTTP whenever it connects). Events older than an offer's
    time to live are history: a hub that joins a broker late does not replay them."""
    horizon = clock.now() - timedelta(seconds=policy.offer_ttl_s)
    for _seq, event in batch:
        if event.at < horizon:
            continue
        out = command_for(event, uow)
        if out is not None:
            producer_id, machine_id, command = out
            commands.send(producer_id, machine_id, encode(command))


def check_capacity(batch: Batch, *, uow: UnitOfWork, policy: Any, **_unused: Any) -> None:
    """A finished job's real duration against its plan: machines whose results
    contradict their declared capacity are flagged for the operator."""
    for _seq, event in batch:
        assert isinstance(event, ev.JobDone)
        job = uow.jobs.find(event.job_id)
        machine = uow.machines.find(event.machine_id)
        if job is None or machine is None or job.started_at is None or job.finished_at is None:
            continue
        machine.record_run(
            job.units_made * job.unit_time_s,
            (job.finished_at - job.started_at).total_seconds(),
            event.at,
            tolerance=policy.slow_run_tolerance,
            strikes=policy.slow_runs_to_flag,
        )


def make_parcels(batch: Batch, *, uow: UnitOfWork, ids: Any, policy: Any, **_unused: Any) -> None:
    """Units made become parcels ready at their producer (routing waves take them)."""
    for _seq, event in batch:
        assert isinstance(event, ev.UnitsMade)
        shipments.on_units_made(uow, event, ids=ids, policy=policy)


REACTIONS: tuple[Reaction, ...] = (
    Reaction(
        "planning",
        (
            ev.OrderPlaced,
            ev.JobDeclined,
            ev.JobExpired,
            ev.JobFailed,
            ev.JobCancelled,
            ev.UnitsRejected,
            ev.DesignReviewed,  # lines held for a review may be planned now
        ),
        replan,
        prepare=propose_plan,
    ),
    Reaction("escrow", tuple(ESCROW_STEPS), escrow_steps),
    Reaction("capacity", (ev.JobDone,), check_capacity),
    # new in a running hub: from the newest event (units made before it were counted as
    # delivered when they were made)
    Reaction("parcels", (ev.UnitsMade,), make_parcels, from_start=False),
    Reaction(
        "agents",
        (ev.JobOffered, ev.JobCancelled, ev.JobFailed, ev.JobFlagged),
        notify_agents,
        needs=("commands",),
    ),
)


# -- the runner ------------------------------------------------------------------------


@dataclass
class DrainReport:
    events: int = 0  # events read past (handled or not)
    handled: int = 0  # events a reaction handled
    skipped: int = 0  # events a reaction refused (logged)


def drain(
    uow: UnitOfWork,
    dependencies: dict[str, Any],
    *,
    reactions: tuple[Reaction, ...] = REACTIONS,
    on_commit: Callable[[], None] | None = None,
    rounds: int = 50,
) -> DrainReport:
    """Run every reaction over the events it has not seen, until none is left (or
    ``rounds`` passes). ``on_commit`` is called after each reaction transaction (the bus
    hands the new events to its listeners there)."""
    report = DrainReport()
    ready = [r for r in reactions if all(dependencies.get(n) is not None for n in r.needs)]
    for _ in range(rounds):
        moved = 0
        for reaction in ready:
            moved += _run(reaction, uow, dependencies, report, on_commit)
        if not moved:
            break
    return report


def _run(
    reaction: Reaction,
    uow: UnitOfWork,
    deps: dict[str, Any],
    report: DrainReport,
    on_commit: Callable[[], None] | None,
) -> int:
    moved = 0
    limit = reaction.batch
    while True:
        with uow.reading():  # most rounds find nothing new: no write lock for that
            start = uow.reaction_position(reaction.name)
            batch = uow.events_after(start or 0, limit) if start is not None else []
        if start is not None and not batch:
            return moved
        try:
            if start is None:
                _begin(reaction, uow)
                continue
            mine = [(s, e) for s, e in batch if isinstance(e, reaction.events)]
            extra: dict[str, Any] = {}
            if mine and reaction.prepare is not None:
                with uow.reading():
                    extra["prepared"] = reaction.prepare(mine, uow=uow, **deps)
            with uow:
                if mine:
                    reaction.handle(mine, uow=uow, **deps, **extra)
                uow.move_reaction(reaction.name, start, batch[-1][0])
                uow.commit()
        except StaleUpdate:
            continue  # another drainer moved first (or an aggregate changed): read again
        except FabnetError as exc:
            if limit > 1:
                limit = 1  # find the one event it refuses
                continue
            _skip(uow, reaction, exc, report)
            moved += 1
            continue
        if on_commit is not None:
            on_commit()
        report.events += len(batch)
        report.handled += len(mine)
        moved += len(batch)
        limit = reaction.batch


def _begin(reaction: Reaction, uow: UnitOfWork) -> None:
    """A reaction's first run: from the first event, or from now."""
    with uow:
        start = 0 if reaction.from_start else uow.last_event_seq()
        uow.move_reaction(reaction.name, None, start)
        uow.commit()


def _skip(uow: UnitOfWork, reaction: Reaction, exc: FabnetError, report: DrainReport) -> None:
    """A reaction that refuses one event (its rules say no) must not block the stream:
    the event is passed over, and the refusal logged."""
    with uow:
        start = uow.reaction_position(reaction.name)
        (seq, event), *_ = uow.events_after(start or 0, 1)
        log.warning(
            "reaction %s refused event %d (%s): %s",
            reaction.name,
            seq,
            type(event).__name__,
            exc.message,
        )
        uow.move_reaction(reaction.name, start, seq)
        uow.commit()
    report.skipped += 1

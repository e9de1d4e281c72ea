"""The hub's side of the producer agents: apply their job events exactly once and in
order, keep machines' liveness, and send them commands.

An agent numbers its events per machine (1, 2, 3, ...). The machine row keeps the last
number applied, updated in the same transaction as the job move, so a replayed event
(same number) is recognised and dropped, and one that arrives early is refused until the
ones before it came. An event that no longer fits the job (the hub cancelled it first,
say) is consumed with a reason and changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from fabnet.domain import events as ev
from fabnet.domain.access import Principal
from fabnet.domain.errors import BrokerUnavailable, InvalidInput, InvalidTransition, NotFound
from fabnet.domain.ids import PrincipalId, ProducerId
from fabnet.domain.jobs import Job
from fabnet.domain.orders import Order
from fabnet.domain.states import JobState, MachineStatus, Role
from fabnet.services import jobs
from fabnet.services.commands import (
    ApplyAgentEvent,
    HearMachine,
    SendMachineCommand,
    SweepHeartbeats,
)
from fabnet.services.machine_messages import (
    AgentCommand,
    AgentEvent,
    CommandType,
    EventType,
    JobSpec,
    encode,
    new_id,
)
from fabnet.services.ports import Clock, MachineCommands, TelemetryStore, UnitOfWork
from fabnet.services.producers import strand_jobs

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # already applied (a replay)
    EARLY = "out_of_order"  # a gap before it: not applied
    STALE = "stale"  # consumed, but the job had moved on: nothing changed
    REFUSED = "refused"  # not this producer's machine or job


@dataclass
class Counters:
    """Why messages were dropped, for logs and metrics: never silent."""

    seen: Counter[str]

    @classmethod
    def new(cls) -> Counters:
        return cls(Counter())

    def drop(self, reason: str, detail: str = "") -> None:
        self.seen[reason] += 1
        log.info("dropped a machine message: %s %s", reason, detail)


def agent_principal(producer_id: str) -> Principal:
    return Principal(PrincipalId(f"agent_{producer_id}"), Role.PRODUCER, ProducerId(producer_id))


AT_MACHINE = "at the machine:"  # prefix of causes the agent reported (no echo back to it)
Move = Callable[[UnitOfWork, Job, Order, datetime, AgentEvent], None]


def _started(uow: UnitOfWork, job: Job, order: Order, now: datetime, e: AgentEvent) -> None:
    if job.state is JobState.ACCEPTED:
        jobs.do_queue(uow, job, order, now)
    jobs.do_start(uow, job, order, now)


def _paused(uow: UnitOfWork, job: Job, order: Order, now: datetime, e: AgentEvent) -> None:
    if job.state is not JobState.RUNNING:
        raise InvalidTransition("job", job.id, job.state.value, "paused")
    uow.machines.get(job.machine_id).set_status(MachineStatus.PAUSED, now)


def _resumed(uow: UnitOfWork, job: Job, order: Order, now: datetime, e: AgentEvent) -> None:
    if job.state is not JobState.RUNNING:
        raise InvalidTransition("job", job.id, job.state.value, "resumed")
    uow.machines.get(job.machine_id).set_status(MachineStatus.BUSY, now)


def _cancelled(uow: UnitOfWork, job: Job, order: Order, now: datetime, e: AgentEvent) -> None:
    if job.is_live:
        jobs.do_cancel(uow, job, order, now, f"{AT_MACHINE} {e.cause}".strip())


MOVES: dict[EventType, Move] = {
    EventType.ACCEPTED: lambda uow, j, o, now, e: jobs.do_accept(uow, j, o, now),
    EventType.DECLINED: lambda uow, j, o, now, e: jobs.do_decline(uow, j, o, now, e.cause),
    EventType.STARTED: _started,
    EventType.PAUSED: _paused,
    EventType.RESUMED: _resumed,
    EventType.DONE: lambda uow, j, o, now, e: jobs.do_finish(
        uow, j, o, now, e.material_lot, e.profile_hash
    ),
    EventType.FAILED: lambda uow, j, o, now, e: jobs.do_fail(
        uow, j, o, now, f"{AT_MACHINE} {e.cause}".strip(), min(e.units_made, j.units - 1)
    ),
    EventType.CANCELLED: _cancelled,
}


def apply_agent_event(cmd: ApplyAgentEvent, *, uow: UnitOfWork, clock: Clock) -> Outcome:
    """Apply one agent event in one transaction with the machine's event number."""
    e = cmd.event
    with uow:
        machine = uow.machines.find(e.machine_id)
        if machine is None or machine.producer_id != cmd.producer_id:
            return Outcome.REFUSED
        if e.seq <= machine.event_seq:
            return Outcome.DUPLICATE
        if e.seq > machine.event_seq + 1:
            return Outcome.EARLY
        machine.event_seq = e.seq
        job = uow.jobs.find(e.job_id)
        if job is None or job.machine_id != machine.id:
            uow.commit()  # consumed: the number moves on, nothing else changes
            return Outcome.REFUSED
        order = uow.orders.get(job.order_id)
        try:
            MOVES[e.type](uow, job, order, clock.now(), e)
        except (InvalidTransition, InvalidInput) as exc:  # raised before any change
            log.info("event %s#%d does not fit job %s: %s", e.machine_id, e.seq, job.id, exc)
            uow.rollback()  # drops whatever the move began; a fresh transaction follows
            uow.machines.get(e.machine_id).event_seq = e.seq  # only the number moves on
            uow.commit()
            return Outcome.STALE
        uow.commit()
    return Outcome.APPLIED


def hear_machine(cmd: HearMachine, *, uow: UnitOfWork, clock: Clock) -> bool:
    """Telemetry came from a machine the hub had marked unreachable: it is back."""
    with uow:
        machine = uow.machines.find(cmd.machine_id)
        if machine is None or not machine.unreachable:
            return False
        machine.unreachable = False
        if machine.status is MachineStatus.OFFLINE:
            machine.set_status(MachineStatus.IDLE, clock.now())
        uow.commit()
    return True


def sweep_heartbeats(
    cmd: SweepHeartbeats, *, uow: UnitOfWork, clock: Clock, telemetry: TelemetryStore
) -> list[str]:
    """Machines silent for longer than ``cmd.timeout_s`` go offline (unreachable): their
    jobs are handed back and the bus re-plans them."""
    now = clock.now()
    silent = telemetry.silent_since(now - timedelta(seconds=cmd.timeout_s))
    marked: list[str] = []
    if not silent:
        return marked
    with uow:
        for machine in uow.machines.with_ids(silent):
            if not machine.available:
                continue
            machine.unreachable = True
            machine.set_status(MachineStatus.OFFLINE, now)
            strand_jobs(uow, [machine.id], now, "machine unreachable (missed heartbeats)")
            marked.append(machine.id)
        uow.commit()
    return marked


def send_machine_command(
    cmd: SendMachineCommand, *, uow: UnitOfWork, commands: MachineCommands | None = None
) -> str:
    """Pause, resume or cancel at the machine, or tell it the bed is clear. The job's
    state changes when the agent reports it did."""
    with uow:
        machine = uow.machines.find(cmd.machine_id)
        if machine is None or not cmd.actor.owns_producer(machine.producer_id):
            raise NotFound("machine", cmd.machine_id)
        job = uow.jobs.find(cmd.job_id) if cmd.job_id else None
        if cmd.job_id and (job is None or job.machine_id != machine.id):
            raise NotFound("job", cmd.job_id)
    command = AgentCommand(
        command_id=new_id(),
        type=CommandType(cmd.type),
        machine_id=machine.id,
        job=_spec(job, 0.0) if job else None,
        reason=cmd.reason,
    )
    if commands is None:
        raise BrokerUnavailable("mqtt", "no machine broker is configured on this hub")
    commands.send(machine.producer_id, machine.id, encode(command))
    return command.command_id


def _spec(job: Job, unit_time_s: float) -> JobSpec:
    return JobSpec(
        job_id=job.id,
        design_id=job.design_id,
        material=job.material,
        units=job.units,
        unit_time_s=unit_time_s or job.unit_time_s,
    )


def command_for(event: ev.Event, uow: UnitOfWork) -> tuple[str, str, AgentCommand] | None:
    """The command an agent needs after a hub event (inside an open unit of work): an
    offer while the job is still offered, and cancels the hub made."""
    if isinstance(event, ev.JobOffered):
        job = uow.jobs.find(event.job_id)
        if job is None or job.state is not JobState.OFFERED:
            return None
        offer = AgentCommand(new_id(), CommandType.OFFER, job.machine_id, _spec(job, 0.0))
        return job.producer_id, job.machine_id, offer
    if isinstance(event, ev.JobFlagged) and event.action == "pause":
        job_ref = JobSpec(event.job_id, "", "", max(event.units, 1), 1.0)
        pause = AgentCommand(new_id(), CommandType.PAUSE, event.machine_id, job=job_ref)
        return event.producer_id, event.machine_id, pause
    hub_cancelled = isinstance(event, ev.JobCancelled) and not event.reason.startswith(AT_MACHINE)
    hub_failed = isinstance(event, ev.JobFailed) and not event.cause.startswith(AT_MACHINE)
    if hub_cancelled or hub_failed:
        assert isinstance(event, ev.JobEvent)
        job_ref = JobSpec(event.job_id, "", "", max(event.units, 1), 1.0)
        cancel = AgentCommand(new_id(), CommandType.CANCEL, event.machine_id, job=job_ref)
        return event.producer_id, event.machine_id, cancel
    return None

"""Agent events on the hub: applied once and in order, stale ones consumed harmlessly,
silent machines handed back, offers and hub cancels turned into commands."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fabnet.adapters.memory.telemetry import InMemoryTelemetryStore, RecordingMachineCommands
from fabnet.domain import events as ev
from fabnet.domain.states import JobState, MachineStatus
from fabnet.services import commands as cmd
from fabnet.services.machine_messages import AgentEvent, CommandType, EventType, parse_command
from fabnet.services.machines import Outcome, command_for
from fabnet.services.ports import LiveState
from tests.conftest import OPERATOR


@pytest.fixture
def offered(world):
    pid = world.producer("anna", 52.5, 13.4)
    world.order(world.design(), 5)
    with world.uow() as uow:
        job = uow.jobs.all(producer_id=pid)[0]
    return world, job


def apply(world, job, seq, kind, **kw):
    event = AgentEvent(f"e{seq}-{kind}", seq, job.machine_id, job.id, kind, world.clock.now(), **kw)
    return world.bus.handle(cmd.ApplyAgentEvent(job.producer_id, event))


def state(world, job):
    with world.uow() as uow:
        return uow.jobs.get(job.id).state


def test_events_apply_in_order_once(offered):
    world, job = offered
    assert apply(world, job, 1, EventType.ACCEPTED) is Outcome.APPLIED
    assert apply(world, job, 1, EventType.ACCEPTED) is Outcome.DUPLICATE
    assert apply(world, job, 3, EventType.DONE) is Outcome.EARLY
    assert state(world, job) is JobState.ACCEPTED
    assert apply(world, job, 2, EventType.STARTED) is Outcome.APPLIED
    assert state(world, job) is JobState.RUNNING
    assert apply(world, job, 3, EventType.DONE) is Outcome.APPLIED
    assert state(world, job) is JobState.DONE
    with world.uow() as uow:
        assert uow.machines.get(job.machine_id).event_seq == 3


def test_an_event_from_another_producer_is_refused(offered):
    world, job = offered
    other = world.producer("ben", 48.1, 11.6)
    event = AgentEvent("x", 1, job.machine_id, job.id, EventType.ACCEPTED, world.clock.now())
    assert world.bus.handle(cmd.ApplyAgentEvent(other, event)) is Outcome.REFUSED
    assert state(world, job) is JobState.OFFERED


def test_a_stale_event_is_consumed_and_changes_nothing(offered):
    world, job = offered
    apply(world, job, 1, EventType.ACCEPTED)
    world.bus.handle(cmd.CancelJob(OPERATOR, job.id, "changed plans"))
    assert apply(world, job, 2, EventType.STARTED) is Outcome.STALE
    assert state(world, job) is JobState.CANCELLED
    assert apply(world, job, 2, EventType.STARTED) is Outcome.DUPLICATE


def test_a_failure_at_the_machine_keeps_its_cause_and_units(offered):
    world, job = offered
    apply(world, job, 1, EventType.ACCEPTED)
    apply(world, job, 2, EventType.STARTED)
    apply(world, job, 3, EventType.FAILED, cause="nozzle clog", units_made=2)
    with world.uow() as uow:
        failed = uow.jobs.get(job.id)
    assert failed.state is JobState.FAILED and failed.units_made == 2
    assert failed.note == "at the machine: nozzle clog"


def test_silent_machines_go_offline_and_come_back_when_heard(offered):
    world, job = offered
    telemetry = InMemoryTelemetryStore()
    world.bus.dependencies["telemetry"] = telemetry
    apply(world, job, 1, EventType.ACCEPTED)
    apply(world, job, 2, EventType.STARTED)
    old = world.clock.now() - timedelta(seconds=120)
    telemetry.upsert(
        [LiveState(job.machine_id, job.producer_id, old, "printing", job.id, 0.2, {}, 1)]
    )
    assert world.bus.handle(cmd.SweepHeartbeats(timeout_s=60)) == [job.machine_id]
    assert state(world, job) is JobState.FAILED
    assert world.bus.handle(cmd.SweepHeartbeats(timeout_s=60)) == []  # once
    assert world.bus.handle(cmd.HearMachine(job.machine_id)) is True
    with world.uow() as uow:
        machine = uow.machines.get(job.machine_id)
    assert machine.status is MachineStatus.IDLE and not machine.unreachable


def test_offers_and_hub_cancels_become_commands_and_agent_reports_do_not(offered):
    world, job = offered
    offer = ev.JobOffered(at=world.clock.now(), job_id=job.id, order_id=job.order_id,
                          line_id=job.line_id, machine_id=job.machine_id,
                          producer_id=job.producer_id, units=job.units)  # fmt: skip
    uow = world.uow()

    def commands_for(event):
        with uow:
            return command_for(event, uow)

    producer, machine, command = commands_for(offer)
    assert (producer, machine, command.type) == (job.producer_id, job.machine_id, CommandType.OFFER)
    assert command.job.design_id == job.design_id and command.job.units == job.units
    fields = {
        k: getattr(offer, k)
        for k in ("at", "job_id", "order_id", "line_id", "machine_id", "producer_id", "units")
    }
    assert commands_for(ev.JobCancelled(**fields, reason="customer"))[2].type is CommandType.CANCEL
    assert commands_for(ev.JobCancelled(**fields, reason="at the machine: jam")) is None
    assert commands_for(ev.JobFailed(**fields, cause="at the machine: clog")) is None


def test_commands_go_to_the_machines_agent_and_need_a_broker(offered):
    world, job = offered
    with pytest.raises(Exception, match="no machine broker"):
        world.bus.handle(cmd.SendMachineCommand(OPERATOR, job.machine_id, "pause", job.id))
    sent = RecordingMachineCommands()
    world.bus.dependencies["commands"] = sent
    world.bus.handle(cmd.SendMachineCommand(OPERATOR, job.machine_id, "pause", job.id))
    producer, machine, payload = sent.sent[0]
    assert (producer, machine) == (job.producer_id, job.machine_id)
    assert parse_command(payload).type is CommandType.PAUSE

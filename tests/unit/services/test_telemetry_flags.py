"""Telemetry flags on the main path: the MQTT bridge feeds running jobs' readings to the
detector, a flag is an event of the job, and the operator's policy may pause the print."""

from datetime import timedelta

from fabnet.adapters.mqtt.bridge import MqttBridge
from fabnet.domain import events as ev
from fabnet.domain.states import JobState
from fabnet.services import commands as cmd
from fabnet.services.machine_messages import CommandType, Telemetry
from fabnet.services.machines import command_for
from fabnet.services.ports import Policy
from fabnet.sim.traces import trace
from tests.conftest import World, producer_actor


def running_job(world: World, print_time_s: float = 3600):
    pid = world.producer("maker", 52.5, 13.4)
    world.order(world.design(print_time_s=print_time_s), 1)
    with world.uow() as uow:
        (job,) = uow.jobs.all()
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
        world.bus.handle(step(producer_actor(pid), job.id))
    return job


class _Client:  # the bridge only talks to it when started
    handler = None
    on_connected = None


def test_the_bridge_turns_a_failing_heater_into_one_flag_event(world: World):
    failing = trace("heater_failure", 7)
    job = running_job(world, print_time_s=failing.expected_s)  # the slicer's time
    bridge = MqttBridge(_Client(), bus=lambda: world.bus, new_uow=world.uow, telemetry=None)  # type: ignore[arg-type]
    start = world.clock.now()
    for s in failing.samples:
        bridge._watch(
            Telemetry(
                machine_id=job.machine_id,
                at=start + timedelta(seconds=s.at_s),
                state=s.state,
                job_id=job.id,
                progress=s.progress,
                temps=s.temps,
            )
        )
    queued = []
    while not bridge._events.empty():
        queued.append(bridge._events.get_nowait())
    assert [m.topic for m in queued] == [f"flag/{job.id}"]
    assert b'"temperature"' in queued[0].payload


def test_a_flag_is_an_event_and_the_policy_says_what_it_does(world: World):
    job = running_job(world)
    assert world.bus.handle(cmd.FlagJob(job.id, "stall", "no progress for 600 s"))
    with world.uow() as uow:
        (flagged,) = uow.order_events(job.order_id, (ev.JobFlagged,))
        assert isinstance(flagged, ev.JobFlagged)
        assert (flagged.kind, flagged.action, flagged.job_id) == ("stall", "ask_photo", job.id)
        assert command_for(flagged, uow) is None  # asking for a photo sends no command
    pause_flag = ev.JobFlagged(
        at=flagged.at, job_id=job.id, order_id=job.order_id, line_id=job.line_id,
        machine_id=job.machine_id, producer_id=job.producer_id, units=job.units,
        kind="stall", detail="", action="pause",
    )  # fmt: skip
    with world.uow() as uow:
        producer_id, machine_id, command = command_for(pause_flag, uow)  # type: ignore[misc]
    assert (producer_id, machine_id, command.type) == (
        job.producer_id,
        job.machine_id,
        CommandType.PAUSE,
    )
    assert Policy().anomaly_action == "ask_photo"


def test_a_job_that_no_longer_runs_is_not_flagged(world: World):
    job = running_job(world)
    world.bus.handle(cmd.FinishJob(producer_actor(job.producer_id), job.id))
    assert world.bus.handle(cmd.FlagJob(job.id, "stall", "late reading")) is False
    with world.uow() as uow:
        assert uow.jobs.get(job.id).state is JobState.DONE


def test_a_reading_from_another_machine_cannot_flag_the_job(world: World):
    failing = trace("heater_failure", 7)
    job = running_job(world, print_time_s=failing.expected_s)
    bridge = MqttBridge(_Client(), bus=lambda: world.bus, new_uow=world.uow, telemetry=None)  # type: ignore[arg-type]
    start = world.clock.now()
    for s in failing.samples:
        bridge._watch(
            Telemetry(
                machine_id="mch_someone_elses",
                at=start + timedelta(seconds=s.at_s),
                state=s.state,
                job_id=job.id,
                progress=s.progress,
                temps=s.temps,
            )
        )
    assert bridge._events.empty()
    assert list(bridge._not_watched) == [job.id]  # looked up once, then refused from memory

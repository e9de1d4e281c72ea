"""Agents, hub and a real Mosquitto (started by the tests on a free port, with its own
password and ACL files): the job flow, the ACL, bad input, liveness."""

from __future__ import annotations

import json
import time

import pytest

from fabnet.domain.states import JobState, MachineStatus
from fabnet.domain.topics import Kind, machine_topic
from fabnet.services import commands as cmd
from fabnet.services.machine_messages import AgentCommand, CommandType, encode, new_id
from tests.conftest import OPERATOR
from tests.integration.site import Site, client_for, fake, wait_for


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    try:
        s.producer("anna", "anna-mk4")
        s.producer("ben", "ben-mk4")
        s.start()
        yield s
    finally:
        s.close()


def only_job(site: Site, order_id: str):
    jobs = wait_for(lambda: site.jobs(order_id), what="a job")
    assert len(jobs) == 1
    return jobs[0]


def test_a_producer_cannot_write_or_read_another_producers_topics(site):
    anna, ben = site.producers["anna"], site.producers["ben"]
    ben_machine = site.machines["ben-mk4"]
    intruder = client_for(site, "anna", "anna-probe")
    got: list[str] = []
    intruder.handler = lambda m: got.append(m.topic)
    try:
        own = intruder.publish(
            machine_topic(anna, site.machines["anna-mk4"], Kind.TELEMETRY), b"{}", qos=1, wait_s=3
        )
        assert own is not None and own < 128
        for kind in (Kind.EVENTS, Kind.STATE, Kind.TELEMETRY, Kind.COMMANDS):
            code = intruder.publish(machine_topic(ben, ben_machine, kind), b"{}", qos=1, wait_s=3)
            assert code == 135, kind  # not authorised
        # a subscription is granted, but nothing of ben's is ever delivered to anna
        anna_machine = site.machines["anna-mk4"]
        intruder.subscribe([(f"fabnet/v1/{ben}/#", 1), (f"fabnet/v1/{anna}/#", 1)])
        command = AgentCommand(new_id(), CommandType.BED_CLEAR, ben_machine)
        site.bridge.commands.send(ben, ben_machine, encode(command))
        sentinel = AgentCommand(new_id(), CommandType.BED_CLEAR, anna_machine)
        site.bridge.commands.send(anna, anna_machine, encode(sentinel))  # sent after ben's
        anna_commands = machine_topic(anna, anna_machine, Kind.COMMANDS)
        wait_for(lambda: anna_commands in got, what="the sentinel on anna's own topic")
        assert [t for t in got if f"/{ben}/" in t] == []
    finally:
        intruder.stop()


def test_a_job_goes_from_offer_to_done_through_the_broker(site):
    printer = fake(print_s=0.3)
    site.agent("anna", {"anna-mk4": printer})
    site.agent("ben", {"ben-mk4": fake(print_s=0.3)})
    order = site.order(site.design(), units=1)
    job = only_job(site, order)
    wait_for(lambda: site.job_state(job.id) is JobState.DONE, what="job done")
    with site.app.new_uow() as uow:
        assert uow.orders.get(order).state.value == "fulfilled"
        machine = uow.machines.get(job.machine_id)
    assert machine.status is MachineStatus.IDLE
    for name in ("JobAccepted", "JobQueued", "JobStarted", "JobDone"):
        assert site.events_named(name, order, job.id) == 1, name
    live = wait_for(lambda: site.app.telemetry.get(job.machine_id), what="telemetry")
    assert live.producer_id == job.producer_id and live.messages >= 1


def test_the_next_job_waits_until_the_bed_is_clear(site):
    printer = fake(print_s=0.2)
    agent = site.agent("anna", {"anna-mk4": printer})
    site.app.bus().handle(cmd.UpdateProducer(OPERATOR, site.producers["ben"], status=_closed()))
    design = site.design()
    first = only_job(site, site.order(design))
    wait_for(lambda: site.job_state(first.id) is JobState.DONE, what="first job done")
    second_order = site.order(design)
    second = only_job(site, second_order)
    wait_for(lambda: site.job_state(second.id) is JobState.ACCEPTED, what="second accepted")
    heard = site.app.telemetry.get(second.machine_id)
    seen = heard.messages if heard else 0
    # a barrier, not a guess: the agent has reported three more times, so it had its turns
    wait_for(
        lambda: (live := site.app.telemetry.get(second.machine_id)) and live.messages >= seen + 3,
        what="three more reports from the machine",
    )
    assert site.job_state(second.id) is JobState.ACCEPTED  # the bed holds the first part
    assert len(printer.printed) == 1
    site.app.bus().handle(cmd.SendMachineCommand(OPERATOR, second.machine_id, "bed_clear"))
    wait_for(lambda: site.job_state(second.id) is JobState.DONE, what="second job done")
    assert len(printer.printed) == 2
    assert not agent.store.bed_clear(second.machine_id)


def _closed():
    from fabnet.domain.states import FacilityStatus

    return FacilityStatus.CLOSED


def test_cancel_and_pause_from_the_hub_reach_the_machine(site):
    printer = fake(print_s=30)
    site.agent("anna", {"anna-mk4": printer})
    site.app.bus().handle(cmd.UpdateProducer(OPERATOR, site.producers["ben"], status=_closed()))
    job = only_job(site, site.order(site.design()))
    wait_for(lambda: site.job_state(job.id) is JobState.RUNNING, what="running")
    site.app.bus().handle(cmd.SendMachineCommand(OPERATOR, job.machine_id, "pause", job.id))
    wait_for(lambda: printer.status().state == "paused", what="printer paused")
    wait_for(
        lambda: _machine(site, job.machine_id).status is MachineStatus.PAUSED, what="hub paused"
    )
    site.app.bus().handle(cmd.SendMachineCommand(OPERATOR, job.machine_id, "resume", job.id))
    wait_for(lambda: _machine(site, job.machine_id).status is MachineStatus.BUSY, what="resumed")
    site.app.bus().handle(cmd.CancelJob(OPERATOR, job.id, "customer changed the order"))
    wait_for(lambda: printer.status().state == "idle", what="printer stopped")
    assert site.job_state(job.id) is JobState.CANCELLED


def _machine(site, machine_id):
    with site.app.new_uow() as uow:
        return uow.machines.get(machine_id)


def test_a_failed_print_is_reported_with_its_cause_and_planned_elsewhere(site):
    from fabnet.domain.states import FacilityStatus

    site.agent("anna", {"anna-mk4": fake(print_s=0.5, fail_at=0.3)})
    site.agent("ben", {"ben-mk4": fake(print_s=0.3)})
    ben = site.producers["ben"]
    site.app.bus().handle(cmd.UpdateProducer(OPERATOR, ben, status=_closed()))
    order = site.order(site.design(), units=1)
    first = only_job(site, order)
    assert first.producer_id == site.producers["anna"]
    wait_for(lambda: site.job_state(first.id) is JobState.FAILED, what="failed")
    with site.app.new_uow() as uow:
        failed = uow.jobs.get(first.id)
    assert "thermal runaway" in failed.note and failed.note.startswith("at the machine:")
    site.app.bus().handle(cmd.UpdateProducer(OPERATOR, ben, status=FacilityStatus.ACTIVE))
    site.app.bus().handle(cmd.PlanOrders((order,)))
    wait_for(
        lambda: any(j.state is JobState.DONE and j.producer_id == ben for j in site.jobs(order)),
        what="the units made by ben",
    )


def test_a_silent_machine_is_marked_unreachable_and_its_work_handed_back(site):
    agent = site.agent("anna", {"anna-mk4": fake(print_s=60)}, heartbeat_s=0.2)
    site.app.bus().handle(cmd.UpdateProducer(OPERATOR, site.producers["ben"], status=_closed()))
    job = only_job(site, site.order(site.design()))
    wait_for(lambda: site.job_state(job.id) is JobState.RUNNING, what="running")
    agent.stop(crash=True)
    time.sleep(1.0)
    marked = site.app.bus().handle(cmd.SweepHeartbeats(timeout_s=0.5))
    assert marked == [job.machine_id]
    assert site.job_state(job.id) is JobState.FAILED
    assert _machine(site, job.machine_id).status is MachineStatus.OFFLINE
    # the agent comes back: the hub hears it and the machine is available again
    site.bridge.unreachable.update(marked)
    site.agent("anna", {"anna-mk4": fake(print_s=60)}, data_dir=site.root / "agent-anna-2")
    wait_for(lambda: _machine(site, job.machine_id).status is MachineStatus.IDLE, what="back")


def test_bad_messages_are_dropped_with_a_reason_and_change_nothing(site):
    anna = site.producers["anna"]
    machine = site.machines["anna-mk4"]
    probe = client_for(site, "anna", "anna-bad")
    events = machine_topic(anna, machine, Kind.EVENTS)
    telemetry = machine_topic(anna, machine, Kind.TELEMETRY)
    try:
        probe.publish(events, b"not json", qos=1, wait_s=3)
        probe.publish(events, json.dumps({"event_id": "x", "seq": "one"}).encode(), qos=1, wait_s=3)
        probe.publish(telemetry, b'{"machine_id": 5}', qos=1, wait_s=3)
        ghost = machine_topic(anna, "mch_ghost", Kind.TELEMETRY)
        reading = {"machine_id": "mch_ghost", "at": "2026-11-22T00:00:00+00:00", "state": "idle"}
        probe.publish(ghost, json.dumps(reading).encode(), qos=1, wait_s=3)
        stray = {
            "event_id": "e1",
            "seq": 1,
            "machine_id": machine,
            "job_id": "job_nope",
            "type": "done",
            "at": "2026-11-22T00:00:00+00:00",
        }
        probe.publish(events, json.dumps(stray).encode(), qos=1, wait_s=3)
        early = {**stray, "event_id": "e9", "seq": 9}
        probe.publish(events, json.dumps(early).encode(), qos=1, wait_s=3)
        probe.publish(events, json.dumps(stray).encode(), qos=1, wait_s=3)  # a replay
    finally:
        probe.stop()
    seen = site.bridge.counters.seen
    wait_for(lambda: sum(seen.values()) >= 7, what="all dropped")
    assert seen["malformed event"] == 2
    assert seen["malformed telemetry"] == 1
    assert seen["unknown machine or another producer's"] == 1
    assert seen["event refused"] == 1  # a job that is not this machine's
    assert seen["event out_of_order"] == 1
    assert seen["event duplicate"] == 1
    assert site.app.telemetry.get("mch_ghost") is None
    assert _machine(site, machine).event_seq == 1  # the stray consumed its number only

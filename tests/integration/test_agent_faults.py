"""Kill the broker, the hub or the agent in the middle of a job and start it again: no
event is lost, none is applied twice, and the job ends where it should."""

from __future__ import annotations

import time

import pytest

from fabnet.domain.states import FacilityStatus, JobState
from fabnet.services import commands as cmd
from tests.conftest import OPERATOR
from tests.integration.site import Site, fake, release, wait_for


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    try:
        s.producer("anna", "anna-mk4")
        s.producer("ben", "ben-mk4")
        s.start()
        s.app.bus().handle(
            cmd.UpdateProducer(OPERATOR, s.producers["ben"], status=FacilityStatus.CLOSED)
        )
        yield s
    finally:
        s.close()


def running_job(site: Site):
    """An order whose one job the hub knows is running; the printer is held (its print
    cannot end) until the test releases it."""
    order = site.order(site.design())
    job = wait_for(lambda: (site.jobs(order) or [None])[0], what="a job")
    wait_for(lambda: site.job_state(job.id) is JobState.RUNNING, what="running")
    return order, job


def assert_converged(site: Site, order: str, job, agent_store_path) -> None:
    wait_for(lambda: site.job_state(job.id) is JobState.DONE, timeout_s=90, what="job done")
    for name in ("JobAccepted", "JobStarted", "JobDone"):
        assert site.events_named(name, order, job.id) == 1, name  # once, never twice
    from fabnet.entrypoints.agent.outbox import AgentStore

    store = AgentStore(agent_store_path)
    # nothing left behind: the hub may apply an event before the broker's acknowledgement
    # reaches the agent (seen once on a loaded machine), so the outbox empties soon after
    wait_for(lambda: not store.unsent(), timeout_s=30, what="the agent's outbox to empty")
    sent = [e for e in store.sent_events() if e.machine_id == job.machine_id]
    store.close()
    for name in ("JobAccepted", "JobStarted", "JobDone"):
        assert site.events_named(name, order, job.id) == 1, name  # still once
    assert [e.seq for e in sent] == list(range(1, len(sent) + 1))
    with site.app.new_uow() as uow:
        assert uow.machines.get(job.machine_id).event_seq == len(sent)  # every one applied


def test_the_broker_dies_mid_job_and_comes_back(site):
    printer = fake(print_s=1.5, held=True)
    site.agent("anna", {"anna-mk4": printer})
    order, job = running_job(site)
    site.broker.stop(kill=True)
    release(printer)
    wait_for(lambda: printer.printed, what="the print to finish while the broker is down")
    time.sleep(0.3)
    assert site.job_state(job.id) is JobState.RUNNING  # the hub cannot know yet
    site.broker.start()
    assert_converged(site, order, job, site.root / "agent-anna" / "agent.sqlite")


def test_the_hub_crashes_mid_job_and_restarts(site):
    printer = fake(print_s=1.0, held=True)
    site.agent("anna", {"anna-mk4": printer})
    order, job = running_job(site)
    site.restart_hub_bridge(crash=True)  # gone without a goodbye, then a fresh bridge
    release(printer)
    assert_converged(site, order, job, site.root / "agent-anna" / "agent.sqlite")


def test_the_hub_is_down_while_the_job_ends(site):
    printer = fake(print_s=0.8, held=True)
    site.agent("anna", {"anna-mk4": printer})
    order, job = running_job(site)
    assert site.bridge is not None
    site.bridge.stop(crash=True)
    release(printer)
    wait_for(lambda: printer.printed, what="the print to finish while the hub is away")
    time.sleep(0.5)  # the done event waits at the broker, in the hub's session
    site.app.listeners.remove(site.bridge.on_hub_event)
    site.app.closers.remove(site.bridge.stop)
    from fabnet.bootstrap import connect_machines

    site.bridge = connect_machines(site.app)
    assert_converged(site, order, job, site.root / "agent-anna" / "agent.sqlite")


def test_the_agent_crashes_mid_job_and_restarts(site):
    printer = fake(print_s=1.0, held=True)
    agent = site.agent("anna", {"anna-mk4": printer})
    order, job = running_job(site)
    agent.stop(crash=True)
    release(printer)
    time.sleep(1.2)  # the printer finishes on its own meanwhile
    site.agent("anna", {"anna-mk4": printer})  # same data dir: resumes from its store
    assert_converged(site, order, job, site.root / "agent-anna" / "agent.sqlite")
    assert len(printer.printed) == 1  # not printed again


def test_the_broker_loses_its_memory_mid_job(site):
    """A crash that takes the broker's stored sessions with it: the hub's subscriptions
    are gone until it reconnects, and an event sent meanwhile would reach no one. The
    broker says so (no matching subscribers) and the agent keeps the event until heard."""
    import shutil

    printer = fake(print_s=1.0, held=True)
    site.agent("anna", {"anna-mk4": printer})
    order, job = running_job(site)
    site.broker.stop(kill=True)
    shutil.rmtree(site.broker.dir / "data")
    (site.broker.dir / "data").mkdir()
    release(printer)
    wait_for(lambda: printer.printed, what="the print to finish while the broker is down")
    site.broker.start()
    assert_converged(site, order, job, site.root / "agent-anna" / "agent.sqlite")

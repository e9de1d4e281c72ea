from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.domain.errors import InvalidInput, InvalidTransition
from fabnet.domain.events import JobFailed, JobOffered
from fabnet.domain.ids import DesignId, JobId, LineId, MachineId, OrderId, ProducerId
from fabnet.domain.jobs import Job
from fabnet.domain.states import JOB_MOVES, JobState

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_job(units: int = 5) -> Job:
    return Job(
        id=JobId("job_1"),
        order_id=OrderId("o"),
        line_id=LineId("l"),
        design_id=DesignId("d"),
        machine_id=MachineId("m"),
        producer_id=ProducerId("p"),
        material="PLA",
        units=units,
        unit_time_s=60.0,
        due=T0 + timedelta(days=1),
        offered_at=T0,
        expires_at=T0 + timedelta(hours=4),
    ).offered()


def test_happy_path_reaches_done_with_every_unit_made():
    job = make_job()
    for move in (job.accept, job.queue, job.start, job.finish):
        move(T0)
    assert job.state is JobState.DONE
    assert job.units_made == 5
    assert isinstance(job.events[0], JobOffered)
    assert [type(e).__name__ for e in job.events] == [
        "JobOffered",
        "JobAccepted",
        "JobQueued",
        "JobStarted",
        "JobDone",
        "UnitsMade",
    ]
    made = job.events[-1]
    assert (made.units, made.design_id, made.machine_id, made.material) == (5, "d", "m", "PLA")


def test_an_offer_cannot_start_without_being_accepted():
    job = make_job()
    with pytest.raises(InvalidTransition) as err:
        job.start(T0)
    assert (err.value.current, err.value.target) == ("offered", "running")


def test_failed_job_keeps_its_cause_and_partial_units():
    job = make_job(5)
    job.accept(T0)
    job.queue(T0)
    job.start(T0)
    job.fail(T0, "nozzle clog", units_made=2)
    assert job.note == "nozzle clog"
    assert job.units_made == 2
    assert isinstance(job.events[-2], JobFailed)
    assert job.events[-1].units == 2  # the two made units are recorded


def test_failed_job_cannot_claim_all_units():
    job = make_job(3)
    for move in (job.accept, job.queue, job.start):
        move(T0)
    with pytest.raises(InvalidInput, match="units_made"):
        job.fail(T0, "x", units_made=3)


MOVES = {
    "accept": (Job.accept, JobState.ACCEPTED),
    "decline": (Job.decline, JobState.DECLINED),
    "expire": (Job.expire, JobState.EXPIRED),
    "queue": (Job.queue, JobState.QUEUED),
    "start": (Job.start, JobState.RUNNING),
    "finish": (Job.finish, JobState.DONE),
    "fail": (lambda j, at: j.fail(at, "broke"), JobState.FAILED),
    "cancel": (Job.cancel, JobState.CANCELLED),
}


@given(st.lists(st.sampled_from(sorted(MOVES)), max_size=12))
def test_jobs_never_skip_a_state(names):
    """Every accepted move is an edge of the state machine; every refused one is not."""
    job = make_job()
    for name in names:
        move, target = MOVES[name]
        before = job.state
        try:
            move(job, T0)
        except InvalidTransition:
            assert target not in JOB_MOVES[before]
            assert job.state is before
        else:
            assert target in JOB_MOVES[before]
            assert job.state is target

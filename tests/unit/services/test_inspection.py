"""Lots inspected by acceptance sampling: the plan, the decision, what follows from it."""

import pytest

from fabnet.domain import events as ev
from fabnet.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from fabnet.domain.states import JobState
from fabnet.services import commands as cmd
from fabnet.services.quality import sampling_plan
from tests.conftest import ALICE, OPERATOR, World, producer_actor


def jobs(world: World, state: JobState | None = None):
    with world.uow() as uow:
        return [j for j in uow.jobs.all() if state is None or j.state is state]


def finished_lot(world: World, units: int = 100):
    maker = world.producer("maker", 52.5, 13.4)
    world.producer("other", 48.1, 11.6)
    order_id = world.order(world.design(print_time_s=60), units)
    (job,) = jobs(world, JobState.OFFERED)
    actor = producer_actor(maker)
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob, cmd.FinishJob):
        world.bus.handle(step(actor, job.id))
    return maker, order_id, job


def test_the_plan_comes_from_the_lot_and_the_aql(world: World):
    _, _, job = finished_lot(world, 100)
    plan = sampling_plan(world.uow(), OPERATOR, job.id, 2.5)
    assert (plan.code_letter, plan.sample_size, plan.accept, plan.reject) == ("F", 20, 1, 2)


def test_an_accepted_lot_stays_made_and_is_decided_once(world: World):
    _, order_id, job = finished_lot(world, 100)
    done = world.bus.handle(cmd.InspectLot(OPERATOR, job.id, 2.5, nonconforming=1))
    assert done.accepted and done.sample_size == 20
    with world.uow() as uow:
        assert uow.orders.get(order_id).lines[0].units_made == 100
        (logged,) = uow.order_events(order_id, (ev.LotInspected,))
        assert logged == done  # in the order's record, so in the log and the provenance
    with pytest.raises(Conflict, match="already inspected and accepted"):
        world.bus.handle(cmd.InspectLot(OPERATOR, job.id, 2.5, nonconforming=0))


def test_a_rejected_lot_is_made_again_elsewhere_and_counts_against_its_maker(world: World):
    maker, order_id, job = finished_lot(world, 100)
    with world.uow() as uow:
        before = uow.producers.get(maker).belief.failures
    done = world.bus.handle(cmd.InspectLot(OPERATOR, job.id, 2.5, nonconforming=2))
    assert not done.accepted
    with world.uow() as uow:
        line = uow.orders.get(order_id).lines[0]
        assert (line.units_made, line.units_rejected) == (0, 100)
        assert uow.producers.get(maker).belief.failures == before + 1
    again = jobs(world, JobState.OFFERED)
    assert again and all(j.producer_id != maker for j in again)
    assert sum(j.units for j in again) == 100


@pytest.mark.parametrize(
    ("aql", "found", "error", "field"),
    [(1.5, 0, InvalidInput, "aql"), (2.5, 21, InvalidInput, "nonconforming"),
     (2.5, -1, InvalidInput, "nonconforming")],
)  # fmt: skip
def test_bad_inspections_are_refused_and_change_nothing(world: World, aql, found, error, field):
    _, order_id, job = finished_lot(world, 100)
    with pytest.raises(error) as caught:
        world.bus.handle(cmd.InspectLot(OPERATOR, job.id, aql, nonconforming=found))
    assert caught.value.field == field
    with world.uow() as uow:
        assert uow.order_events(order_id, (ev.LotInspected,)) == []


def test_only_a_finished_lot_of_a_real_job_by_an_operator(world: World):
    maker = world.producer("maker", 52.5, 13.4)
    world.order(world.design(), 10)
    (job,) = jobs(world, JobState.OFFERED)
    with pytest.raises(Conflict, match="only a finished job"):
        world.bus.handle(cmd.InspectLot(OPERATOR, job.id, 2.5, nonconforming=0))
    with pytest.raises(NotFound):
        world.bus.handle(cmd.InspectLot(OPERATOR, "job_nope", 2.5, nonconforming=0))
    for who in (ALICE, producer_actor(maker)):
        with pytest.raises(Forbidden):
            world.bus.handle(cmd.InspectLot(who, job.id, 2.5, nonconforming=0))

"""The main path through the services on the in-memory store."""

from datetime import timedelta

import pytest

from fabnet.domain.errors import DuplicateOrder, Forbidden, InvalidInput, NotFound
from fabnet.domain.states import FacilityStatus, JobState, MachineStatus, OrderState
from fabnet.services import commands as cmd
from tests.conftest import ALICE, BOB, OPERATOR, World, printer, producer_actor


def jobs_of(world: World, order_id: str):
    with world.uow() as uow:
        return uow.jobs.all(order_id=order_id)


def order_of(world: World, order_id: str):
    with world.uow() as uow:
        return uow.orders.get(order_id)


def run(world: World, job_id: str, producer_id: str) -> None:
    actor = producer_actor(producer_id)
    for command in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob, cmd.FinishJob):
        world.bus.handle(command(actor, job_id))


def test_placing_an_order_offers_jobs_to_the_nearest_producer(world: World):
    near = world.producer("near", 52.5, 13.4)
    world.producer("far", 48.1, 11.6)
    design = world.design()
    order_id = world.order(design, 20)
    (job,) = jobs_of(world, order_id)
    assert (job.producer_id, job.units, job.state) == (near, 20, JobState.OFFERED)
    assert order_of(world, order_id).state is OrderState.PLANNED


def test_a_declined_offer_is_planned_elsewhere(world: World):
    near = world.producer("near", 52.5, 13.4)
    far = world.producer("far", 48.1, 11.6)
    order_id = world.order(world.design(), 20)
    (job,) = jobs_of(world, order_id)
    world.bus.handle(cmd.DeclineJob(producer_actor(near), job.id, "on holiday"))
    jobs = {j.producer_id: j for j in jobs_of(world, order_id)}
    assert jobs[near].state is JobState.DECLINED
    assert jobs[far].state is JobState.OFFERED and jobs[far].units == 20


def test_a_failed_job_is_replanned_elsewhere_for_the_units_not_made(world: World):
    near = world.producer("near", 52.5, 13.4)
    far = world.producer("far", 48.1, 11.6)
    order_id = world.order(world.design(), 10)
    (job,) = jobs_of(world, order_id)
    actor = producer_actor(near)
    for command in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
        world.bus.handle(command(actor, job.id))
    world.bus.handle(cmd.FailJob(actor, job.id, "warped bed", units_made=4))
    new = [j for j in jobs_of(world, order_id) if j.producer_id == far]
    assert [j.units for j in new] == [6]
    order = order_of(world, order_id)
    assert (order.lines[0].units_made, order.lines[0].units_failed) == (4, 6)
    run(world, new[0].id, far)
    assert order_of(world, order_id).state is OrderState.FULFILLED
    with world.uow() as uow:
        assert uow.producers.get(near).jobs_failed == 1
        assert uow.producers.get(far).jobs_done == 1
        assert uow.machines.all(producer_id=far)[0].status is MachineStatus.IDLE


def test_expired_offers_are_planned_again(world: World, clock):
    first = world.producer("a", 52.5, 13.4)
    second = world.producer("b", 52.0, 13.0)
    order_id = world.order(world.design(), 5)
    clock.set(clock.now() + timedelta(hours=5))
    expired = world.bus.handle(cmd.ExpireOffers())
    assert len(expired) == 1
    states = {j.producer_id: j.state for j in jobs_of(world, order_id)}
    assert states == {first: JobState.EXPIRED, second: JobState.OFFERED}


def test_cancelling_an_order_cancels_its_live_jobs(world: World):
    world.producer("a", 52.5, 13.4)
    order_id = world.order(world.design(), 5)
    world.bus.handle(cmd.CancelOrder(ALICE, order_id, "no longer needed"))
    assert [j.state for j in jobs_of(world, order_id)] == [JobState.CANCELLED]
    order = order_of(world, order_id)
    assert order.state is OrderState.CANCELLED and order.lines[0].units_allocated == 0


def test_another_consumer_cannot_cancel_my_order(world: World):
    world.producer("a", 52.5, 13.4)
    order_id = world.order(world.design(), 5)
    with pytest.raises(NotFound):
        world.bus.handle(cmd.CancelOrder(BOB, order_id))


def test_a_producer_cannot_touch_another_producers_job(world: World):
    a = world.producer("a", 52.5, 13.4)
    b = world.producer("b", 40.0, 3.0)
    order_id = world.order(world.design(), 5)
    (job,) = jobs_of(world, order_id)
    assert job.producer_id == a
    with pytest.raises(NotFound):
        world.bus.handle(cmd.AcceptJob(producer_actor(b), job.id))
    assert jobs_of(world, order_id)[0].state is JobState.OFFERED


def test_unknown_material_for_the_design_is_refused_and_nothing_is_stored(world: World):
    world.producer("a", 52.5, 13.4)
    design = world.design(materials=("PETG",))
    with pytest.raises(InvalidInput) as err:
        world.order(design, 5, material="ABS")
    assert err.value.field == "lines[0].material"
    with world.uow() as uow:
        assert uow.orders.count() == 0 and uow.jobs.count() == 0


def test_a_reference_is_unique_per_consumer(world: World, clock):
    world.producer("a", 52.5, 13.4)
    design = world.design()
    line = cmd.LineRequest(design, "PLA", 1, clock.now() + timedelta(days=2), 52, 13)
    world.bus.handle(cmd.PlaceOrder(ALICE, (line,), reference="PO-1"))
    with pytest.raises(DuplicateOrder):
        world.bus.handle(cmd.PlaceOrder(ALICE, (line,), reference="PO-1"))
    world.bus.handle(cmd.PlaceOrder(BOB, (line,), reference="PO-1"))


def test_producers_cannot_place_orders(world: World, clock):
    pid = world.producer("a", 52.5, 13.4)
    design = world.design()
    line = cmd.LineRequest(design, "PLA", 1, clock.now() + timedelta(days=2), 52, 13)
    with pytest.raises(Forbidden):
        world.bus.handle(cmd.PlaceOrder(producer_actor(pid), (line,)))


def test_a_line_nobody_can_make_stays_unplanned_with_its_reason(world: World):
    world.producer("a", 52.5, 13.4, printer(materials=("PETG",)))
    order_id = world.order(world.design(materials=("PLA",)), 5, material="PLA")
    report = world.bus.handle(cmd.PlanOrders((order_id,)))
    assert report.units_unmet == 5
    assert "works PLA" in next(iter(report.unmet.values()))
    assert order_of(world, order_id).state is OrderState.PLACED


def test_offline_machines_get_no_offers(world: World):
    a = world.producer("a", 52.5, 13.4)
    b = world.producer("b", 48.1, 11.6)
    with world.uow() as uow:
        machine_id = uow.machines.all(producer_id=a)[0].id
    world.bus.handle(cmd.SetMachineStatus(producer_actor(a), machine_id, MachineStatus.OFFLINE))
    order_id = world.order(world.design(), 3)
    assert [j.producer_id for j in jobs_of(world, order_id)] == [b]


def test_every_state_change_is_logged_as_an_event(world: World):
    pid = world.producer("a", 52.5, 13.4)
    order_id = world.order(world.design(), 3)
    (job,) = jobs_of(world, order_id)
    run(world, job.id, pid)
    names = [e["name"] for e in world.uow().events()]
    for expected in (
        "ProducerRegistered",
        "MachineAdded",
        "DesignRegistered",
        "OrderPlaced",
        "JobOffered",
        "JobAccepted",
        "JobQueued",
        "JobStarted",
        "JobDone",
        "OrderStateChanged",
        "MachineStatusChanged",
    ):
        assert expected in names
    assert all(e["payload"]["at"] for e in world.uow().events())


def test_operator_may_act_for_any_producer(world: World):
    pid = world.producer("a", 52.5, 13.4)
    order_id = world.order(world.design(), 3)
    (job,) = jobs_of(world, order_id)
    world.bus.handle(cmd.AcceptJob(OPERATOR, job.id))
    assert jobs_of(world, order_id)[0].state is JobState.ACCEPTED
    assert pid


def test_a_machine_going_offline_hands_its_jobs_back_for_replanning(world: World):
    a = world.producer("a", 52.5, 13.4)
    b = world.producer("b", 48.1, 11.6)
    order_id = world.order(world.design(), 10)
    (job,) = jobs_of(world, order_id)
    actor = producer_actor(a)
    for command in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
        world.bus.handle(command(actor, job.id))
    with world.uow() as uow:
        machine_id = uow.machines.all(producer_id=a)[0].id
    world.bus.handle(cmd.SetMachineStatus(actor, machine_id, MachineStatus.OFFLINE))
    jobs = {j.producer_id: j for j in jobs_of(world, order_id)}
    assert jobs[a].state is JobState.FAILED and jobs[a].note == "machine offline"
    assert (jobs[b].state, jobs[b].units) == (JobState.OFFERED, 10)


def test_a_producer_that_closes_gives_back_its_offers(world: World):
    a = world.producer("a", 52.5, 13.4)
    b = world.producer("b", 48.1, 11.6)
    order_id = world.order(world.design(), 10)
    world.bus.handle(cmd.UpdateProducer(OPERATOR, a, status=FacilityStatus.CLOSED))
    states = {j.producer_id: j.state for j in jobs_of(world, order_id)}
    assert states == {a: JobState.CANCELLED, b: JobState.OFFERED}

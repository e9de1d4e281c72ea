"""A decline says why, and the next plan acts on it instead of repeating the offer."""

import pytest

from fabnet.domain.errors import InvalidInput, NotFound
from fabnet.domain.states import DeclineReason, JobState, MachineStatus
from fabnet.services import commands as cmd
from tests.conftest import World, printer, producer_actor


def jobs(world: World, order_id: str):
    with world.uow() as uow:
        return uow.jobs.all(order_id=order_id)


def offered(world: World, order_id: str):
    return [j for j in jobs(world, order_id) if j.state is JobState.OFFERED]


def machines(world: World, producer_id: str):
    with world.uow() as uow:
        return {m.name: m for m in uow.machines.of_producer(producer_id)}


@pytest.fixture
def two(world: World):
    """A near producer with two printers, a far one with one."""
    near = world.producer("near", 52.5, 13.4, printer("a"), printer("b"))
    far = world.producer("far", 48.1, 11.6, printer("c"))
    return near, far


def test_out_of_material_takes_it_off_the_producer_and_the_offer_goes_elsewhere(world, two):
    near, far = two
    order_id = world.order(world.design(), 10)
    (job,) = offered(world, order_id)
    assert job.producer_id == near
    world.bus.handle(
        cmd.DeclineJob(producer_actor(near), job.id, "spool ran out", DeclineReason.OUT_OF_MATERIAL)
    )
    assert [j.producer_id for j in offered(world, order_id)] == [far]  # not its other printer
    assert all("PLA" not in m.materials for m in machines(world, near).values())
    (declined,) = [j for j in jobs(world, order_id) if j.state is JobState.DECLINED]
    assert declined.note == "out_of_material: spool ran out"
    # restocked, a new order of the same material may come to it again
    world.bus.handle(cmd.RestockMaterial(producer_actor(near), near, "pla"))
    assert all("PLA" in m.materials for m in machines(world, near).values())
    second = world.order(world.design(), 5)
    assert [j.producer_id for j in offered(world, second)] == [near]


def test_machine_down_puts_it_into_maintenance_and_its_twin_may_take_the_work(world, two):
    near, _ = two
    order_id = world.order(world.design(), 10)
    (job,) = offered(world, order_id)
    world.bus.handle(cmd.DeclineJob(producer_actor(near), job.id, "", DeclineReason.MACHINE_DOWN))
    down = {m.id: m for m in machines(world, near).values()}[job.machine_id]
    assert down.status is MachineStatus.MAINTENANCE
    (again,) = offered(world, order_id)
    assert again.producer_id == near and again.machine_id != job.machine_id


@pytest.mark.parametrize("kind", [DeclineReason.TOO_BUSY, DeclineReason.OTHER])
def test_too_busy_or_other_keeps_the_line_from_the_whole_producer(world, two, kind):
    near, far = two
    order_id = world.order(world.design(), 10)
    (job,) = offered(world, order_id)
    world.bus.handle(cmd.DeclineJob(producer_actor(near), job.id, "", kind))
    assert [j.producer_id for j in offered(world, order_id)] == [far]
    assert all("PLA" in m.materials for m in machines(world, near).values())


def test_restocking_what_no_decline_took_is_refused(world, two):
    near, far = two
    with pytest.raises(InvalidInput, match="material"):
        world.bus.handle(cmd.RestockMaterial(producer_actor(near), near, "PETG"))
    with pytest.raises(NotFound):
        world.bus.handle(cmd.RestockMaterial(producer_actor(far), near, "PLA"))

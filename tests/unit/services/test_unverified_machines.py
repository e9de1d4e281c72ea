"""Machines an import could not size: kept, not planned on, until their producer confirms."""

import pytest

from fabnet.domain.errors import Conflict, InvalidInput, NotFound
from fabnet.domain.states import JobState, MachineStatus
from fabnet.services import commands as cmd
from tests.conftest import OPERATOR, World, facility, printer, producer_actor

UNSIZED = cmd.MachineSpec(
    name="acme p1",
    process="fdm",
    materials=(),
    build_volume_mm=None,
    unverified="build volume not known",
)


def machines_of(world: World, producer_id: str):
    with world.uow() as uow:
        return uow.machines.of_producer(producer_id)


def imported(world: World, *machines: cmd.MachineSpec, ref: str = "lab-1") -> str:
    report = world.bus.handle(
        cmd.ImportFacilities(OPERATOR, (facility("Lab", 52.5, 13.4, *machines, ref=ref),))
    )
    (pid,) = report.created or report.updated or report.unchanged
    return pid


def test_an_unverified_machine_is_kept_but_gets_no_work_until_confirmed(world: World):
    pid = imported(world, UNSIZED)
    (m,) = machines_of(world, pid)
    assert (m.status, m.capacity_flag) == (MachineStatus.UNVERIFIED, "build volume not known")
    order_id = world.order(world.design(), 5)
    with world.uow() as uow:
        assert uow.jobs.all(order_id=order_id) == []
    world.bus.handle(cmd.ConfirmMachine(producer_actor(pid), m.id, (250, 210, 210), ("PLA",)))
    (m,) = machines_of(world, pid)
    assert (m.status, m.capacity_flag, m.materials) == (MachineStatus.IDLE, "", ("PLA",))
    world.order(world.design(), 5)
    with world.uow() as uow:
        assert [j.state for j in uow.jobs.all()] == [JobState.OFFERED]


def test_reimporting_the_gap_keeps_what_the_producer_confirmed(world: World):
    pid = imported(world, UNSIZED)
    (m,) = machines_of(world, pid)
    world.bus.handle(cmd.ConfirmMachine(producer_actor(pid), m.id, (250, 210, 210), ("PLA",)))
    report = world.bus.handle(
        cmd.ImportFacilities(OPERATOR, (facility("Lab", 52.5, 13.4, UNSIZED, ref="lab-1"),))
    )
    assert report.unchanged == [pid]
    (m,) = machines_of(world, pid)
    assert m.status is MachineStatus.IDLE and m.build_volume.x_mm == 250


def test_a_record_that_now_gives_the_size_verifies_the_machine(world: World):
    pid = imported(world, UNSIZED)
    sized = printer("acme p1", materials=("PETG",))
    report = world.bus.handle(
        cmd.ImportFacilities(OPERATOR, (facility("Lab", 52.5, 13.4, sized, ref="lab-1"),))
    )
    assert report.updated == [pid]
    (m,) = machines_of(world, pid)
    assert (m.status, m.materials) == (MachineStatus.IDLE, ("PETG",))


def test_status_changes_cannot_skip_the_confirmation(world: World):
    pid = imported(world, UNSIZED)
    (m,) = machines_of(world, pid)
    with pytest.raises(Conflict, match="confirms its build volume"):
        world.bus.handle(cmd.SetMachineStatus(producer_actor(pid), m.id, MachineStatus.IDLE))
    assert machines_of(world, pid)[0].status is MachineStatus.UNVERIFIED


@pytest.mark.parametrize(
    ("volume", "materials", "field"),
    [
        ((0, 210, 210), ("PLA",), "build_volume_mm.x"),
        ((250, 210, 210), ("CHEESE",), "materials[0]"),
        ((250, 210, 210), (), "materials"),
        ((float("nan"), 1, 1), ("PLA",), "build_volume_mm.x_mm"),
    ],
)
def test_a_bad_confirmation_is_refused_and_changes_nothing(world: World, volume, materials, field):
    pid = imported(world, UNSIZED)
    (m,) = machines_of(world, pid)
    with pytest.raises(InvalidInput) as caught:
        world.bus.handle(cmd.ConfirmMachine(producer_actor(pid), m.id, volume, materials))
    assert caught.value.field == field
    assert machines_of(world, pid)[0].status is MachineStatus.UNVERIFIED


def test_only_its_producer_confirms_a_machine(world: World):
    pid = imported(world, UNSIZED)
    other = imported(world, printer(), ref="lab-2")
    (m,) = machines_of(world, pid)
    with pytest.raises(NotFound):
        world.bus.handle(cmd.ConfirmMachine(producer_actor(other), m.id, (1, 1, 1), ("PLA",)))

"""Qualifying a machine with fabnet's own test coupon."""

import math

import pytest

from fabnet.adapters.geometry import TrimeshAnalyzer
from fabnet.adapters.geometry.coupon import coupon_stl
from fabnet.domain.errors import InvalidInput, NotFound
from fabnet.domain.states import MachineStatus
from fabnet.fabrication.qualification import COUPON, Tolerances, judge
from fabnet.services import commands as cmd
from tests.conftest import World, producer_actor

GOOD = {f: nominal for f, (nominal, _) in COUPON.items()}


def test_the_coupon_mesh_has_the_nominal_features():
    facts = TrimeshAnalyzer(wall_samples=4000).analyse("coupon.stl", coupon_stl())
    assert facts.watertight and facts.shells == 1
    assert facts.bbox_mm == pytest.approx((40.0, 20.0, 13.0), abs=1e-6)
    holes = math.pi * (3.0**2 + 1.5**2) * 5.0
    fins = (1.2 + 0.8) * 14.0 * 8.0
    assert facts.volume_mm3 == pytest.approx(40 * 20 * 5 - holes + fins, rel=2e-3)


def test_measurements_within_tolerance_pass_and_a_small_hole_fails():
    assert judge(GOOD, Tolerances()).passed
    verdict = judge({**GOOD, "hole_3_mm": 2.5, "length_mm": 40.25}, Tolerances())
    assert not verdict.passed and verdict.failed == ["hole_3_mm"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"colour": 1.0}, "measurements.colour", "not a coupon feature"),
        ({"length_mm": 4.0}, "measurements.length_mm", "in cm"),
        ({"length_mm": -1}, "measurements.length_mm", "positive"),
        ({"length_mm": "40"}, "measurements.length_mm", "a number"),
        ({"length_mm": True}, "measurements.length_mm", "a number"),
        ({"length_mm": float("nan")}, "measurements.length_mm", "positive"),
    ],
)
def test_bad_measurements_name_the_feature(change, field, message):
    with pytest.raises(InvalidInput, match=message) as caught:
        judge({**GOOD, **change}, Tolerances())
    assert caught.value.field == field


def test_a_missing_measurement_is_named():
    incomplete = {k: v for k, v in GOOD.items() if k != "wall_0_8_mm"}
    with pytest.raises(InvalidInput) as caught:
        judge(incomplete, Tolerances())
    assert caught.value.field == "measurements.wall_0_8_mm"


def test_a_failed_coupon_keeps_the_machine_out_of_planning_until_one_passes(world: World):
    pid = world.producer("maker", 52.5, 13.4)
    with world.uow() as uow:
        (machine,) = uow.machines.of_producer(pid)
    actor = producer_actor(pid)
    failed = world.bus.handle(
        cmd.QualifyMachine(actor, machine.id, {**GOOD, "wall_0_8_mm": 0.5}, photo=b"jpeg")
    )
    assert not failed.passed and failed.failed_features == "wall_0_8_mm"
    assert world.blobs.get(failed.photo_hash) == b"jpeg"
    with world.uow() as uow:
        assert uow.machines.get(machine.id).status is MachineStatus.UNVERIFIED
    order_id = world.order(world.design(), 3)
    with world.uow() as uow:
        assert uow.jobs.all(order_id=order_id) == []
    passed = world.bus.handle(cmd.QualifyMachine(actor, machine.id, GOOD))
    assert passed.passed
    with world.uow() as uow:
        m = uow.machines.get(machine.id)
        assert (m.status, m.capacity_flag) == (MachineStatus.IDLE, "")


def test_only_its_producer_qualifies_a_machine(world: World):
    pid = world.producer("maker", 52.5, 13.4)
    other = world.producer("other", 48.1, 11.6)
    with world.uow() as uow:
        (machine,) = uow.machines.of_producer(pid)
    with pytest.raises(NotFound):
        world.bus.handle(cmd.QualifyMachine(producer_actor(other), machine.id, GOOD))

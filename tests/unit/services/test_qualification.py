"""Qualifying a machine with fabnet's own test coupon."""

import math

import pytest

from fabnet.adapters.geometry import TrimeshAnalyzer
from fabnet.adapters.geometry.coupon import coupon_stl
from fabnet.domain.capabilities import MATERIALS, Process
from fabnet.domain.errors import InvalidInput, NotFound
from fabnet.domain.reliability import Probation
from fabnet.domain.states import MachineStatus
from fabnet.fabrication.qualification import (
    COUPON,
    Tolerances,
    ToleranceTable,
    coupon_material,
    judge,
)
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


def _machine_of(world: World, pid: str):
    with world.uow() as uow:
        (machine,) = uow.machines.of_producer(pid)
    return machine


def _live_jobs(world: World, order_id: str):
    with world.uow() as uow:
        return [j for j in uow.jobs.all(order_id=order_id) if j.is_live]


def _make(world: World, job, *, fail: bool = False) -> None:
    actor = producer_actor(job.producer_id)
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
        world.bus.handle(step(actor, job.id))
    if fail:
        world.bus.handle(cmd.FailJob(actor, job.id, "spaghetti", 0))
    else:
        world.bus.handle(cmd.FinishJob(actor, job.id))


def test_a_passed_coupon_starts_probation_the_planner_bounds_its_jobs_and_it_graduates(world):
    """Probation (5 jobs, 10 units a job by default): the new machine is offered 10 of 30
    units, the rest goes to the established shop; after five good jobs (posterior mean
    6/7 >= 0.8) it graduates, an event says so, and it is offered whole lines again."""
    new = world.producer("new maker", 52.52, 13.40)
    world.producer("far shop", 48.1, 11.6)
    machine = _machine_of(world, new)
    passed = world.bus.handle(cmd.QualifyMachine(producer_actor(new), machine.id, GOOD))
    assert passed.passed and passed.probation_jobs == 5 and passed.material == "PLA"
    assert _machine_of(world, new).probation.left == 5
    design = world.design(print_time_s=600)
    for n in range(5):
        order_id = world.order(design, 30, days=5)
        mine = [j for j in _live_jobs(world, order_id) if j.producer_id == new]
        assert sum(j.units for j in mine) == 10, n
        for job in _live_jobs(world, order_id):
            _make(world, job)
        left = _machine_of(world, new).probation
        assert (left.left if left else 0) == 4 - n
    assert _machine_of(world, new).probation is None
    graduated = [e["payload"] for e in world.db.events if e["name"] == "MachineGraduated"]
    assert [(e["machine_id"], e["jobs"]) for e in graduated] == [(machine.id, 5)]
    order_id = world.order(design, 30, days=5)
    mine = [j for j in _live_jobs(world, order_id) if j.producer_id == new]
    assert sum(j.units for j in mine) == 30


def test_a_failure_on_probation_starts_the_count_again(world: World):
    new = world.producer("new maker", 52.52, 13.40)
    machine = _machine_of(world, new)
    world.bus.handle(cmd.QualifyMachine(producer_actor(new), machine.id, GOOD))
    design = world.design(print_time_s=600)
    for fail in (False, False, True):
        order_id = world.order(design, 5, days=5)
        (job,) = _live_jobs(world, order_id)
        _make(world, job, fail=fail)
    assert _machine_of(world, new).probation.left == 5


def test_tolerances_are_per_material_and_the_material_is_the_machines():
    """TPU is measured soft: 0.45 mm under on the outer size fails PLA's rule, passes TPU's."""
    table = ToleranceTable()
    off = {**GOOD, "length_mm": 39.55}
    assert not judge(off, table.of(Process.FDM, "PLA")).passed
    assert judge(off, table.of(Process.FDM, "TPU")).passed
    assert table.of(Process.SLA, "RESIN_STANDARD").outer < table.of(Process.FDM, "PLA").outer
    for process, material in table.by_material:
        assert material in MATERIALS[process]
    with pytest.raises(InvalidInput, match="additive"):
        table.of(Process.CNC_MILLING, "ALUMINIUM")
    assert coupon_material(Process.FDM, "", ("PETG", "PLA")) == "PETG"
    assert coupon_material(Process.FDM, "pla", ("PETG", "PLA")) == "PLA"
    with pytest.raises(InvalidInput, match="not one of the machine's") as caught:
        coupon_material(Process.FDM, "TPU", ("PLA",))
    assert caught.value.field == "material"


def test_the_operator_sets_tolerances_per_process_and_material():
    table = ToleranceTable.parse('{"fdm/PETG": {"outer": [0.1, 0.1]}, "sla": {"holes": [1, 1]}}')
    assert table.of(Process.FDM, "PETG").outer == (0.1, 0.1)
    assert table.of(Process.FDM, "PETG").holes == Tolerances().holes
    assert table.of(Process.SLA, "RESIN_TOUGH").holes == (1.0, 1.0)
    assert table.of(Process.FDM, "PLA") == Tolerances()
    for text, field in [
        ("[1]", "coupon_tolerances"),
        ('{"cnc_milling": {}}', "coupon_tolerances.cnc_milling"),
        ('{"fdm/UNOBTAINIUM": {}}', "coupon_tolerances.fdm/UNOBTAINIUM"),
        ('{"fdm": {"outer": [0.1]}}', "coupon_tolerances.fdm.outer"),
        ('{"fdm": {"outer": [-1, 0]}}', "tolerances.outer"),
        ('{"fdm": {"edges": [1, 1]}}', "coupon_tolerances.fdm"),
        ("{", "coupon_tolerances"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            ToleranceTable.parse(text)
        assert caught.value.field == field, text


def test_qualifying_in_a_material_the_machine_lacks_is_refused_and_nothing_is_written(world):
    pid = world.producer("maker", 52.5, 13.4)
    machine = _machine_of(world, pid)
    with pytest.raises(InvalidInput) as caught:
        world.bus.handle(cmd.QualifyMachine(producer_actor(pid), machine.id, GOOD, b"", "TPU"))
    assert caught.value.field == "material"
    after = _machine_of(world, pid)
    assert after.probation is None and after.version == machine.version


def test_probation_rules():
    terms = Probation(jobs=2, units_per_job=3, graduate_at=0.7)
    state = terms.start()
    assert state is not None and state.left == 2
    one = state.after(True, 0.9)
    assert one is not None and one.left == 1
    assert one.after(True, 0.9) is None  # graduated
    held = one.after(True, 0.5)  # done its jobs, not trusted enough: one more at a time
    assert held is not None and held.left == 1
    assert one.after(False, 0.9).left == 2
    assert Probation(jobs=0).start() is None
    for bad in ({"jobs": -1}, {"jobs": 2.5}, {"units_per_job": 0}, {"graduate_at": 1.0}):
        with pytest.raises(InvalidInput):
            Probation(**bad)


def test_probation_terms_come_from_the_settings():
    from fabnet.bootstrap import policy_from
    from fabnet.config import Settings

    policy = policy_from(Settings(probation='{"jobs": 3, "units_per_job": 4}'))
    assert (policy.probation.jobs, policy.probation.units_per_job) == (3, 4)
    for text in ('{"left": 2}', '{"jobs": "many"}', '{"weeks": 2}', "nope"):
        with pytest.raises(InvalidInput):
            policy_from(Settings(probation=text))

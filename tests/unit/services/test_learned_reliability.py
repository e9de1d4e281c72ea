"""Outcomes teach the hub who is reliable, and the planner prices the risk it learned."""

from datetime import timedelta

from fabnet.domain.states import JobState
from fabnet.entrypoints.api.routers.producers import reliability_of
from fabnet.services import commands as cmd
from tests.conftest import OPERATOR, World, producer_actor


def run_job(world: World, job, *, fail: bool = False) -> None:
    actor = producer_actor(job.producer_id)
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
        world.bus.handle(step(actor, job.id))
    if fail:
        world.bus.handle(cmd.FailJob(actor, job.id, "spaghetti", units_made=0))
    else:
        world.bus.handle(cmd.FinishJob(actor, job.id))


def offered(world: World):
    with world.uow() as uow:
        return [j for j in uow.jobs.all() if j.state is JobState.OFFERED]


def test_failures_lower_the_belief_in_the_producer_and_its_machine(world: World):
    pid = world.producer("maker", 52.5, 13.4)
    design = world.design()
    for i in range(4):
        world.order(design, 2)
        (job,) = offered(world)
        run_job(world, job, fail=i % 2 == 0)
    found = reliability_of(world.uow(), OPERATOR, pid, world.clock.now())
    assert found.producer.successes == 2 and found.producer.failures == 2
    assert found.producer.mean == 0.5  # Beta(1 + 2, 1 + 2)
    lo, hi = found.producer.interval_90
    assert lo < 0.5 < hi and hi - lo < 0.9
    (machine,) = found.machines
    assert (machine.successes, machine.failures) == (2, 2)


def test_a_late_finish_counts_against_it(world: World):
    pid = world.producer("maker", 52.5, 13.4)
    world.order(world.design(), 2)  # due in days
    (job,) = offered(world)
    world.clock.set(world.clock.now() + timedelta(days=60))
    run_job(world, job)
    found = reliability_of(world.uow(), OPERATOR, pid, world.clock.now())
    assert (found.producer.successes, found.producer.failures) == (0, 1)


def test_the_planner_moves_work_from_a_maker_that_fails(world: World):
    flaky = world.producer("flaky", 52.50, 13.40)  # nearer
    steady = world.producer("steady", 52.52, 13.45)
    design = world.design()
    for _ in range(6):
        world.order(design, 1)
        for job in offered(world):
            run_job(world, job, fail=job.producer_id == flaky)
    with world.uow() as uow:
        assert uow.producers.get(flaky).reliability < uow.producers.get(steady).reliability
    world.order(design, 3)
    assert {j.producer_id for j in offered(world)} == {steady}


def test_the_simulator_keeps_each_makers_hidden_failure_rate():
    import random

    from fabnet.sim.machines import ProducerBehaviour

    behaviour = ProducerBehaviour(0.9, 0.05, (1, 2), 0.0, failure_rates={"prd_bad": 0.3})
    rng = random.Random(1)
    bad = sum(behaviour.fails(rng, "prd_bad") for _ in range(4000)) / 4000
    good = sum(behaviour.fails(rng, "prd_ok") for _ in range(4000)) / 4000
    assert abs(bad - 0.3) < 0.03 and abs(good - 0.05) < 0.015

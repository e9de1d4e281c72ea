"""The operator's overview, recomputed from the store: units at each stage, alerts (a
flagged print, a late job, a parcel waiting with its reason), the map's arrays; and only
an operator reads it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fabnet.domain.errors import Forbidden
from fabnet.services import commands as cmd
from fabnet.services.overview import network_map, overview
from tests.conftest import ALICE, OPERATOR, World, producer_actor


def test_units_move_through_the_stages_and_alerts_say_what_needs_a_look(world: World, clock):
    world.producer("a", 52.45, 13.30)
    order_id = world.order(world.design(print_time_s=600), 10, days=1)
    with world.uow() as uow:
        (job,) = [j for j in uow.jobs.of_order(order_id) if j.is_live]
    actor = producer_actor(job.producer_id)
    view = overview(world.uow(), OPERATOR, clock.now())["counters"]
    assert (view["units_ordered"], view["units_planned"], view["units_made"]) == (10, 10, 0)
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
        world.bus.handle(step(actor, job.id))
    world.bus.handle(cmd.FlagJob(job.id, "stall", "no progress for 10 min"))
    clock.set(clock.now() + timedelta(days=2))  # and now it is late
    seen = overview(world.uow(), OPERATOR, clock.now())
    assert seen["counters"]["units_printing"] == 10
    kinds = {a["kind"] for a in seen["alerts"]}
    assert {"flagged", "late_job"} <= kinds
    world.bus.handle(cmd.FinishJob(actor, job.id))
    world.deliver(order_id)
    done = overview(world.uow(), OPERATOR, clock.now())
    c = done["counters"]
    assert (c["units_made"], c["units_delivered"], c["units_printing"]) == (10, 10, 0)
    assert c["on_time_ratio"] == 0.0  # delivered a day after the deadline
    assert not {"flagged", "late_job"} & {a["kind"] for a in done["alerts"]}


def test_the_map_arrays_and_who_may_read_them(world: World, clock):
    world.producer("a", 52.45, 13.30)
    world.order(world.design(print_time_s=600), 5, lat=52.5, lon=13.4)
    drawn = network_map(world.uow(), OPERATOR)
    assert drawn["producers"] == [[52.45, 13.3, 1, 0]]
    assert drawn["destinations"] == [[52.5, 13.4, 5]]
    assert drawn["flows"] == [[52.45, 13.3, 52.5, 13.4, 5]]
    with pytest.raises(Forbidden):
        network_map(world.uow(), ALICE)
    with pytest.raises(Forbidden):
        overview(world.uow(), ALICE, clock.now())

"""Escrow through the services: funded with the order, units delivered (their shipment
delivered with the consignee's code) count, acceptance releases pro rata, and the transparency log alone reproduces the balances."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from fabnet.adapters.memory.log import InMemoryLogStore
from fabnet.domain.contracts import Escrow
from fabnet.domain.errors import Forbidden, InvalidTransition, NotFound
from fabnet.domain.events import event_from
from fabnet.ledger.notes import Signer
from fabnet.services import commands as cmd
from fabnet.services.ledger import TransparencyLog
from tests.conftest import ALICE, BOB, OPERATOR, World, printer, producer_actor


def make(world: World, actor_for: dict, job, *, fail_units: int | None = None) -> None:
    actor = producer_actor(job.producer_id)
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
        world.bus.handle(step(actor, job.id))
    if fail_units is None:
        world.bus.handle(cmd.FinishJob(actor, job.id))
    else:
        world.bus.handle(cmd.FailJob(actor, job.id, "spaghetti", fail_units))
    world.deliver(job.order_id)


def jobs(world: World, order_id: str):
    with world.uow() as uow:
        return [j for j in uow.jobs.all(order_id=order_id) if j.is_live]


def test_escrow_follows_production_and_the_log_replays_it(world: World, clock):
    world.producer("a", 52.5, 13.4, printer(hours_per_day=4.0))
    world.producer("b", 52.4, 13.3)
    order_id = world.order(world.design(print_time_s=3600), 10, days=2)
    funded = world.bus.handle(
        cmd.FundEscrow(ALICE, order_id, amount_minor=50_000, late_penalty_minor_per_unit_day=100)
    )
    assert funded["held"] == 50_000
    for job in jobs(world, order_id):
        make(world, {}, job)
    clock.set(clock.now() + timedelta(hours=1))
    balances = world.bus.handle(cmd.AcceptDelivery(ALICE, order_id))
    assert balances["state"] == "released"
    assert sum(balances["paid"].values()) + balances["refunded"] == 50_000
    assert sum(balances["paid"].values()) == 50_000  # on time, all good

    log = TransparencyLog(InMemoryLogStore(world.db), Signer.generate("hub.test/log"))
    log.sequence()
    leaves = [json.loads(leaf) for leaf in log.store.leaves(0, log.size)]
    events = [
        event_from(e["event"], e["payload"]) for e in leaves if e["event"].startswith("Escrow")
    ]
    assert Escrow.replay(order_id, events).balances() == balances


def test_failed_units_are_not_paid_and_the_dispute_goes_to_the_arbiter(world: World, clock):
    world.producer("a", 52.5, 13.4)
    world.producer("b", 48.1, 11.6)
    order_id = world.order(world.design(print_time_s=600), 10, days=2)
    world.bus.handle(cmd.FundEscrow(ALICE, order_id, amount_minor=10_000))
    (job,) = jobs(world, order_id)
    make(world, {}, job, fail_units=4)  # 4 made, 6 re-planned elsewhere
    for again in jobs(world, order_id):
        make(world, {}, again)
    with pytest.raises(Forbidden):
        world.bus.handle(cmd.RejectUnits(ALICE, order_id, job.producer_id, 1))
    world.bus.handle(cmd.RejectUnits(OPERATOR, order_id, job.producer_id, 1))
    (remake,) = jobs(world, order_id)  # the rejected unit is made again, by someone else
    assert (remake.units, remake.producer_id != job.producer_id) == (1, True)
    make(world, {}, remake)
    world.bus.handle(cmd.OpenDispute(ALICE, order_id, "one cracked"))
    with pytest.raises(Forbidden):
        world.bus.handle(cmd.DecideDispute(ALICE, order_id, 1000))
    result = world.bus.handle(cmd.DecideDispute(OPERATOR, order_id, 900))
    paid = result["paid"]
    assert paid[job.producer_id] == 3 * 1000 * 900 // 1000
    assert sum(paid.values()) + result["refunded"] == 10_000


def test_silence_accepts_after_the_window_through_the_sweeper(world: World, clock):
    world.producer("a", 52.5, 13.4)
    order_id = world.order(world.design(print_time_s=600), 5, days=2)
    world.bus.handle(cmd.FundEscrow(ALICE, order_id, amount_minor=5_000, inspection_window_s=3600))
    for job in jobs(world, order_id):
        make(world, {}, job)
    assert world.bus.handle(cmd.SweepEscrows()) == []
    clock.set(clock.now() + timedelta(hours=2))
    assert world.bus.handle(cmd.SweepEscrows()) == [order_id]
    with pytest.raises(InvalidTransition):
        world.bus.handle(cmd.AcceptDelivery(ALICE, order_id))


def test_cancelling_refunds_and_others_cannot_touch_the_escrow(world: World):
    world.producer("a", 52.5, 13.4)
    order_id = world.order(world.design(), 5)
    with pytest.raises(NotFound):
        world.bus.handle(cmd.FundEscrow(BOB, order_id, amount_minor=100))
    world.bus.handle(cmd.FundEscrow(ALICE, order_id, amount_minor=100))
    with pytest.raises(InvalidTransition):
        world.bus.handle(cmd.FundEscrow(ALICE, order_id, amount_minor=100))
    world.bus.handle(cmd.CancelOrder(ALICE, order_id))
    with world.uow() as uow:
        from fabnet.services.escrow import escrow_of

        assert escrow_of(uow, order_id).balances() == {
            "held": 0,
            "paid": {},
            "refunded": 100,
            "state": "refunded",
        }


def test_penalties_bind_only_producers_who_accepted_them(world: World, clock):
    from fabnet.domain import events as ev

    world.producer("a", 52.5, 13.4)
    order_id = world.order(world.design(print_time_s=600), 4, days=1)
    (job,) = jobs(world, order_id)
    actor = producer_actor(job.producer_id)
    world.bus.handle(cmd.AcceptJob(actor, job.id))  # accepted while nothing was funded
    world.bus.handle(
        cmd.FundEscrow(ALICE, order_id, amount_minor=4000, late_penalty_minor_per_unit_day=50)
    )
    for step in (cmd.QueueJob, cmd.StartJob):
        world.bus.handle(step(actor, job.id))
    clock.set(clock.now() + timedelta(days=3))  # two days late
    world.bus.handle(cmd.FinishJob(actor, job.id))
    world.deliver(order_id)
    with world.uow() as uow:
        (delivered,) = uow.order_events(order_id, (ev.EscrowUnitsDelivered,))
    assert delivered.days_late == 0  # it never agreed to a penalty

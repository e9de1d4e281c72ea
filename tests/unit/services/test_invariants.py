"""Invariants over random command sequences (hypothesis stateful), through the real
services and reactions on the in-memory store:

- every order line: units made + units open in live jobs + unallocated == quantity, each
  term >= 0, and a line's allocated units are exactly those its live jobs hold;
- every escrow: funded == held + paid + refunded, and nobody is paid more than funded;
- every event is a log entry once (the sequencer over the same events).

Steps: place and cancel orders, fund escrows, accept, decline, let offers expire, start,
finish, fail with some units made, cancel jobs, reject made units, accept deliveries,
dispute, arbitrate, sweep.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fabnet.adapters.memory.log import InMemoryLogStore
from fabnet.domain.errors import Conflict, FabnetError
from fabnet.domain.ids import JobId, OrderId, ProducerId
from fabnet.domain.states import JobState
from fabnet.ledger.notes import Signer
from fabnet.services import commands as cmd
from fabnet.services.escrow import escrow_of
from fabnet.services.ledger import TransparencyLog
from fabnet.services.ports import FixedClock
from tests.conftest import ALICE, OPERATOR, START, World, printer, producer_actor

SIGNER = Signer.generate("fabnet.test/invariants")


class Hub(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World(FixedClock(START))
        self.producers = [
            self.world.producer(name, 52.5 + k / 10, 13.4, printer(hours_per_day=6.0))
            for k, name in enumerate(("a", "b", "c"))
        ]
        self.design = self.world.design(print_time_s=1800)
        self.orders: list[str] = []
        self.funded: dict[str, int] = {}

    # -- helpers -----------------------------------------------------------------------

    def jobs(self, *states: JobState):
        with self.world.uow() as uow:
            return [j for j in uow.jobs.everyone() if not states or j.state in states]

    def attempt(self, command: cmd.Command) -> None:
        # refused by the rules or not: the invariants must hold all the same
        with contextlib.suppress(Conflict, FabnetError):
            self.world.bus.handle(command)

    def later(self, hours: float) -> None:
        self.world.clock.set(self.world.clock.now() + timedelta(hours=hours))

    # -- rules ---------------------------------------------------------------------------

    @rule(units=st.integers(1, 40), days=st.integers(1, 6))
    def place(self, units: int, days: int) -> None:
        self.orders.append(self.world.order(self.design, units, days=days))

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6), share=st.integers(1, 3))
    def fund(self, pick: int, share: int) -> None:
        order = self.orders[pick % len(self.orders)]
        before = len(self.funded)
        try:
            self.world.bus.handle(cmd.FundEscrow(ALICE, OrderId(order), amount_minor=1000 * share))
            self.funded[order] = 1000 * share
        except FabnetError:
            assert len(self.funded) == before

    def _job(self, pick: int, *states: JobState):
        found = self.jobs(*states)
        return found[pick % len(found)] if found else None

    @rule(pick=st.integers(0, 10**6), move=st.sampled_from(["accept", "decline", "cancel"]))
    def answer_offer(self, pick: int, move: str) -> None:
        job = self._job(pick, JobState.OFFERED)
        if job is None:
            return
        actor = producer_actor(job.producer_id)
        command = {
            "accept": cmd.AcceptJob(actor, JobId(job.id)),
            "decline": cmd.DeclineJob(actor, JobId(job.id), "busy"),
            "cancel": cmd.CancelJob(OPERATOR, JobId(job.id), "operator"),
        }[move]
        self.attempt(command)

    @rule()
    def offers_expire(self) -> None:
        self.later(5)
        self.attempt(cmd.ExpireOffers())

    @rule(pick=st.integers(0, 10**6))
    def start(self, pick: int) -> None:
        job = self._job(pick, JobState.ACCEPTED, JobState.QUEUED)
        if job is None:
            return
        actor = producer_actor(job.producer_id)
        if job.state is JobState.ACCEPTED:
            self.attempt(cmd.QueueJob(actor, JobId(job.id)))
        self.attempt(cmd.StartJob(actor, JobId(job.id)))

    @rule(pick=st.integers(0, 10**6), fail=st.booleans(), made=st.integers(0, 40))
    def end(self, pick: int, fail: bool, made: int) -> None:
        job = self._job(pick, JobState.RUNNING)
        if job is None:
            return
        self.later(1)
        actor = producer_actor(job.producer_id)
        if fail:
            self.attempt(cmd.FailJob(actor, JobId(job.id), "spaghetti", made % job.units))
        else:
            self.attempt(cmd.FinishJob(actor, JobId(job.id)))

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6), units=st.integers(1, 5))
    def reject(self, pick: int, units: int) -> None:
        order = self.orders[pick % len(self.orders)]
        with self.world.uow() as uow:
            makers = {j.producer_id for j in uow.jobs.of_order(order) if j.units_made}
        for producer in sorted(makers)[:1]:
            self.attempt(cmd.RejectUnits(OPERATOR, OrderId(order), ProducerId(producer), units))

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6))
    def cancel_order(self, pick: int) -> None:
        self.attempt(cmd.CancelOrder(ALICE, OrderId(self.orders[pick % len(self.orders)])))

    @precondition(lambda self: self.funded)
    @rule(
        pick=st.integers(0, 10**6),
        step=st.sampled_from(["accept", "dispute", "decide"]),
        share=st.integers(0, 1000),
    )
    def settle(self, pick: int, step: str, share: int) -> None:
        order = OrderId(sorted(self.funded)[pick % len(self.funded)])
        command = {
            "accept": cmd.AcceptDelivery(ALICE, order),
            "dispute": cmd.OpenDispute(ALICE, order, "cracked"),
            "decide": cmd.DecideDispute(OPERATOR, order, share),
        }[step]
        self.attempt(command)

    @rule(hours=st.integers(1, 400))
    def time_passes(self, hours: int) -> None:
        self.later(hours)
        self.attempt(cmd.SweepEscrows())

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def units_are_never_lost_or_in_two_jobs(self) -> None:
        with self.world.uow() as uow:
            for order in uow.orders.everyone():
                live = [j for j in uow.jobs.of_order(order.id) if j.is_live]
                for line in order.lines:
                    held = sum(j.units_open for j in live if j.line_id == line.id)
                    assert line.units_allocated == held
                    assert min(line.units_made, line.units_allocated, line.unallocated) >= 0
                    assert line.units_made + held + line.unallocated == line.quantity

    @invariant()
    def money_is_conserved(self) -> None:
        with self.world.uow() as uow:
            for order, amount in self.funded.items():
                escrow = escrow_of(uow, order)
                paid = sum(escrow.paid.values())
                assert escrow.held + paid + escrow.refunded == amount
                assert min(escrow.held, escrow.refunded, paid) >= 0

    def teardown(self) -> None:
        log = TransparencyLog(InMemoryLogStore(self.world.db), SIGNER)
        log.sequence()
        seqs = [e["seq"] for e in self.world.db.events]
        assert log.size == len(seqs) == len(set(seqs))  # each event a leaf, once


Hub.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TestInvariants = Hub.TestCase

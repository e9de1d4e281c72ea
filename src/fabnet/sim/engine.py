"""A discrete-event run of the real services on simulated machines, in compressed time.

The engine owns a clock it moves from event to event; every step is a command on the
message bus, so the store ends in the state real producers would have left it in.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fabnet.domain import events as ev
from fabnet.domain.access import Principal
from fabnet.domain.errors import Conflict, NotFound
from fabnet.domain.ids import JobId, PrincipalId, ProducerId
from fabnet.domain.states import JobState, Role, ShipmentState
from fabnet.services import commands as cmd
from fabnet.services import views
from fabnet.services.messagebus import MessageBus
from fabnet.services.ports import FixedClock, UnitOfWork
from fabnet.sim.machines import ProducerBehaviour, SimulatedMachine

Progress = Callable[[datetime], None]
OPERATOR = Principal(PrincipalId("usr_sim_operator"), Role.OPERATOR)


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    kind: str
    ref: str


class Engine:
    def __init__(
        self,
        *,
        bus: MessageBus,
        uow: UnitOfWork,
        clock: FixedClock,
        behaviour: ProducerBehaviour,
        seed: int,
        until: datetime,
        tick: timedelta = timedelta(hours=1),
        routing_every: timedelta | None = None,  # None: no deliveries (made is the end)
        routing_budget_s: float = 0.5,
    ) -> None:
        self.bus = bus
        self.uow = uow
        self.clock = clock
        self.behaviour = behaviour
        self.rng = random.Random(seed)
        self.until = until
        self.tick = tick
        self.machines: dict[str, SimulatedMachine] = {}
        self._heap: list[_Step] = []
        self._seq = itertools.count()
        self._work = 0  # steps that are machine, producer or courier work, not ticks
        self.routing_every = routing_every
        self.routing_budget_s = routing_budget_s
        self._next_wave = clock.now()
        self._waves = 0
        bus.listeners.append(self._on_event)

    def load_machines(self) -> None:
        with self.uow:
            for m in self.uow.machines.everyone():
                self.machines[m.id] = SimulatedMachine(m.id, m.producer_id, m.hours_per_day)

    def _producer(self, producer_id: str) -> Principal:
        return Principal(
            PrincipalId(f"usr_sim_{producer_id}"), Role.PRODUCER, ProducerId(producer_id)
        )

    def _at(self, when: datetime, kind: str, ref: str = "") -> None:
        heapq.heappush(self._heap, _Step(when, next(self._seq), kind, ref))
        if kind != "tick":
            self._work += 1

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.JobOffered):
            self._at(
                event.at + timedelta(seconds=self.behaviour.response_s(self.rng)),
                "respond",
                event.job_id,
            )
        elif isinstance(event, ev.ShipmentReady) and self.routing_every is not None:
            # routing re-runs as jobs finish: a wave soon after a parcel is ready (one
            # wave for the parcels of the next half hour), besides the regular waves
            soon = event.at + timedelta(minutes=30)
            if soon < self._next_wave:
                self._next_wave = soon
                self._at(soon, "wave")
        elif isinstance(event, ev.ShipmentPlanned):
            ref = f"{event.shipment_id}|{event.route_id}"
            self._at(datetime.fromisoformat(event.pickup_eta), "pickup", ref)
            self._at(datetime.fromisoformat(event.eta), "arrive", ref)

    def run(self, progress: Progress | None = None) -> None:
        self._at(self.clock.now() + self.tick, "tick")
        while self._heap:
            step = heapq.heappop(self._heap)
            if step.at > self.until:
                break
            if step.kind != "tick":
                self._work -= 1
            self.clock.set(max(step.at, self.clock.now()))
            if step.kind == "respond":
                self._respond(JobId(step.ref))
            elif step.kind == "finish":
                self._finish(JobId(step.ref))
            elif step.kind in ("pickup", "arrive"):
                self._carry(step.kind, *step.ref.split("|"))
            elif step.kind == "wave":
                if self.clock.now() >= self._next_wave:
                    self._wave()
            else:
                self.bus.handle(cmd.ExpireOffers())
                if self.routing_every is not None and self.clock.now() >= self._next_wave:
                    self._wave()
                if progress:
                    progress(self.clock.now())
                if self._work > 0 or self._busy():
                    self._at(self.clock.now() + self.tick, "tick")
                else:
                    self.bus.handle(cmd.PlanOrders())  # a last try for units left unplanned
                    if self._work == 0 and self.routing_every is not None:
                        self._wave()  # and for parcels still waiting
                    if self._work > 0:
                        self._at(self.clock.now() + self.tick, "tick")

    def _busy(self) -> bool:
        return any(m.running or m.queue for m in self.machines.values())

    def _respond(self, job_id: JobId) -> None:
        job = views.get_job(self.uow, OPERATOR, job_id)
        if job.state is not JobState.OFFERED:
            return  # expired or cancelled before the producer looked
        actor = self._producer(job.producer_id)
        try:
            if self.behaviour.accepts(self.rng):
                self.bus.handle(cmd.AcceptJob(actor, job_id))
                self.bus.handle(cmd.QueueJob(actor, job_id))
                machine = self.machines[job.machine_id]
                machine.queue.append(job_id)
                self._start_next(machine)
            else:
                self.bus.handle(cmd.DeclineJob(actor, job_id, "no time this week"))
        except Conflict:
            return  # the job moved on meanwhile (expired, cancelled)

    def _start_next(self, machine: SimulatedMachine) -> None:
        while machine.running is None and machine.queue:
            job_id = JobId(machine.queue.popleft())
            actor = self._producer(machine.producer_id)
            try:
                self.bus.handle(cmd.StartJob(actor, job_id))
            except (Conflict, NotFound):
                continue  # cancelled while queued
            job = views.get_job(self.uow, OPERATOR, job_id)
            duration = machine.duration_s(
                job.units, job.unit_time_s, self.rng, self.behaviour.jitter
            )
            machine.running = job_id
            self._at(self.clock.now() + timedelta(seconds=duration), "finish", job_id)

    def _finish(self, job_id: JobId) -> None:
        job = views.get_job(self.uow, OPERATOR, job_id)
        machine = self.machines[job.machine_id]
        machine.running = None
        actor = self._producer(job.producer_id)
        if job.state is JobState.RUNNING:
            if self.behaviour.fails(self.rng, job.producer_id):
                made = self.rng.randint(0, job.units - 1)
                self.bus.handle(cmd.FailJob(actor, job_id, "simulated print failure", made))
            else:
                self.bus.handle(cmd.FinishJob(actor, job_id))
        self._start_next(machine)

    # -- couriers --------------------------------------------------------------------

    def _wave(self) -> None:
        assert self.routing_every is not None
        self._next_wave = self.clock.now() + self.routing_every
        self._waves += 1
        self.bus.handle(
            cmd.PlanShipments(OPERATOR, seed=self._waves, budget_s=self.routing_budget_s)
        )

    def _carry(self, kind: str, shipment_id: str, route_id: str) -> None:
        """A courier (or the carrier) at a stop: the step is taken only if the parcel is
        still on that route (a later wave may have moved a parcel not yet picked up)."""
        with self.uow.reading():
            s = self.uow.shipments.find(shipment_id)
            order = self.uow.orders.find(s.order_id) if s is not None else None
        if s is None or order is None or s.leg is None or s.leg.route_id != route_id:
            return
        leg = s.leg
        courier = Principal(PrincipalId(leg.courier_id), Role.COURIER) if leg.courier_id else None
        try:
            if kind == "pickup" and s.state is ShipmentState.PLANNED:
                actor = courier or self._producer(s.producer_id)  # the maker hands it over
                self.bus.handle(cmd.RecordShipmentEvent(actor, s.id, "picked_up"))
            elif kind == "arrive" and s.state is ShipmentState.PICKED_UP:
                if leg.to_hub:
                    assert courier is not None
                    self.bus.handle(cmd.RecordShipmentEvent(courier, s.id, "at_hub"))
                elif courier is not None:  # the consignee gives the courier the code
                    self.bus.handle(
                        cmd.RecordShipmentEvent(courier, s.id, "delivered", "code", s.proof_code)
                    )
                else:  # the carrier delivered: the consignee confirms
                    consignee = Principal(order.consumer_id, Role.CONSUMER)
                    self.bus.handle(
                        cmd.RecordShipmentEvent(consignee, s.id, "delivered", "consignee")
                    )
        except Conflict:
            return  # moved on meanwhile

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
from fabnet.domain.states import JobState, Role
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
        self._work = 0  # steps that are machine or producer work, not ticks
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
        if kind in ("respond", "finish"):
            self._work += 1

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.JobOffered):
            self._at(
                event.at + timedelta(seconds=self.behaviour.response_s(self.rng)),
                "respond",
                event.job_id,
            )

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
            else:
                self.bus.handle(cmd.ExpireOffers())
                if progress:
                    progress(self.clock.now())
                if self._work > 0 or self._busy():
                    self._at(self.clock.now() + self.tick, "tick")
                else:
                    self.bus.handle(cmd.PlanOrders())  # a last try for units left unplanned
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

"""The hub runner: the background work of a hub, with or without HTTP.

``fabnet hub`` runs it alone; ``fabnet serve`` runs it beside the API (``--no-hub``
leaves it to another process). Each task runs only in the process that holds its lease,
so several replicas on one PostgreSQL run each task once at a time; a replica that dies
loses its leases when they expire and another takes over.

Tasks: reactions (drained continuously, woken at once by this process's own commits),
offer expiry, escrow sweeps, log checkpoints, and the machines' broker (the MQTT bridge,
reconnected with back-off while the broker is away, and its heartbeat sweep).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from fabnet.adapters.mqtt.bridge import MqttBridge
from fabnet.bootstrap import App, connect_machines
from fabnet.domain.errors import BrokerUnavailable
from fabnet.domain.events import Event, ShipmentReady
from fabnet.services.commands import (
    ExpireOffers,
    PlanShipments,
    SweepEscrows,
    SweepHeartbeats,
)
from fabnet.services.ports import Leases

log = logging.getLogger(__name__)


@dataclass
class Task:
    name: str  # also the lease's name
    every_s: float
    run: Callable[[], object]
    ttl_s: float = 0.0  # 0: three intervals, at least the hub's minimum


@dataclass
class Hub:
    app: App
    leases: Leases
    holder: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    )
    reaction_poll_s: float = 0.25
    reaction_batch_s: float = 0.2
    min_lease_s: float = 10.0  # a lease outlives a missed round or two
    bridge: MqttBridge | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _parcels: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    ran: dict[str, int] = field(default_factory=dict)  # task -> rounds run (tests, status)

    def tasks(self) -> list[Task]:
        settings = self.app.settings
        tasks = [
            Task("reactions", self.reaction_poll_s, self._drain),
            Task("offers", settings.offer_sweep_s, lambda: self.app.bus().handle(ExpireOffers())),
            Task("escrows", settings.offer_sweep_s, lambda: self.app.bus().handle(SweepEscrows())),
            Task(
                "routing",
                settings.routing_interval_s,
                lambda: self.app.bus().handle(PlanShipments()),
            ),
        ]
        if self.app.log_store is not None:
            tasks.append(Task("checkpoints", settings.checkpoint_s, self._checkpoint))
        if settings.mqtt_url:
            tasks.append(Task("machines", settings.heartbeat_sweep_s, self._machines))
        return tasks

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Hub:
        self.app.listeners.append(self._on_event)
        for task in self.tasks():
            thread = threading.Thread(target=self._loop, args=(task,), daemon=True)
            thread.name = f"hub-{task.name}"
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._parcels.set()  # the routing task waits on it
        for thread in self._threads:
            thread.join(10)
        if self._on_event in self.app.listeners:
            self.app.listeners.remove(self._on_event)
        self._stop_bridge()
        for task in self.tasks():
            self.leases.release(task.name, self.holder)

    def wait(self) -> None:
        """Block until stopped (``fabnet hub``)."""
        self._stop.wait()

    def _on_event(self, event: Event) -> None:
        self._wake.set()  # this process committed something: react now
        if isinstance(event, ShipmentReady):
            self._parcels.set()  # routing re-runs as jobs finish (after its minimum gap)

    def _loop(self, task: Task) -> None:
        while not self._stop.is_set():
            try:
                lease_s = task.ttl_s or max(self.min_lease_s, 3 * task.every_s)
                if self.leases.acquire(task.name, self.holder, lease_s, self.app.clock.now()):
                    task.run()
                    self.ran[task.name] = self.ran.get(task.name, 0) + 1
                elif task.name == "machines":
                    self._stop_bridge()  # another replica holds the broker now
            except Exception:  # keep going; the next round may succeed
                log.exception("hub task %s failed", task.name)
            if task.name == "routing":
                # a wave soon after parcels are ready (at most one per routing_gap_s, so
                # that the parcels of many finished jobs share one wave), else on interval
                self._stop.wait(self.app.settings.routing_gap_s)
                self._parcels.wait(task.every_s)
                if not self._stop.is_set():
                    self._parcels.clear()
            elif task.name == "reactions":
                # woken by this process's commits, but at most every reaction_batch_s, so
                # that a burst of orders is planned in one solve, not one solve each
                self._stop.wait(self.reaction_batch_s)
                self._wake.wait(task.every_s)
                self._wake.clear()
            else:
                self._stop.wait(task.every_s)

    # -- the tasks ---------------------------------------------------------------------

    def _drain(self) -> None:
        bus = self.app.bus()
        bus.react = False
        bus.drain()

    def _checkpoint(self) -> None:
        ledger = self.app.ledger()
        if ledger.sequence():
            ledger.checkpoint()

    def _machines(self) -> None:
        if self.bridge is None:
            try:
                self.bridge = connect_machines(self.app)
                log.info("joined the machines' broker at %s", self.app.settings.mqtt_url)
            except BrokerUnavailable as exc:
                log.warning("machines' broker unavailable (%s); trying again", exc.message)
                return
        if self.bridge is not None:
            marked = self.app.bus().handle(SweepHeartbeats(self.app.settings.heartbeat_timeout_s))
            self.bridge.unreachable.update(marked)

    def _stop_bridge(self) -> None:
        bridge, self.bridge = self.bridge, None
        if bridge is None:
            return
        if bridge.stop in self.app.closers:
            self.app.closers.remove(bridge.stop)
        if bridge.on_hub_event in self.app.listeners:
            self.app.listeners.remove(bridge.on_hub_event)
        self.app.machine_commands = None
        bridge.stop()

"""The hub's MQTT bridge: producers' machines in, commands out.

Telemetry (QoS 0, the bulk) is parsed on the network thread, checked against the machine
directory (the machine must exist and belong to the producer the topic names), and kept
latest-per-machine in a buffer that a flusher writes to the store in one upsert every
``flush_s``. Job events (QoS 1) go through a queue to one worker that applies each in
its own transaction and acknowledges it to the broker only afterwards: a hub killed
between receipt and commit gets the event again, and the event number makes the second
delivery a no-op. Everything dropped is counted by reason and logged.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fabnet.adapters.mqtt.client import Message, MqttClient
from fabnet.domain import events as ev
from fabnet.domain.errors import Conflict, ExternalSystemError, FabnetError
from fabnet.domain.ids import JobId, MachineId, ProducerId
from fabnet.domain.topics import HUB_SUBSCRIPTIONS, QOS, Kind, Topic, machine_topic, parse
from fabnet.fabrication.anomaly import DetectorSettings, JobWatch, Sample
from fabnet.services import commands as cmd
from fabnet.services.machine_messages import Telemetry, parse_event, parse_telemetry
from fabnet.services.machines import Counters, Outcome
from fabnet.services.messagebus import MessageBus
from fabnet.services.ports import LiveState, TelemetryStore, UnitOfWork

log = logging.getLogger(__name__)
UNKNOWN_TTL_S = 60.0


@dataclass
class _Pending:
    state: LiveState
    count: int


class MqttMachineCommands:
    """The MachineCommands port over MQTT: QoS 1 on the machine's commands topic."""

    def __init__(self, client: MqttClient) -> None:
        self.client = client

    def send(self, producer_id: str, machine_id: str, payload: bytes) -> None:
        topic = machine_topic(producer_id, machine_id, Kind.COMMANDS)
        self.client.publish(topic, payload, qos=QOS[Kind.COMMANDS])


class MqttBridge:
    def __init__(
        self,
        client: MqttClient,
        *,
        bus: Callable[[], MessageBus],
        new_uow: Callable[[], UnitOfWork],
        telemetry: TelemetryStore,
        flush_s: float = 1.0,
        anomaly: DetectorSettings | None = None,
    ) -> None:
        self.client = client
        self.bus = bus
        self.new_uow = new_uow
        self.telemetry = telemetry
        self.flush_s = flush_s
        self.counters = Counters.new()
        self.accepted = 0  # telemetry messages checked and buffered
        self.ingested = 0  # ...and written to the store
        self.applied = 0  # job events applied
        self.presence: dict[str, bool] = {}
        self.unreachable: set[str] = set()
        self.commands = MqttMachineCommands(client)
        self._owners: dict[str, str] = {}
        self._topics: dict[str, Topic | None] = {}  # parsed topic names
        self._unknown: dict[str, float] = {}  # machine id -> when the store last said no
        self._pending: dict[str, _Pending] = {}
        self.anomaly = anomaly or DetectorSettings()
        self._watches: dict[str, _Watch] = {}  # running job -> its detector, oldest first
        self._not_watched: dict[str, None] = {}  # job ids looked up and refused
        self._lock = threading.Lock()
        self._events: queue.Queue[Message | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> MqttBridge:
        self._load_owners()
        self.client.handler = self._on_message
        self.client.on_connected = self._subscribe
        self.client.start()  # subscribes on every (re)connect
        for target in (self._flusher, self._event_worker):
            thread = threading.Thread(target=target, daemon=True, name=f"bridge-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, *, crash: bool = False) -> None:
        self._stop.set()
        self._events.put(None)
        for thread in self._threads:
            thread.join(5)
        if crash:
            self.client.kill()
        else:
            self.flush()
            self.client.stop()

    def _subscribe(self) -> None:
        if self.client.connected.is_set():
            kinds = [Kind.STATE, Kind.TELEMETRY, Kind.EVENTS, Kind.PRESENCE]
            topics = list(zip(HUB_SUBSCRIPTIONS, [QOS[k] for k in kinds], strict=True))
            self.client.subscribe(topics, wait_s=0)  # on paho's thread: cannot wait

    def on_hub_event(self, event: ev.Event) -> None:
        """A bus listener: learns of new machines at once. (Offers and cancels go to the
        agents by a reaction, services/reactions.py, through ``self.commands``.)"""
        if isinstance(event, ev.MachineAdded):
            self._owners[event.machine_id] = event.producer_id

    # -- incoming ----------------------------------------------------------------------

    def _topic(self, name: str) -> Topic | None:
        topic = self._topics.get(name)
        if topic is None:
            topic = parse(name)
            if len(self._topics) > 200_000:  # bounded: a flood of odd topics cannot grow it
                self._topics.clear()
            self._topics[name] = topic
        return topic

    def _on_message(self, msg: Message) -> None:
        topic = self._topic(msg.topic)
        if topic is None:
            self.counters.drop("unknown topic", msg.topic)
            return
        if topic.kind is Kind.EVENTS:
            self._events.put(msg)  # acknowledged after it is applied
            return
        if topic.kind is Kind.PRESENCE:
            self.presence[topic.producer_id] = b'"online":true' in msg.payload
            return
        if topic.kind not in (Kind.TELEMETRY, Kind.STATE):
            self.counters.drop("not for the hub", msg.topic)
            return
        try:
            reading = parse_telemetry(msg.payload)
        except FabnetError as exc:
            self.counters.drop("malformed telemetry", str(exc))
            return
        if reading.machine_id != topic.machine_id:
            self.counters.drop("machine id differs from the topic", msg.topic)
            return
        if self._owner(reading.machine_id) != topic.producer_id:
            self.counters.drop("unknown machine or another producer's", msg.topic)
            return
        state = LiveState(
            machine_id=reading.machine_id,
            producer_id=topic.producer_id,
            seen_at=reading.at,
            state=reading.state,
            job_id=reading.job_id,
            progress=reading.progress,
            temps=reading.temps,
            messages=1,
        )
        with self._lock:
            self.accepted += 1
            old = self._pending.get(reading.machine_id)
            if old is None:
                self._pending[reading.machine_id] = _Pending(state, 1)
            else:
                if state.seen_at >= old.state.seen_at:
                    old.state = state
                old.count += 1
        if reading.job_id:
            self._watch(reading)
        if reading.machine_id in self.unreachable:
            self.unreachable.discard(reading.machine_id)
            self._events.put(Message(f"hear/{reading.machine_id}", b"", 0, -1, False))

    def _watch(self, reading: Telemetry) -> None:
        """Feed a running job's reading to its detector; a flag goes to the event worker
        (commands are applied in one thread, in order). Only a job on the reporting
        machine is watched: an agent cannot flag (or pause) another producer's print."""
        job_id = str(reading.job_id)
        watch = self._watches.get(job_id)
        progress = reading.progress
        if watch is not None and watch.machine_id != reading.machine_id:
            return
        if watch is not None and progress is not None and progress + 0.05 < watch.progress:
            watch = None  # the next unit of the job started: a fresh print
        if watch is None:
            if job_id in self._not_watched:
                return  # asked already: unknown, or another machine's
            with self.new_uow() as uow:
                job = uow.jobs.find(job_id)
            if job is None or job.machine_id != reading.machine_id or job.unit_time_s <= 0:
                self._not_watched[job_id] = None
                while len(self._not_watched) > MAX_WATCHES:
                    self._not_watched.pop(next(iter(self._not_watched)))
                return
            watch = _Watch(
                JobWatch(job.unit_time_s, self.anomaly), reading.at, progress or 0.0, job.machine_id
            )
        self._watches.pop(job_id, None)
        self._watches[job_id] = watch  # the most recently heard last: evicted last
        while len(self._watches) > MAX_WATCHES:
            self._watches.pop(next(iter(self._watches)))
        watch.progress = progress if progress is not None else watch.progress
        sample = Sample(
            at_s=(reading.at - watch.started).total_seconds(),
            state=reading.state,
            progress=progress,
            temps=dict(reading.temps),
        )
        for flag in watch.detector.feed(sample):
            payload = json.dumps({"kind": flag.kind, "detail": flag.detail}).encode()
            self._events.put(Message(f"flag/{job_id}", payload, 0, -1, False))
        if reading.state in ("idle", "offline") and progress in (None, 1.0):
            self._watches.pop(job_id, None)

    def _owner(self, machine_id: str) -> str | None:
        """The machine's producer; the store is asked at most once a minute per unknown id,
        so a flood of made-up machine ids costs dictionary lookups, not queries."""
        owner = self._owners.get(machine_id)
        if owner is None:
            now = time.monotonic()
            refused = self._unknown.get(machine_id)
            if refused is not None and now - refused < UNKNOWN_TTL_S:
                return None
            with self.new_uow() as uow:
                machine = uow.machines.find(machine_id)
            if machine is None:
                if len(self._unknown) > 100_000:
                    self._unknown.clear()
                self._unknown[machine_id] = now
                return None
            owner = self._owners[machine_id] = machine.producer_id
        return owner

    def _load_owners(self) -> None:
        with self.new_uow() as uow:
            self._owners.update({m.id: m.producer_id for m in uow.machines.everyone()})

    # -- workers -----------------------------------------------------------------------

    def flush(self) -> int:
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        states = [_with_count(p) for p in batch.values()]
        self.telemetry.upsert(states)
        done = sum(p.count for p in batch.values())
        self.ingested += done
        return done

    def _flusher(self) -> None:
        while not self._stop.wait(self.flush_s):
            try:
                self.flush()
            except Exception:
                log.exception("writing telemetry failed; the batch is lost, the next one is not")

    def _event_worker(self) -> None:
        while True:
            msg = self._events.get()
            if msg is None:
                return
            if msg.topic.startswith("hear/"):
                self._safely(cmd.HearMachine(MachineId(msg.topic[5:])))
                continue
            if msg.topic.startswith("flag/"):
                flag = json.loads(msg.payload)
                self._safely(cmd.FlagJob(JobId(msg.topic[5:]), flag["kind"], flag["detail"]))
                continue
            topic = parse(msg.topic)
            assert topic is not None
            try:
                event = parse_event(msg.payload)
            except FabnetError as exc:
                self.counters.drop("malformed event", str(exc))
                self.client.ack(msg.mid, msg.qos)
                continue
            if event.machine_id != topic.machine_id:
                self.counters.drop("machine id differs from the topic", msg.topic)
                self.client.ack(msg.mid, msg.qos)
                continue
            outcome = self._safely(cmd.ApplyAgentEvent(ProducerId(topic.producer_id), event))
            if outcome is None:
                continue  # not acknowledged: the broker delivers it again
            if outcome is Outcome.APPLIED:
                self.applied += 1
            else:
                self.counters.drop(f"event {outcome.value}", f"{event.machine_id}#{event.seq}")
            self.client.ack(msg.mid, msg.qos)

    def _safely(self, command: cmd.Command) -> Any:
        """Handle a command; a conflict or an unavailable store is retried (with backoff,
        until it works or the bridge stops: the events behind it wait, in order). None
        when it cannot be applied at all: the message is left unacknowledged."""
        delay = 0.05
        while not self._stop.is_set():
            try:
                return self.bus().handle(command)
            except (Conflict, ExternalSystemError) as exc:
                log.warning("machine event not applied yet, retrying: %s", exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
            except Exception:
                log.exception("machine event failed")
                self.counters.drop("event error", type(command).__name__)
                return None
        return None


MAX_WATCHES = 100_000  # jobs followed (and ids refused) at once; the oldest heard go first


@dataclass
class _Watch:
    detector: JobWatch
    started: datetime
    progress: float
    machine_id: str


def _with_count(p: _Pending) -> LiveState:
    s = p.state
    return LiveState(
        s.machine_id, s.producer_id, s.seen_at, s.state, s.job_id, s.progress, s.temps, p.count
    )

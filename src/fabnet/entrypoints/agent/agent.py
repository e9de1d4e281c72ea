"""The producer agent: runs at a producer's site, between the hub and the machines.

Threads: the MQTT network loop (commands in), one worker per machine (watches the
machine, starts the next job when the bed is clear, reports progress and outcome), the
outbox sender (job events out, in order, each kept until the broker acknowledged it),
and telemetry (QoS 0, every heartbeat). A restart resumes from the local store: events
not yet acknowledged are sent again with their numbers, jobs in progress are watched
again where they are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from fabnet.adapters.mqtt.client import NO_SUBSCRIBERS, NOT_AUTHORIZED, Message, MqttClient
from fabnet.adapters.octoprint import FakeMachineLink, OctoPrintLink
from fabnet.domain.errors import FabnetError, MachineUnreachable
from fabnet.domain.topics import QOS, Kind, agent_subscription, machine_topic, parse, presence_topic
from fabnet.entrypoints.agent.config import AgentConfig, MachineConfig
from fabnet.entrypoints.agent.outbox import AgentStore
from fabnet.fabrication.profiles import REFERENCE
from fabnet.services.machine_messages import (
    CommandType,
    EventType,
    JobSpec,
    Telemetry,
    encode,
    parse_command,
)
from fabnet.services.ports import LinkStatus, MachineLink, Slicer

log = logging.getLogger(__name__)
Fetch = Callable[[JobSpec], tuple[str, bytes]]  # a job -> its design (file name, bytes)
# the hub's open jobs for this producer: (machine id, job, state "offered" or "accepted")
Outstanding = Callable[[], list[tuple[str, JobSpec, str]]]


def http_fetch(hub_url: str, api_key: str) -> Fetch:
    """A job's design: a signed link from the hub (valid while the job is live), then the
    file it points to."""

    def fetch(spec: JobSpec) -> tuple[str, bytes]:
        try:
            with httpx.Client(base_url=hub_url, headers={"X-API-Key": api_key}, timeout=60) as c:
                meta = c.get(f"/designs/{spec.design_id}")
                link = c.post(f"/jobs/{spec.job_id}/design-link")
                if meta.status_code != 200 or link.status_code != 200:
                    code = link.status_code if meta.status_code == 200 else meta.status_code
                    raise MachineUnreachable("hub", f"design of job {spec.job_id}: HTTP {code}")
                data = c.get(link.json()["url"])
        except httpx.HTTPError as exc:
            raise MachineUnreachable("hub", f"{hub_url}: {exc}") from None
        if data.status_code != 200:
            raise MachineUnreachable("hub", f"design of job {spec.job_id}: HTTP {data.status_code}")
        return str(meta.json().get("filename", "part.stl")), data.content

    return fetch


def http_outstanding(hub_url: str, api_key: str) -> Outstanding:
    """Offers and accepted jobs the hub holds for this producer (an offer published before
    the agent's first session existed reached no one; this finds it)."""

    def outstanding() -> list[tuple[str, JobSpec, str]]:
        found: list[tuple[str, JobSpec, str]] = []
        try:
            with httpx.Client(base_url=hub_url, headers={"X-API-Key": api_key}, timeout=30) as c:
                for state in ("offered", "accepted"):
                    page = c.get("/jobs", params={"state": state, "limit": 500})
                    if page.status_code != 200:
                        raise MachineUnreachable("hub", f"/jobs answered {page.status_code}")
                    for j in page.json()["items"]:
                        spec = JobSpec(
                            j["id"], j["design_id"], j["material"], j["units"], j["unit_time_s"]
                        )
                        found.append((j["machine_id"], spec, state))
        except httpx.HTTPError as exc:
            raise MachineUnreachable("hub", f"{hub_url}: {exc}") from None
        return found

    return outstanding


def link_for(m: MachineConfig) -> MachineLink:
    if m.link == "fake":
        return FakeMachineLink(print_s=m.print_s)
    return OctoPrintLink(m.url, m.api_key, port=m.port, virtual=m.virtual)


@dataclass
class _Watch:
    job: JobSpec | None = None
    units_done: int = 0
    paused_reported: bool = False
    last_telemetry: float = 0.0
    last_state: str = ""


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        *,
        links: dict[str, MachineLink] | None = None,
        slicer: Slicer | None = None,
        fetch: Fetch | None = None,
        outstanding: Outstanding | None = None,
        client: MqttClient | None = None,
    ) -> None:
        self.config = config
        self.producer_id = config.producer_id
        self._own_links = not links  # made here from the config: closed by stop()
        self.links = links or {m.id: link_for(m) for m in config.machines}
        self.machines = {m.id: m for m in config.machines}
        self.slicer = slicer
        self.fetch = fetch or http_fetch(config.hub.url, config.hub.api_key)
        self.outstanding = outstanding
        if outstanding is None and fetch is None and config.hub.api_key:
            self.outstanding = http_outstanding(config.hub.url, config.hub.api_key)
        self._sync = threading.Event()
        self.store = AgentStore(config.data_dir / "agent.sqlite")
        self.client = client or MqttClient(
            config.broker.url,
            client_id=f"agent-{self.producer_id}",
            username=config.broker.username or self.producer_id,
            password=config.broker.password,
            will=(presence_topic(self.producer_id), b'{"online":false}'),
        )
        self.refused_events = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watch = {mid: _Watch() for mid in self.links}

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Agent:
        self.client.handler = self._on_command
        self.client.on_connected = self._on_connected
        self.client.start()  # subscribes and announces itself on every (re)connect
        targets: list[tuple[str, Callable[[], None]]] = [("outbox", self._send_outbox)]
        targets += [(f"machine-{mid}", self._worker(mid)) for mid in self.links]
        for name, target in targets:
            thread = threading.Thread(target=target, daemon=True, name=f"agent-{name}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, *, crash: bool = False) -> None:
        """Stop; ``crash`` drops the connection without a goodbye (the will fires)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(5)
        if crash:
            self.client.kill()
        else:
            self.client.publish(
                presence_topic(self.producer_id), b'{"online":false}', qos=1, retain=True, wait_s=2
            )
            self.client.stop()
        self.store.close()
        if self._own_links:
            for link in self.links.values():
                link.close()

    def _on_connected(self) -> None:
        if not self.client.connected.is_set():
            return
        self.client.publish(
            presence_topic(self.producer_id), b'{"online":true}', qos=1, retain=True
        )
        self.client.subscribe(
            [(agent_subscription(self.producer_id), QOS[Kind.COMMANDS])], wait_s=0
        )
        self._sync.set()  # catch up with the hub over HTTP, off paho's thread
        self._wake.set()

    # -- commands from the hub -----------------------------------------------------------

    def _catch_up(self) -> None:
        if self.outstanding is None or not self._sync.is_set():
            return
        self._sync.clear()
        try:
            jobs = self.outstanding()
        except FabnetError as exc:
            log.warning("could not ask the hub for open jobs: %s", exc)
            self._sync.set()  # try again later
            return
        for machine_id, spec, state in jobs:
            if machine_id not in self.links:
                continue
            if state == "accepted":
                self.store.put_job(machine_id, spec, "accepted")
                continue
            mine = "accepted" if self.config.auto_accept else "offered"
            new = self.store.put_job(machine_id, spec, mine)  # False: the offer came already
            if new and self.config.auto_accept:
                self._event(machine_id, spec.job_id, EventType.ACCEPTED)

    def _on_command(self, msg: Message) -> None:
        topic = parse(msg.topic)
        if topic is None or topic.kind is not Kind.COMMANDS or topic.machine_id not in self.links:
            log.info("ignored a message on %s", msg.topic)
            return
        try:
            command = parse_command(msg.payload)
        except FabnetError as exc:
            log.warning("ignored a malformed command: %s", exc)
            return
        mid = topic.machine_id
        link = self.links[mid]
        try:
            if command.type is CommandType.OFFER and command.job is not None:
                state = "accepted" if self.config.auto_accept else "offered"
                if self.store.put_job(mid, command.job, state) and self.config.auto_accept:
                    self._event(mid, command.job.job_id, EventType.ACCEPTED)
            elif command.type is CommandType.CANCEL and command.job is not None:
                self._cancel(mid, command.job.job_id)
            elif command.type is CommandType.PAUSE:
                link.pause()
            elif command.type is CommandType.RESUME:
                link.resume()
            elif command.type is CommandType.BED_CLEAR:
                self.store.set_bed(mid, True)
        except FabnetError as exc:
            log.warning("command %s on %s failed: %s", command.type, mid, exc)
        self._wake.set()

    def _cancel(self, mid: str, job_id: str) -> None:
        known = self.store.job(job_id)
        if known is None:
            return
        _, _spec, state, units_done = known
        if state == "printing":
            self.links[mid].cancel()
            self.store.set_bed(mid, False)  # a half-printed part is on it
        if state not in ("done", "failed", "cancelled", "declined"):
            self.store.set_job(job_id, "cancelled", units_done=units_done)
        watch = self._watch[mid]
        if watch.job is not None and watch.job.job_id == job_id:
            watch.job = None

    # -- machines ----------------------------------------------------------------------

    def _worker(self, mid: str) -> Callable[[], None]:
        def run() -> None:
            self._resume(mid)
            while not self._stop.is_set():
                try:
                    self._tick(mid)
                except Exception:
                    log.exception("machine %s: tick failed", mid)
                self._wake.wait(self.config.poll_s)
                self._wake.clear()

        return run

    def _resume(self, mid: str) -> None:
        for spec, _state, units_done in self.store.jobs(mid, ("printing",)):
            self._watch[mid] = _Watch(job=spec, units_done=units_done)

    def _tick(self, mid: str) -> None:
        link, watch = self.links[mid], self._watch[mid]
        try:
            status = link.status()
        except MachineUnreachable as exc:
            status = LinkStatus("offline", error=str(exc))
        self._telemetry(mid, status, watch)
        if watch.job is not None:
            self._follow(mid, status, watch)
        elif status.state == "idle" and self.store.bed_clear(mid):
            waiting = self.store.jobs(mid, ("accepted",))
            if waiting:
                spec, _, units_done = waiting[0]
                self._print(mid, spec, units_done)

    def _telemetry(self, mid: str, status: LinkStatus, watch: _Watch) -> None:
        now = time.monotonic()
        changed = status.state != watch.last_state
        if not changed and now - watch.last_telemetry < self.config.heartbeat_s:
            return
        watch.last_telemetry, watch.last_state = now, status.state
        reading = Telemetry(
            machine_id=mid,
            at=datetime.now(UTC),
            state=status.state,
            job_id=watch.job.job_id if watch.job else None,
            progress=status.progress,
            temps=status.temps,
        )
        kind = Kind.STATE if changed else Kind.TELEMETRY
        self.client.publish(
            machine_topic(self.producer_id, mid, kind),
            encode(reading),
            qos=QOS[kind],
            retain=kind is Kind.STATE,
        )

    def _print(self, mid: str, spec: JobSpec, units_done: int) -> None:
        machine = self.machines.get(mid)
        try:
            filename, data = self.fetch(spec)
            if filename.lower().endswith(".gcode"):
                gcode = data
            else:
                if self.slicer is None:
                    raise FabnetError("this agent has no slicer for a mesh job")
                profile = REFERENCE.for_machine(
                    bed_x_mm=machine.bed_x_mm if machine else REFERENCE.bed_x_mm,
                    bed_y_mm=machine.bed_y_mm if machine else REFERENCE.bed_y_mm,
                    max_height_mm=machine.height_mm if machine else REFERENCE.max_height_mm,
                    nozzle_mm=machine.nozzle_mm if machine else None,
                    material=spec.material,
                )
                gcode = self.slicer.slice(filename, data, profile).gcode
            name = f"{spec.job_id}-{units_done + 1}.gcode"
            link = self.links[mid]
            link.upload(name, gcode)
            link.start(name)
        except FabnetError as exc:
            self._finish(mid, spec, units_done, EventType.FAILED, cause=f"could not start: {exc}")
            return
        self.store.set_bed(mid, False)
        self.store.set_job(spec.job_id, "printing", units_done=units_done)
        self._watch[mid] = _Watch(job=spec, units_done=units_done)
        if units_done == 0:
            digest = hashlib.sha256(gcode).hexdigest()
            self._event(mid, spec.job_id, EventType.STARTED, profile_hash=digest)

    def _follow(self, mid: str, status: LinkStatus, watch: _Watch) -> None:
        spec = watch.job
        assert spec is not None
        if status.state == "paused" and not watch.paused_reported:
            watch.paused_reported = True
            self._event(mid, spec.job_id, EventType.PAUSED)
        elif status.state == "printing" and watch.paused_reported:
            watch.paused_reported = False
            self._event(mid, spec.job_id, EventType.RESUMED)
        elif status.state == "error":
            self._finish(
                mid, spec, watch.units_done, EventType.FAILED, cause=status.error or "error"
            )
        elif status.state == "idle":
            if status.progress is not None and status.progress >= 0.999:
                done = watch.units_done + 1
                if done >= spec.units:
                    self._finish(mid, spec, done, EventType.DONE)
                else:  # the next unit, once the producer clears the bed
                    self.store.set_job(spec.job_id, "accepted", units_done=done)
                    watch.job = None
            else:
                cause = "the print stopped at the machine before it was complete"
                self._finish(mid, spec, watch.units_done, EventType.FAILED, cause=cause)

    def _finish(
        self, mid: str, spec: JobSpec, units_done: int, kind: EventType, cause: str = ""
    ) -> None:
        state = "done" if kind is EventType.DONE else "failed"
        self.store.set_job(spec.job_id, state, units_done=units_done, detail=cause)
        self.store.set_bed(mid, False)
        self._watch[mid] = _Watch()
        extra: dict[str, object] = {"cause": cause}
        if kind is EventType.FAILED:
            extra["units_made"] = units_done
        self._event(mid, spec.job_id, kind, **extra)

    # -- events out --------------------------------------------------------------------

    def _event(self, mid: str, job_id: str, kind: EventType, **extra: object) -> None:
        self.store.add_event(self.producer_id, mid, job_id, kind, datetime.now(UTC), **extra)
        self._wake.set()

    def _send_outbox(self) -> None:
        while not self._stop.is_set():
            self._catch_up()
            sent_any = False
            if self.client.connected.is_set():
                for row_id, topic, payload in self.store.unsent():
                    code = self.client.publish(topic, payload, qos=1, wait_s=5)
                    if code is None or code == NO_SUBSCRIBERS:
                        # no verdict, or nobody to hear it (the hub's session is gone, say
                        # after a broker crash): keep it, in order, and try again later
                        self._stop.wait(0.5)
                        break
                    if code == NOT_AUTHORIZED:
                        self.refused_events += 1
                        log.error(
                            "the broker refused an event on %s: %s", topic, json.loads(payload)
                        )
                    self.store.mark_sent(row_id)
                    sent_any = True
            if not sent_any:
                self._wake.wait(0.2)

"""A hub, a Mosquitto of its own (ACL per producer, on a free port) and producer agents:
the pieces the agent tests put together."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from fabnet.adapters.mqtt.bridge import MqttBridge
from fabnet.adapters.mqtt.client import MqttClient
from fabnet.adapters.mqtt.mosquitto import MosquittoBroker
from fabnet.adapters.octoprint import FakeMachineLink
from fabnet.adapters.slicer import FakeSlicer
from fabnet.bootstrap import App, bootstrap, connect_machines
from fabnet.config import Settings
from fabnet.domain.states import JobState
from fabnet.entrypoints.agent.agent import Agent
from fabnet.entrypoints.agent.config import AgentConfig, BrokerConfig, MachineConfig
from fabnet.services import commands as cmd
from fabnet.services.ports import MachineLink, Slicer, SystemClock
from fabnet.sim.parts import box_stl
from tests.conftest import ALICE, OPERATOR, facility, printer

HUB_PASSWORD = "hub-secret"


def wait_for(check: Callable[[], object], timeout_s: float = 45.0, what: str = "") -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


@dataclass
class Site:
    """One hub on SQLite, its broker, and the producers registered before it started."""

    root: Path
    app: App = field(init=False)
    broker: MosquittoBroker = field(init=False)
    bridge: MqttBridge | None = None
    producers: dict[str, str] = field(default_factory=dict)  # name -> producer id
    machines: dict[str, str] = field(default_factory=dict)  # name -> machine id
    passwords: dict[str, str] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = Settings(
            data_dir=self.root / "hub",
            mqtt_url="mqtt://127.0.0.1:1",  # replaced once the broker has its port
            mqtt_password=HUB_PASSWORD,
            offer_ttl_s=3600,
        )
        self.app = bootstrap(self.settings, clock=SystemClock())

    def producer(self, name: str, *machine_names: str) -> str:
        specs = [printer(m) for m in machine_names] or [printer(name + "-printer")]
        pid = self.app.bus().handle(
            cmd.RegisterProducer(OPERATOR, facility(name, 52.5, 13.4, *specs))
        )
        self.producers[name] = pid
        self.passwords[pid] = f"pw-{name}"
        with self.app.new_uow() as uow:
            for m in uow.machines.all(producer_id=pid):
                self.machines[m.name] = m.id
        return pid

    def start(self) -> Site:
        accounts = {"hub": HUB_PASSWORD, **self.passwords}
        self.broker = MosquittoBroker(self.root / "broker", accounts).start()
        self.app.settings = self.settings.model_copy(update={"mqtt_url": self.broker.url})
        self.bridge = connect_machines(self.app)
        return self

    def restart_hub_bridge(self, *, crash: bool) -> None:
        assert self.bridge is not None
        self.bridge.stop(crash=crash)
        self.app.listeners.remove(self.bridge.on_hub_event)
        self.app.closers.remove(self.bridge.stop)
        self.bridge = connect_machines(self.app)

    def agent(
        self,
        producer: str,
        machine_links: dict[str, MachineLink],
        *,
        slicer: Slicer | None = None,
        auto_accept: bool = True,
        heartbeat_s: float = 0.5,
        data_dir: Path | None = None,
    ) -> Agent:
        pid = self.producers[producer]
        config = AgentConfig(
            producer_id=pid,
            data_dir=data_dir or self.root / f"agent-{producer}",
            heartbeat_s=heartbeat_s,
            poll_s=0.05,
            auto_accept=auto_accept,
            broker=BrokerConfig(url=self.broker.url, password=self.passwords[pid]),
            machines=[MachineConfig(id=self.machines[n], link="fake") for n in machine_links],
        )
        links = {self.machines[n]: link for n, link in machine_links.items()}
        agent = Agent(config, links=links, slicer=slicer or FakeSlicer(), fetch=self.fetch)
        self.agents[producer] = agent.start()
        return agent

    def fetch(self, spec) -> tuple[str, bytes]:
        with self.app.new_uow() as uow:
            design = uow.designs.get(spec.design_id)
        return design.filename, self.app.blobs.get(design.blob_key)

    def design(self, size: tuple[float, float, float] = (20, 20, 5), label: str = "part") -> str:
        return str(
            self.app.bus().handle(
                cmd.RegisterDesign(
                    OPERATOR,
                    f"{label}.stl",
                    box_stl(*size, label=label),
                    label,
                    "fdm",
                    ("PLA",),
                    600,
                )
            )
        )

    def order(self, design_id: str, units: int = 1, days: float = 20) -> str:
        deadline = self.app.clock.now() + timedelta(days=days)
        line = cmd.LineRequest(design_id, "PLA", units, deadline, 52.5, 13.4)
        return str(self.app.bus().handle(cmd.PlaceOrder(ALICE, (line,))))

    def jobs(self, order_id: str) -> list:
        with self.app.new_uow() as uow:
            return uow.jobs.all(order_id=order_id)

    def job_state(self, job_id: str) -> JobState:
        with self.app.new_uow() as uow:
            return uow.jobs.get(job_id).state

    def events_named(self, name: str, order_id: str, job_id: str) -> int:
        with self.app.new_uow() as uow:
            return sum(
                1
                for e in uow.order_events(order_id)
                if type(e).__name__ == name and getattr(e, "job_id", None) == job_id
            )

    def close(self) -> None:
        for agent in self.agents.values():
            with contextlib.suppress(Exception):  # already stopped by the test
                agent.stop()
        self.app.close()
        if hasattr(self, "broker"):
            self.broker.stop()


class HeldClock:
    """A printer's clock that stands still until the test lets it go: a print started
    while held cannot finish before the test has seen it running (on a loaded machine the
    hub can hear "started" and "done" between two looks, and the test would wait for a
    running job it never sees)."""

    def __init__(self) -> None:
        self._since: float | None = None

    def __call__(self) -> float:
        return 0.0 if self._since is None else time.monotonic() - self._since

    def release(self) -> None:
        if self._since is None:
            self._since = time.monotonic()


def fake(
    print_s: float = 0.4, fail_at: float | None = None, *, held: bool = False
) -> FakeMachineLink:
    """A fake printer; ``held`` makes its prints wait for ``release(printer)``."""
    if held:
        return FakeMachineLink(print_s=print_s, fail_at=fail_at, clock=HeldClock())
    return FakeMachineLink(print_s=print_s, fail_at=fail_at)


def release(printer: FakeMachineLink) -> None:
    """Let a held printer's clock run: what it prints from now on takes ``print_s``."""
    assert isinstance(printer.clock, HeldClock), "the printer was not made with held=True"
    printer.clock.release()


def client_for(site: Site, producer: str, client_id: str) -> MqttClient:
    pid = site.producers[producer]
    c = MqttClient(
        site.broker.url,
        client_id=client_id,
        username=pid,
        password=site.passwords[pid],
        clean_start=True,
    )
    c.start()
    return c

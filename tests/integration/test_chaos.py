"""Chaos: a hub (`fabnet serve` on a PostgreSQL and a Mosquitto of the test's own) takes
orders from a client that retries what was not acknowledged, while the test kills the
coordinator during planning and during a batch of writes, restarts PostgreSQL and
restarts the broker. After each blow: nothing acknowledged is lost, nothing is applied
twice, and the transparency log holds every event once and verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from fabnet.adapters.mqtt.mosquitto import MosquittoBroker
from fabnet.bootstrap import bootstrap
from fabnet.config import Settings
from fabnet.domain.states import Role
from fabnet.ledger.proofs import verify_bundle
from fabnet.services import commands as cmd
from fabnet.sim.parts import box_stl
from tests.conftest import OPERATOR, facility, printer
from tests.e2e.test_serve import free_port
from tests.integration.pg_cluster import PgCluster

pytestmark = pytest.mark.slow


class Hub:
    """`fabnet serve` as a process the test may kill."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("a") as sink:  # the process keeps its own copy
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fabnet", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        end = time.monotonic() + 60
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("serve did not come up")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise


class Client(threading.Thread):
    """Places orders one after another; an order not acknowledged (a 5xx, a dropped
    connection) is sent again with the same reference until the hub answers 201, or 409
    (it was stored before the answer was lost)."""

    def __init__(self, base: str, key: str, design: str) -> None:
        super().__init__(daemon=True)
        self.base, self.key, self.design = base, key, design
        self.acknowledged: list[str] = []
        self.retries = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        deadline = (datetime.now(UTC) + timedelta(days=10)).isoformat()
        with httpx.Client(base_url=self.base, timeout=10) as http:
            while not self.stop_event.is_set():
                reference = uuid.uuid4().hex
                body = {
                    "lines": [
                        {
                            "design_id": self.design,
                            "material": "PLA",
                            "quantity": 2,
                            "deadline": deadline,
                            "destination": {"lat": 52.5, "lon": 13.4},
                        }
                    ],
                    "reference": reference,
                }
                while not self.stop_event.is_set():
                    try:
                        r = http.post("/orders", json=body, headers={"X-API-Key": self.key})
                    except httpx.TransportError:
                        r = None
                    stored_before = (
                        r is not None
                        and r.status_code == 409
                        and r.json()["error"]["type"] == "duplicate"
                    )
                    if r is not None and (r.status_code == 201 or stored_before):
                        self.acknowledged.append(reference)
                        break
                    self.retries += 1
                    time.sleep(0.2)
                time.sleep(0.02)


def check_store(url: str, data_dir: Path, acknowledged: list[str], *, drained: bool) -> dict:
    acknowledged = list(acknowledged)  # before the store is read: the client goes on
    app = bootstrap(Settings(database_url=url, data_dir=data_dir))
    try:
        uow = app.new_uow()
        with uow.reading():  # one snapshot: the hub goes on planning while this reads
            orders = uow.orders.all()
            jobs = uow.jobs.all()
        references = [o.reference for o in orders]
        assert len(references) == len(set(references))  # nothing applied twice
        missing = set(acknowledged) - set(references)
        assert not missing, f"{len(missing)} acknowledged orders lost"
        live: dict[str, int] = {}
        made: dict[str, int] = {}
        for job in jobs:
            if job.is_live:
                live[job.line_id] = live.get(job.line_id, 0) + job.units_open
            made[job.line_id] = made.get(job.line_id, 0) + job.units_made
        for order in orders:
            line = order.lines[0]
            assert live.get(line.id, 0) == line.units_allocated  # no unit in two jobs
            assert made.get(line.id, 0) == line.units_made
            if drained:
                assert line.unallocated == 0, (order.id, line)
        with app.new_uow() as uow:
            events = uow.last_event_seq()  # the hub may go on writing: check up to here
        ledger = app.ledger()
        ledger.sequence()
        assert ledger.duplicates() == []
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text("select count(*) from events where seq <= :e"), {"e": events}
            ).scalar_one()
            logged = conn.execute(
                sa.text("select count(*) from log_events where event_seq <= :e"), {"e": events}
            ).scalar_one()
        engine.dispose()
        assert logged == stored  # every event in the log, once
        bundle = ledger.provenance(orders[-1].id)
        assert verify_bundle(bundle, ledger.signer.verifier, [], 0).entries >= 1
        return {"orders": len(orders), "events": events}
    finally:
        app.close()


def test_the_hub_loses_and_doubles_nothing_through_kills_and_restarts(tmp_path):
    pg = PgCluster().start()
    broker = MosquittoBroker(tmp_path / "broker", {"hub": "hub-secret"}).start()
    data_dir = tmp_path / "hub"
    url = pg.url
    hub: Hub | None = None
    try:
        seed = bootstrap(Settings(database_url=url, data_dir=data_dir))
        bus = seed.bus()
        for n in range(8):
            bus.handle(
                cmd.RegisterProducer(OPERATOR, facility(f"m{n}", 52 + n / 10, 13.4, printer()))
            )
        design = bus.handle(
            cmd.RegisterDesign(OPERATOR, "p.stl", box_stl(40, 40, 10), "p", "fdm", ("PLA",), 900)
        )
        key = bus.handle(cmd.CreateApiKey("chaos", Role.CONSUMER)).secret
        seed.close()
        port = free_port()
        env = os.environ | {
            "FABNET_DATABASE_URL": url,
            "FABNET_DATA_DIR": str(data_dir),
            "FABNET_MQTT_URL": broker.url,
            "FABNET_MQTT_PASSWORD": "hub-secret",
            "FABNET_RATE_PER_S": "1000",
            "FABNET_HEARTBEAT_SWEEP_S": "0.5",
        }
        hub = Hub(env, port, tmp_path / "serve.log")
        hub.start()
        client = Client(f"http://127.0.0.1:{port}", key, design)
        client.start()

        def wait_for_orders(more: int) -> None:
            target = len(client.acknowledged) + more
            end = time.monotonic() + 60
            while len(client.acknowledged) < target and time.monotonic() < end:
                time.sleep(0.05)
            assert len(client.acknowledged) >= target, "the client made no progress"

        blows = []
        # 1. kill the coordinator while it plans (orders keep arriving, the hub plans them)
        wait_for_orders(15)
        hub.kill()
        blows.append(check_store(url, data_dir, client.acknowledged, drained=False))
        hub.start()
        # 2. kill it in the middle of a batch of writes
        wait_for_orders(10)
        hub.kill()
        blows.append(check_store(url, data_dir, client.acknowledged, drained=False))
        hub.start()
        # 3. restart PostgreSQL under it
        wait_for_orders(10)
        pg.restart()
        pg.wait_ready()
        wait_for_orders(10)
        blows.append(check_store(url, data_dir, client.acknowledged, drained=False))
        # 4. restart the machines' broker under it
        broker.restart()
        wait_for_orders(10)
        client.stop_event.set()
        client.join(30)
        # the hub drains its reactions: every order planned, within a bounded wait
        end = time.monotonic() + 60
        while True:
            try:
                blows.append(check_store(url, data_dir, client.acknowledged, drained=True))
                break
            except AssertionError:
                if time.monotonic() > end:
                    raise
                time.sleep(1)
        log = (tmp_path / "serve.log").read_text()
        assert hub.proc is not None and hub.proc.poll() is None, log[-3000:]
        assert '" 500 ' not in log, "an outage must be a 503, not an unknown error"
        assert "Exception in ASGI application" not in log
        assert client.retries > 0  # the blows were felt
        assert [b["orders"] for b in blows] == sorted(b["orders"] for b in blows)
        hub.stop()  # and it shuts down cleanly
    finally:
        if hub is not None and hub.proc is not None and hub.proc.poll() is None:
            hub.proc.kill()  # never leave a hub behind, whatever failed
            hub.proc.wait(10)
        broker.stop()
        pg.stop()

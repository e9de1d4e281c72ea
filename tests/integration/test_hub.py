"""The hub runner: replicas share its tasks through leases, `fabnet hub` works without
HTTP, and `serve` keeps serving while the machines' broker is away."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import httpx

from fabnet.bootstrap import bootstrap
from fabnet.config import Settings
from fabnet.entrypoints.hub import Hub
from fabnet.services import commands as cmd
from fabnet.sim.parts import box_stl
from tests.conftest import ALICE, OPERATOR, facility, printer
from tests.e2e.test_serve import free_port

FAST = {"offer_sweep_s": 0.1, "checkpoint_s": 0.1}


def wait_for(check, timeout_s: float = 30.0, every_s: float = 0.1):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError("timed out")


def test_replicas_run_each_task_in_one_of_them_and_take_over_from_a_dead_one(
    postgres_url, tmp_path
):
    settings = Settings(database_url=postgres_url, data_dir=tmp_path, **FAST)
    apps = [bootstrap(settings) for _ in range(2)]
    hubs = [
        Hub(app, app.leases, min_lease_s=1.0, holder=f"replica-{n}") for n, app in enumerate(apps)
    ]
    for hub in hubs:
        hub.start()
    time.sleep(1.5)
    for task in ("reactions", "offers", "escrows", "checkpoints"):
        runners = [h.holder for h in hubs if h.ran.get(task)]
        assert len(runners) == 1, (task, runners)  # never both
    first = {t: next(h for h in hubs if h.ran.get(t)) for t in ("offers", "checkpoints")}
    dead = first["offers"]
    dead._stop.set()  # it dies: threads end, its leases are not released
    for thread in dead._threads:
        thread.join(5)
    alive = hubs[1 - hubs.index(dead)]
    before = alive.ran.get("offers", 0)
    wait_for(lambda: alive.ran.get("offers", 0) > before, timeout_s=10)  # after expiry
    for hub in hubs:
        hub.stop()
    for app in apps:
        app.close()


def test_fabnet_hub_plans_an_order_placed_while_no_hub_ran(tmp_path):
    settings = Settings(data_dir=tmp_path)
    app = bootstrap(settings, react=False)
    bus = app.bus()
    bus.handle(cmd.RegisterProducer(OPERATOR, facility("a", 52.5, 13.4, printer())))
    design = bus.handle(
        cmd.RegisterDesign(OPERATOR, "p.stl", box_stl(40, 40, 10), "p", "fdm", ("PLA",), 900)
    )
    line = cmd.LineRequest(design, "PLA", 5, app.clock.now() + timedelta(days=3), 52.5, 13.4)
    order_id = bus.handle(cmd.PlaceOrder(ALICE, (line,)))
    env = os.environ | {"FABNET_DATA_DIR": str(tmp_path)}
    env.pop("FABNET_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fabnet", "hub"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:

        def planned():
            with app.new_uow() as uow:
                return uow.orders.get(order_id).lines[0].units_allocated == 5

        wait_for(planned, timeout_s=60)
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0, proc.stderr.read() if proc.stderr else ""
    app.close()


def test_serve_keeps_serving_while_the_machines_broker_is_down(tmp_path):
    port, dead_broker = free_port(), free_port()
    env = os.environ | {
        "FABNET_DATA_DIR": str(tmp_path),
        "FABNET_MQTT_URL": f"mqtt://127.0.0.1:{dead_broker}",
        "FABNET_HEARTBEAT_SWEEP_S": "0.2",
    }
    env.pop("FABNET_DATABASE_URL", None)
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fabnet", "serve", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:

        def healthy():
            assert proc.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(healthy, timeout_s=60)
        wait_for(lambda: "broker unavailable" in log.read_text(), timeout_s=30)
        assert healthy() and "Traceback" not in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_hub_routes_parcels_soon_after_they_are_ready(tmp_path):
    """Routing re-runs as jobs finish: a parcel made ready wakes the routing task (after
    its minimum gap), long before the regular interval."""
    from fabnet.services import commands as cmd
    from fabnet.services.ports import FixedClock
    from fabnet.sim.parts import box_stl
    from tests.conftest import OPERATOR, START, facility, printer, producer_actor

    settings = Settings(
        data_dir=tmp_path, routing_interval_s=3600, routing_gap_s=0.2, offer_sweep_s=3600
    )
    app = bootstrap(settings, clock=FixedClock(START))
    bus = app.bus()
    bus.handle(cmd.RegisterProducer(OPERATOR, facility("a", 52.45, 13.35, printer())))
    bus.handle(cmd.RegisterCourier(OPERATOR, "van", "van", 52.52, 13.40))
    design = bus.handle(
        cmd.RegisterDesign(OPERATOR, "p.stl", box_stl(40, 40, 10), "p", "fdm", ("PLA",), 600)
    )
    line = cmd.LineRequest(design, "PLA", 4, START + timedelta(days=2), 52.52, 13.40)
    from tests.conftest import ALICE

    order = bus.handle(cmd.PlaceOrder(ALICE, (line,)))
    hub = Hub(app, app.leases).start()
    try:
        with app.new_uow() as uow:
            (job,) = uow.jobs.of_order(order)
        actor = producer_actor(job.producer_id)
        for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob, cmd.FinishJob):
            app.bus().handle(step(actor, job.id))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with app.new_uow() as uow:
                parcels = uow.shipments.of_order(order)
            if parcels and all(p.state == "planned" for p in parcels):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"no wave within 15 s: {[p.state for p in parcels]}")
        assert hub.ran.get("routing", 0) >= 1
    finally:
        hub.stop()
        app.close()

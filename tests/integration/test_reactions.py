"""Reactions run from the stored events: a process killed between a command's commit and
its reactions loses none of them, and nothing happens twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from fabnet.bootstrap import bootstrap
from fabnet.config import Settings
from fabnet.domain import events as ev
from fabnet.services import commands as cmd
from fabnet.services.escrow import escrow_of
from tests.conftest import ALICE, OPERATOR, facility, printer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


def crash(step: str, url: str, data_dir: Path, *args: str) -> str:
    env = {**os.environ, "FABNET_DATABASE_URL": url, "FABNET_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.crash_after_commit", step, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 9, done.stderr  # it died after the commit, as intended
    return done.stdout.strip()


def test_reactions_lost_to_a_crash_run_once_after_restart(store_url, tmp_path):
    crash("order", store_url, tmp_path)
    app = bootstrap(Settings(database_url=store_url, data_dir=tmp_path), react=False)
    bus = app.bus()
    with app.new_uow() as uow:
        (order,) = uow.orders.all()
        assert uow.jobs.all() == []  # the order was committed, its planning never ran
    assert bus.drain().handled >= 1
    with app.new_uow() as uow:
        jobs = uow.jobs.all(order_id=order.id)
        assert sum(j.units for j in jobs) == 30
        assert uow.orders.get(order.id).lines[0].units_allocated == 30
    assert bus.drain().handled == 0  # nothing twice
    bus.handle(cmd.FundEscrow(ALICE, order.id, amount_minor=30_000))
    job = jobs[0]
    crash("finish", store_url, tmp_path, order.id, job.id, job.producer_id)
    with app.new_uow() as uow:
        assert uow.shipments.of_order(order.id) == []  # the parcels reaction never ran
    bus.drain()
    bus.drain()
    with app.new_uow() as uow:
        parcels = uow.shipments.of_order(order.id)
        assert sum(p.units for p in parcels) == job.units  # packed once
        assert sum(escrow_of(uow, order.id).delivered.values()) == 0  # made, not delivered
    bus.handle(cmd.PlanShipments(OPERATOR))
    for p in parcels:
        bus.handle(cmd.RecordShipmentEvent(OPERATOR, p.id, "picked_up"))
        bus.handle(cmd.RecordShipmentEvent(OPERATOR, p.id, "delivered", "code", p.proof_code))
    bus.drain()
    bus.drain()
    with app.new_uow() as uow:
        escrow = escrow_of(uow, order.id)
        delivered = uow.order_events(order.id, (ev.EscrowUnitsDelivered,))
    assert [e.units for e in delivered] == [p.units for p in parcels]  # once each
    assert escrow.delivered == {job.producer_id: job.units}
    app.close()


def test_drainers_racing_on_one_store_plan_each_unit_once(store_url, tmp_path):
    """Three hub processes (here threads, each its own bus and transactions) drain the
    same events at once: every unit is planned exactly once."""
    settings = Settings(database_url=store_url, data_dir=tmp_path)
    app = bootstrap(settings, react=False)
    bus = app.bus()
    for n in range(3):
        bus.handle(cmd.RegisterProducer(OPERATOR, facility(f"m{n}", 52 + n / 10, 13.4, printer())))
    from fabnet.sim.parts import box_stl

    design = bus.handle(
        cmd.RegisterDesign(OPERATOR, "p.stl", box_stl(40, 40, 10), "p", "fdm", ("PLA",), 900)
    )
    now = app.clock.now()
    orders = [
        bus.handle(
            cmd.PlaceOrder(
                ALICE, (cmd.LineRequest(design, "PLA", 7 + n, now + timedelta(days=4), 52.5, 13.4),)
            )
        )
        for n in range(12)
    ]
    others = [bootstrap(settings, react=False) for _ in range(3)]
    gate = threading.Barrier(3)
    errors: list[BaseException] = []

    def drain(other) -> None:
        try:
            gate.wait(timeout=30)
            other.bus().drain()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(o,)) for o in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    with app.new_uow() as uow:
        for n, order_id in enumerate(orders):
            jobs = uow.jobs.all(order_id=order_id)
            assert sum(j.units for j in jobs) == 7 + n
            assert uow.orders.get(order_id).lines[0].unallocated == 0
    for other in others:
        other.close()
    app.close()

"""A real server for the browser tests: `create_app` under uvicorn on a free port of
127.0.0.1, over SQLite in a temporary folder, with one party of each role."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from fabnet.bootstrap import App, bootstrap
from fabnet.config import Settings
from fabnet.domain.access import Principal
from fabnet.domain.ids import PrincipalId
from fabnet.domain.states import Role
from fabnet.entrypoints.api import create_app
from fabnet.services import commands as cmd
from fabnet.services.ports import FixedClock, SeededIds
from fabnet.sim.parts import box_stl
from tests.conftest import OPERATOR, START, facility, printer

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
HOSPITAL = (52.40, 13.30)


@dataclass
class Hub:
    url: str
    app: App
    keys: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)

    def bus(self):  # type: ignore[no-untyped-def]
        return self.app.bus()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hub(tmp_path) -> Iterator[Hub]:
    app = bootstrap(
        Settings(data_dir=tmp_path, rate_per_s=1000, rate_burst=1000),
        clock=FixedClock(START),
        ids=SeededIds(5),
    )
    bus = app.bus()
    maker = bus.handle(
        cmd.RegisterProducer(OPERATOR, facility("berlin maker", 52.45, 13.35, printer()))
    )
    courier = bus.handle(cmd.RegisterCourier(OPERATOR, "van at the hospital", "van", *HOSPITAL))
    consumer = "usr_hospital"
    keys = {
        "operator": bus.handle(cmd.CreateApiKey("ops", Role.OPERATOR)).secret,
        "consumer": bus.handle(
            cmd.CreateApiKey("hospital", Role.CONSUMER, principal_id=consumer)
        ).secret,
        "maker": bus.handle(cmd.CreateApiKey("maker", Role.PRODUCER, maker)).secret,
        "courier": bus.handle(cmd.CreateApiKey("van", Role.COURIER, principal_id=courier)).secret,
        "other": bus.handle(cmd.CreateApiKey("other", Role.CONSUMER)).secret,
    }
    design = bus.handle(
        cmd.RegisterDesign(
            OPERATOR, "shield.stl", box_stl(60, 60, 10), "shield", "fdm", ("PLA",), 600
        )
    )
    line = cmd.LineRequest(design, "PLA", 12, START + timedelta(days=3), *HOSPITAL)
    order = bus.handle(
        cmd.PlaceOrder(Principal(PrincipalId(consumer), Role.CONSUMER), (line,), reference="PO-7")
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(fabnet=app, hub=False),
            host="127.0.0.1",
            port=free_port(),
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Hub(
        f"http://127.0.0.1:{port}",
        app,
        keys,
        {"maker": maker, "courier": courier, "order": order, "consumer": consumer},
    )
    server.should_exit = True
    thread.join(timeout=10)
    app.close()

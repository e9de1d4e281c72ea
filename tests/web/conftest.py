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


class Server:
    """uvicorn in a thread on a fixed port: stopped and started again to cut every
    connection (a lost network, as a browser sees it)."""

    def __init__(self, app: App, port: int) -> None:
        self.app, self.port = app, port
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(fabnet=self.app, hub=False),
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                pytest.fail("the test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.server.force_exit = True  # streams (server-sent events) end at once
        self.thread.join(timeout=10)


@dataclass
class Hub:
    url: str
    app: App
    keys: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)
    server: Server | None = None

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
    server = Server(app, free_port())
    server.start()
    yield Hub(
        f"http://127.0.0.1:{server.port}",
        app,
        keys,
        {"maker": maker, "courier": courier, "order": order, "consumer": consumer},
        server,
    )
    server.stop()
    app.close()

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from fabnet.bootstrap import App, bootstrap
from fabnet.config import Settings
from fabnet.domain.states import Role
from fabnet.entrypoints.api import create_app
from fabnet.services import commands as cmd
from fabnet.services.ports import FixedClock, SeededIds
from fabnet.sim.parts import box_stl
from tests.conftest import START, facility, printer


@dataclass
class Api:
    client: TestClient
    app: App
    keys: dict[str, str]
    producers: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}

    def count(self, kind: str) -> int:
        with self.app.new_uow() as uow:
            return int(getattr(uow, kind).count())


@pytest.fixture
def api(tmp_path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path, max_design_bytes=64 * 1024)
    app = bootstrap(settings, clock=FixedClock(START), ids=SeededIds(3))
    bus = app.bus()
    producers = {
        "p1": bus.handle(
            cmd.RegisterProducer(_op(), facility("berlin maker", 52.52, 13.40, printer()))
        ),
        "p2": bus.handle(
            cmd.RegisterProducer(_op(), facility("munich maker", 48.14, 11.58, printer()))
        ),
    }
    keys = {
        "operator": bus.handle(cmd.CreateApiKey("ops", Role.OPERATOR)).secret,
        "alice": bus.handle(cmd.CreateApiKey("alice", Role.CONSUMER)).secret,
        "bob": bus.handle(cmd.CreateApiKey("bob", Role.CONSUMER)).secret,
        "p1": bus.handle(cmd.CreateApiKey("p1", Role.PRODUCER, producers["p1"])).secret,
        "p2": bus.handle(cmd.CreateApiKey("p2", Role.PRODUCER, producers["p2"])).secret,
    }
    with TestClient(create_app(fabnet=app), raise_server_exceptions=False) as client:
        yield Api(client, app, keys, producers)
    app.close()


def _op():
    from tests.conftest import OPERATOR

    return OPERATOR


def upload(api: Api, who: str = "alice", data: bytes | None = None, **form):
    files = {
        "file": ("shield.stl", data if data is not None else box_stl(180, 160, 20), "model/stl")
    }
    return api.client.post(
        "/designs",
        headers=api.as_(who),
        files=files,
        data={"materials": "PLA,PETG", "print_time_s": "4800"} | form,
    )


def order_body(design: str, quantity: int = 20, **kw):
    line = {
        "design_id": design,
        "material": "PLA",
        "quantity": quantity,
        "deadline": (START + timedelta(days=3)).isoformat(),
        "destination": {"lat": 52.4, "lon": 13.3},
    } | kw
    return {"lines": [line], "reference": "po-1"}


@pytest.fixture
def placed(api: Api) -> dict[str, str]:
    design = upload(api).json()["id"]
    order = api.client.post("/orders", headers=api.as_("alice"), json=order_body(design))
    assert order.status_code == 201, order.text
    jobs = api.client.get(
        "/jobs", headers=api.as_("operator"), params={"order_id": order.json()["id"]}
    )
    (job,) = jobs.json()["items"]
    return {
        "design": design,
        "order": order.json()["id"],
        "job": job["id"],
        "job_producer": job["producer_id"],
    }

"""Schemathesis drives every operation of the OpenAPI schema with generated input:
no request may produce a server error, and every error body is our JSON shape."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from fabnet.bootstrap import bootstrap
from fabnet.config import Settings
from fabnet.domain.states import Role
from fabnet.entrypoints.api import create_app
from fabnet.services import commands as cmd
from fabnet.services.ports import FixedClock, SeededIds
from tests.conftest import OPERATOR, START, facility


def _app():
    import tempfile

    tmp = tempfile.mkdtemp(prefix="fabnet-fuzz-")
    wired = bootstrap(
        Settings(data_dir=tmp, max_design_bytes=32 * 1024),
        clock=FixedClock(START),
        ids=SeededIds(9),
    )
    bus = wired.bus()
    bus.handle(cmd.RegisterProducer(OPERATOR, facility("maker", 52.5, 13.4)))
    key = bus.handle(cmd.CreateApiKey("fuzz", Role.OPERATOR)).secret
    return create_app(fabnet=wired), key


APP, KEY = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case):
    response = case.call(headers={"X-API-Key": KEY})
    assert response.status_code < 500, (case.method, case.path, response.text)
    if response.status_code >= 400:
        assert "error" in response.json()

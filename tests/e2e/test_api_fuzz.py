"""Schemathesis drives every operation of the OpenAPI schema with generated input: no
request may produce a server error, every status is one the schema documents for that
operation, and every body (errors included) matches its documented schema.

One pytest test per operation, parametrized here by its label: ``schema.parametrize()``
gives its items one node id, so pytest-xdist's ``--dist loadfile`` (``make test``) ran one
operation of the 66 and reported the run green."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

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


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}


def test_every_operation_of_the_schema_is_driven():
    paths = APP.openapi()["paths"]
    documented = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    assert set(OPERATIONS) == documented
    assert len(OPERATIONS) > 50


@pytest.mark.parametrize("label", sorted(OPERATIONS))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_input_makes_a_server_error_or_an_undocumented_status(label, data):
    case = data.draw(OPERATIONS[label].as_strategy())
    response = case.call(headers={"X-API-Key": KEY})
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400:
        assert "error" in response.json()

"""Fuzz every parser that takes outside input (besides the meshes: test_mesh_fuzz.py):
OKW facility files, planning problem files, MQTT payloads (telemetry, events, commands)
and the agent's config. Whatever the input, the answer is a value or a FabnetError
naming the problem (InvalidInput), never another exception, and within a bounded time."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.adapters.gazetteer import Gazetteer
from fabnet.adapters.okw import OkwReader, load_records
from fabnet.domain.errors import FabnetError, InvalidInput
from fabnet.planning.files import from_dict
from fabnet.services.machine_messages import parse_command, parse_event, parse_telemetry

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
GAZETTEER = Gazetteer()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=40,
)

OKW_KEYS = ["name", "id", "location", "equipment", "facilityStatus", "gps-coordinates",
            "manufacturing-process", "build-volume", "materials-worked", "address", "locality",
            "country", "lat", "lon", "make", "model"]  # fmt: skip
okw_like = st.recursive(
    json_values,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(OKW_KEYS), inner, max_size=6)
    ),
    max_leaves=30,
)


def refused_or_value(parse, *args):
    """parse(*args), or None when it refused with a FabnetError that says why."""
    started = time.perf_counter()
    refused: FabnetError | None = None
    try:
        value = parse(*args)
    except FabnetError as exc:
        refused, value = exc, None
    assert refused is None or refused.message
    assert time.perf_counter() - started < 5
    return value


def names_the_field(parse, *args) -> None:
    refused: InvalidInput | None = None
    try:
        parse(*args)
    except InvalidInput as exc:
        refused = exc
    assert refused is None or (refused.field and refused.problem)


@FUZZ
@given(st.lists(okw_like, max_size=5) | okw_like)
def test_okw_records_are_read_or_reported_never_crash(records):
    text = json.dumps(records, allow_nan=True)
    loaded = refused_or_value(load_records, text, "json")
    if loaded is not None:
        good, bad, _, _ = OkwReader(GAZETTEER).read(loaded)
        assert len(good) + len({e.index for e in bad}) <= len(loaded)
        assert all(e.field and e.reason for e in bad)


@FUZZ
@given(st.binary(max_size=300))
def test_okw_files_of_any_bytes_are_refused_cleanly(data):
    for fmt in ("json", "yaml"):
        refused_or_value(load_records, data.decode("utf-8", "replace"), fmt)


PROBLEM_KEYS = ["format", "machines", "lines", "id", "producer", "process", "materials",
                "build_volume_mm", "lat", "lon", "hours_per_day", "speed_factor", "busy_s",
                "units", "unit_time_s", "due_s", "size_mm", "material", "horizon_s"]  # fmt: skip
problem_like = st.recursive(
    json_values,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(PROBLEM_KEYS), inner, max_size=8)
    ),
    max_leaves=40,
)


@FUZZ
@given(problem_like)
def test_problem_files_are_read_or_refused_naming_the_field(data):
    names_the_field(from_dict, data)


message_like = st.dictionaries(
    st.sampled_from(
        [
            "machine_id",
            "at",
            "state",
            "job_id",
            "progress",
            "temps",
            "event_id",
            "seq",
            "type",
            "cause",
            "units_made",
            "command_id",
            "job",
            "reason",
            "design_id",
            "material",
            "units",
            "unit_time_s",
        ]
    ),
    json_values,
    max_size=10,
)


@FUZZ
@given(st.one_of(message_like.map(lambda d: json.dumps(d).encode()), st.binary(max_size=200)))
def test_mqtt_payloads_are_parsed_or_refused(payload):
    for parse in (parse_telemetry, parse_event, parse_command):
        names_the_field(parse, payload)


@FUZZ
@given(st.text(max_size=400))
def test_agent_configs_are_loaded_or_refused(text):
    import tempfile
    from pathlib import Path

    from fabnet.entrypoints.agent.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "agent.toml"
        path.write_text(text, encoding="utf-8")
        refused_or_value(load_config, path)

"""The agent protocol: topics parse only our own shapes, messages name their bad field."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.domain.errors import InvalidInput
from fabnet.domain.topics import Kind, acl_lines, machine_topic, parse, presence_topic
from fabnet.services.machine_messages import (
    AgentCommand,
    AgentEvent,
    CommandType,
    EventType,
    JobSpec,
    Telemetry,
    encode,
    parse_command,
    parse_event,
    parse_telemetry,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_topics_round_trip_and_foreign_shapes_are_not_ours():
    t = machine_topic("prd_a", "mch_1", Kind.EVENTS)
    assert t == "fabnet/v1/prd_a/mch_1/events"
    parsed = parse(t)
    assert parsed is not None and (parsed.producer_id, parsed.machine_id) == ("prd_a", "mch_1")
    assert parse(presence_topic("prd_a")).kind is Kind.PRESENCE
    for other in ("fabnet/v2/prd_a/mch_1/events", "fabnet/v1/prd_a/mch_1/nope", "fabnet/v1//m/state",
                  "fabnet/v1/prd_a/presence/extra", "fabnet/v1/prd_a/mch_1/presence", "x"):  # fmt: skip
        assert parse(other) is None, other


def test_the_acl_gives_producers_their_own_topics_only():
    lines = acl_lines("hub")
    assert "user hub" in lines and "topic readwrite fabnet/v1/#" in lines
    patterns = [ln for ln in lines if ln.startswith("pattern")]
    assert all("%u" in ln for ln in patterns)
    assert "pattern read fabnet/v1/%u/+/commands" in patterns
    assert not any(ln.startswith("pattern write") and ln.endswith("/commands") for ln in patterns)


def test_messages_round_trip():
    reading = Telemetry("mch_1", NOW, "printing", "job_1", 0.5, {"tool0": (210.0, 215.0)})
    assert parse_telemetry(encode(reading)) == reading
    event = AgentEvent("e1", 3, "mch_1", "job_1", EventType.FAILED, NOW, "clog", 2)
    assert parse_event(encode(event)) == event
    offer = AgentCommand(
        "c1", CommandType.OFFER, "mch_1", JobSpec("job_1", "d" * 64, "PLA", 4, 600.0)
    )
    assert parse_command(encode(offer)) == offer


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seq": 0}, "seq"),
        ({"seq": "1"}, "seq"),
        ({"type": "exploded"}, "type"),
        ({"at": "yesterday"}, "at"),
        ({"at": "2026-11-22T08:00:00"}, "at"),  # no timezone
        ({"machine_id": ""}, "machine_id"),
        ({"units_made": -1}, "units_made"),
        ({"event_id": "x" * 65}, "event_id"),
    ],
)
def test_bad_events_name_the_field(change, field):
    good = json.loads(encode(AgentEvent("e1", 1, "mch_1", "job_1", EventType.DONE, NOW)))
    with pytest.raises(InvalidInput) as caught:
        parse_event(json.dumps({**good, **change}).encode())
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"progress": 1.5}, "progress"),
        ({"progress": True}, "progress"),
        ({"temps": {"tool0": [210]}}, "temps.tool0"),
        ({"temps": {"tool0": ["hot", 1]}}, "temps.tool0"),
        ({"temps": {"tool0": [float("inf"), 1]}}, "temps.tool0"),
        ({"temps": [1, 2]}, "temps"),
        ({"job_id": 7}, "job_id"),
        ({"state": ""}, "state"),
    ],
)
def test_bad_telemetry_names_the_field(change, field):
    good = json.loads(encode(Telemetry("mch_1", NOW, "idle")))
    with pytest.raises(InvalidInput) as caught:
        parse_telemetry(json.dumps({**good, **change}).encode())
    assert caught.value.field == field


def test_an_offer_needs_its_job_and_other_commands_need_only_its_id():
    with pytest.raises(InvalidInput, match="carries its job"):
        parse_command(json.dumps({"command_id": "c", "type": "offer", "machine_id": "m"}).encode())
    cancel = {"command_id": "c", "type": "cancel", "machine_id": "m", "job": {"job_id": "j"}}
    assert parse_command(json.dumps(cancel).encode()).job.job_id == "j"


@given(st.binary(max_size=300))
def test_junk_is_refused_never_crashes(data):
    for parser in (parse_event, parse_telemetry, parse_command):
        with contextlib.suppress(InvalidInput):  # anything else fails the test
            parser(data)

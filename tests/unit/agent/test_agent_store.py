"""The agent's durable store and its config file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fabnet.domain.errors import InvalidInput
from fabnet.entrypoints.agent.config import load_config
from fabnet.entrypoints.agent.outbox import AgentStore
from fabnet.services.machine_messages import EventType, JobSpec, parse_event

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_events_are_numbered_per_machine_and_survive_a_restart(tmp_path):
    store = AgentStore(tmp_path / "a.sqlite")
    store.add_event("prd_a", "m1", "j1", EventType.ACCEPTED, NOW)
    store.add_event("prd_a", "m2", "j2", EventType.ACCEPTED, NOW)
    store.add_event("prd_a", "m1", "j1", EventType.STARTED, NOW)
    first = store.unsent()[0]
    store.mark_sent(first[0])
    store.close()
    again = AgentStore(tmp_path / "a.sqlite")
    rows = again.unsent()
    assert [parse_event(p).seq for _, _, p in rows] == [1, 2]  # m2#1 and m1#2 still to send
    assert rows[1][1] == "fabnet/v1/prd_a/m1/events"
    event = again.add_event("prd_a", "m1", "j1", EventType.DONE, NOW)
    assert event.seq == 3
    again.close()


def test_jobs_and_beds(tmp_path):
    store = AgentStore(tmp_path / "a.sqlite")
    spec = JobSpec("j1", "d", "PLA", 2, 60.0)
    assert store.put_job("m1", spec, "accepted")
    assert not store.put_job("m1", spec, "accepted")  # a repeated offer
    store.set_job("j1", "printing", units_done=1)
    assert store.jobs("m1", ("printing",))[0][2] == 1
    assert store.bed_clear("m1")
    store.set_bed("m1", False)
    assert not store.bed_clear("m1")
    store.close()


def test_a_config_file_is_checked_field_by_field(tmp_path):
    good = tmp_path / "agent.toml"
    good.write_text(
        'producer_id = "prd_a"\n[broker]\nurl = "mqtt://127.0.0.1:1883"\npassword = "x"\n'
        '[[machines]]\nid = "m1"\nlink = "octoprint"\nurl = "http://127.0.0.1:5000"\napi_key = "k"\n'
    )
    config = load_config(good)
    assert config.machines[0].id == "m1" and config.data_dir.is_absolute()
    cases = {
        'producer_id = "p"\n': "machines",
        'producer_id = "p"\n[[machines]]\nid = "m"\nlink = "moonraker"\n': "machines.0.link",
        'producer_id = "p"\n[[machines]]\nid = "m"\n': "machines.0",
        "producer_id = \n": "config",
    }
    for text, field in cases.items():
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(InvalidInput) as caught:
            load_config(bad)
        assert caught.value.field == field, text


def test_the_producer_declines_an_offer_from_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from fabnet.entrypoints.cli.main import app

    config = tmp_path / "agent.toml"
    config.write_text(
        'producer_id = "prd_a"\ndata_dir = "state"\n[[machines]]\nid = "m1"\nlink = "fake"\n'
    )
    store = AgentStore(tmp_path / "state" / "agent.sqlite")
    store.put_job("m1", JobSpec("j1", "d", "PLA", 1, 60.0), "offered")
    store.close()
    runner = CliRunner()
    done = runner.invoke(
        app, ["agent", "decline", "j1", "--reason", "out of PLA", "-c", str(config)]
    )
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["agent", "accept", "j1", "-c", str(config)])
    assert again.exit_code == 75  # no longer waiting for a decision
    store = AgentStore(tmp_path / "state" / "agent.sqlite")
    ((_, _, payload),) = store.unsent()
    event = parse_event(payload)
    assert (event.type, event.cause, event.seq) == (EventType.DECLINED, "out of PLA", 1)
    assert store.job("j1")[2] == "declined"
    store.close()

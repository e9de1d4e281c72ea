"""fabnet backup / restore on PostgreSQL (pg_dump, pg_restore): the restored store
matches its transparency log."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from fabnet.entrypoints.cli.main import app

pytestmark = pytest.mark.postgres
runner = CliRunner()


@pytest.fixture
def second_db(postgres_admin):
    name = f"fabnet_t_{uuid.uuid4().hex[:12]}"
    with postgres_admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    yield postgres_admin.url.set(database=name).render_as_string(hide_password=False)
    with postgres_admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))


def test_a_postgres_hub_backs_up_and_restores_into_another_database(
    postgres_url, second_db, tmp_path, monkeypatch
):
    monkeypatch.setenv("FABNET_DATABASE_URL", postgres_url)
    monkeypatch.setenv("FABNET_DATA_DIR", str(tmp_path / "hub"))
    okw = tmp_path / "okw.json"
    okw.write_text(
        json.dumps([{"id": "x1", "name": "Lab", "location": {"gps-coordinates": "52.5, 13.4"}}])
    )
    assert runner.invoke(app, ["producers", "import", str(okw)]).exit_code == 0
    made = runner.invoke(app, ["backup", str(tmp_path / "bk"), "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["store"] == "postgresql"
    monkeypatch.setenv("FABNET_DATABASE_URL", second_db)
    monkeypatch.setenv("FABNET_DATA_DIR", str(tmp_path / "restored"))
    restored = runner.invoke(app, ["restore", str(tmp_path / "bk"), "--json"])
    assert restored.exit_code == 0, restored.output
    report = json.loads(restored.stdout)
    assert report["ok"] and report["events"] >= 1
    listed = json.loads(runner.invoke(app, ["producers", "list", "--json"]).stdout)
    assert [p["name"] for p in listed["items"]] == ["Lab"]

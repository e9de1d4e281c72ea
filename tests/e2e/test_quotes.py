"""POST /quotes and `fabnet quote`, on a real store, the real analyzer and PrusaSlicer."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fabnet.entrypoints.cli.main import app as cli
from fabnet.sim.parts import box_stl

PART = box_stl(40, 30, 10)


def test_a_consumer_gets_a_quote_for_an_upload(api):
    r = api.client.post(
        "/quotes",
        headers=api.as_("alice"),
        files={"file": ("part.stl", PART)},
        data={"material": "PLA", "quantity": "5", "exact": "true"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["triangles"] == 12 and body["watertight"] is True
    assert body["volume_mm3"] == pytest.approx(12000)
    assert body["bbox_mm"] == pytest.approx([40, 30, 10])
    assert body["print_time_s"] > 0 and body["filament_g"] > 0
    assert body["slicer"] == "PrusaSlicer"
    assert body["slicer_print_time_s"] == pytest.approx(body["print_time_s"], rel=0.25)
    maker = next(o for o in body["options"] if o["producer_class"] == "maker")
    assert maker["producers"] == 2 and maker["price"]["amount_minor"] > 0
    assert maker["lead_time_days"] >= 1


def test_a_quote_for_a_registered_design(api):
    up = api.client.post(
        "/designs", headers=api.as_("alice"), files={"file": ("d.stl", PART)}, data={}
    )
    assert up.status_code == 201, up.text
    r = api.client.post("/quotes", headers=api.as_("alice"), data={"design_id": up.json()["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["triangles"] == 12


@pytest.mark.parametrize(
    ("files", "data", "status", "field"),
    [
        ({"file": ("x.stl", b"")}, {}, 422, "file"),
        ({"file": ("x.step", PART)}, {}, 422, "file"),
        ({"file": ("x.stl", PART[:-9])}, {}, 422, "file"),
        ({"file": ("x.stl", PART)}, {"material": "GOLD"}, 422, "material"),
        ({"file": ("x.stl", PART)}, {"quantity": "0"}, 422, "quantity"),
        ({"file": ("x.stl", b"\x00" * 70_000)}, {}, 413, "file"),
        (None, {}, 422, "file"),
    ],
)
def test_bad_quote_requests_are_4xx_naming_the_field_and_store_nothing(
    api, files, data, status, field
):
    before = api.count("designs")
    r = api.client.post("/quotes", headers=api.as_("alice"), files=files, data=data)
    assert r.status_code == status, r.text
    assert r.json()["error"]["field"] == field
    assert api.count("designs") == before


def test_quotes_need_a_key(api):
    r = api.client.post("/quotes", files={"file": ("x.stl", PART)})
    assert r.status_code == 401


def test_the_cli_quotes_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FABNET_DATA_DIR", str(tmp_path / "data"))
    part = tmp_path / "part.stl"
    part.write_bytes(PART)
    result = CliRunner().invoke(cli, ["quote", str(part), "--qty", "3", "--exact", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    for key in ("triangles", "watertight", "volume_mm3", "bbox_mm", "print_time_s", "filament_g"):
        assert key in body
    assert body["slicer_print_time_s"] > 0 and body["slicer_filament_g"] > 0
    assert {o["producer_class"] for o in body["options"]} == {"maker", "fablab", "factory"}
    text = CliRunner().invoke(cli, ["quote", str(part)])
    assert text.exit_code == 0 and "watertight" in text.stdout


def test_the_cli_refuses_bad_files_with_an_exit_code(tmp_path, monkeypatch):
    monkeypatch.setenv("FABNET_DATA_DIR", str(tmp_path / "data"))
    junk = tmp_path / "junk.stl"
    junk.write_bytes(b"\x00\x01garbage")
    result = CliRunner().invoke(cli, ["quote", str(junk)])
    assert result.exit_code == 65
    assert "not an STL" in result.output
    missing = CliRunner().invoke(cli, ["quote", str(tmp_path / "nope.stl")])
    assert missing.exit_code == 66

"""OKH manifests in the two shapes others publish: OKH-LOSH TOML and the Open Hardware
Manager's OKH JSON (shapes as in OPEN-NEXT/OKH-LOSH sample_data and
helpfulengineering/supply-graph-ai synth/synthetic-data; the contents here are ours)."""

import json
import shutil
from pathlib import Path

import pytest

from fabnet.adapters.okh import losh_manifest, read_manifest
from fabnet.domain.errors import InvalidInput

PARTS = Path(__file__).resolve().parents[2] / "data" / "real-parts"

LOSH = """
okhv = "2.0"
name = "Test Loom"
repo = "https://example.org/loom"
version = "0.10.0"
license = "CC-BY-SA-4.0"
licensor = "A. Maker"
tsdc = "MEC"

[[part]]
name = "Clip"
tsdc = "3DP"
source = "/parts/clip.scad"
export = ["/parts/clip.pdf", "/parts/clip.stl"]
material = "PLA"

[[part]]
name = "Beam"
tsdc = ["CNC", "COT"]
export = "beam.stl"
material = "wood"

[[part]]
name = "Remote"
tsdc = "3DP"
export = "https://example.org/remote.stl"
material = "PLA"

[[part]]
name = "Hinge"
tsdc = "3DP"
export = "/parts/clip.stl"
material = "Hinges"

[[part]]
name = "Escape"
tsdc = "3DP"
export = "../../outside.stl"
material = "PLA"

[[part]]
name = "Drawing only"
export = "drawing.pdf"
"""


@pytest.fixture
def loom(tmp_path: Path) -> Path:
    (tmp_path / "parts").mkdir()
    shutil.copy(PARTS / "voron0_front_top_left_clip_x1.stl", tmp_path / "parts" / "clip.stl")
    shutil.copy(PARTS / "trident_140mm_extrusion_drill_guide.stl", tmp_path / "beam.stl")
    manifest = tmp_path / "okh.toml"
    manifest.write_text(LOSH)
    return manifest


def test_a_losh_manifest_gives_its_printable_parts_with_licence_and_source(loom):
    found = read_manifest(loom)
    assert [(p.name, p.process, p.materials, p.path.name) for p in found.parts] == [
        ("Test Loom: Clip", "fdm", ("PLA",), "clip.stl"),
        ("Test Loom: Beam", "cnc_milling", ("WOOD",), "beam.stl"),
    ]
    assert found.parts[0].extra == {
        "okh": "Test Loom",
        "license": "CC-BY-SA-4.0",
        "licensor": "A. Maker",
        "version": "0.10.0",
        "source": "https://example.org/loom",
        "okh_part": "Clip",
    }
    reasons = dict(found.skipped)
    assert "nothing is fetched" in reasons["part[2] (Remote)"]
    assert "Hinges" in reasons["part[3] (Hinge)"]
    assert "outside the manifest's folder" in reasons["part[4] (Escape)"]
    assert "no STL, 3MF or OBJ" in reasons["part[5] (Drawing only)"]


def test_an_ohm_okh_json_manifest_reads_too(tmp_path):
    shutil.copy(PARTS / "3mfc_heartgears.3mf", tmp_path / "gears.3mf")
    manifest = tmp_path / "gears-okh.json"
    manifest.write_text(
        json.dumps(
            {
                "okhv": "OKH-LOSHv1.0",
                "title": "Heart Gears",
                "version": "1.0.0",
                "license": {"hardware": "CERN-OHL-S-2.0", "documentation": "CC-BY-4.0"},
                "licensor": {"name": "B. Designer", "email": None},
                "manufacturing_processes": ["3DP", "Assembly"],
                "materials": [{"material_id": "PETG", "name": "PETG", "quantity": 10}],
                "design_files": [{"title": "mesh", "path": "gears.3mf", "type": "design-files"}],
                "parts": [],
            }
        )
    )
    (part,) = read_manifest(manifest).parts
    assert (part.name, part.process, part.materials) == ("Heart Gears: gears", "fdm", ("PETG",))
    assert (part.extra["license"], part.extra["licensor"]) == ("CERN-OHL-S-2.0", "B. Designer")


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        ("name = ", ".toml", "not valid TOML"),
        ("[1, 2]", ".json", "expected an object"),
        ('okhv = "2.0"', ".toml", "names no hardware"),
        ("{bad", ".json", "not valid JSON"),
    ],
)
def test_bad_manifests_are_refused_with_the_reason(tmp_path, text, suffix, message):
    path = tmp_path / f"m{suffix}"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        read_manifest(path)


def test_a_written_manifest_reads_back(tmp_path):
    shutil.copy(PARTS / "voron0_front_top_left_clip_x1.stl", tmp_path / "clip.stl")
    (tmp_path / "okh.toml").write_text(
        losh_manifest(
            name='Clip "v2"',
            filename="clip.stl",
            process="sla",
            materials=("RESIN_STANDARD",),
            license="GPL-3.0-or-later",
            licensor="",
            version="2",
            source="https://example.org/clip",
        )
    )
    (part,) = read_manifest(tmp_path / "okh.toml").parts
    assert (part.name, part.process, part.materials) == ('Clip "v2"', "sla", ("RESIN_STANDARD",))
    assert part.extra["license"] == "GPL-3.0-or-later"

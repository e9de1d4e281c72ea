"""The real printable parts of tests/data/real-parts (22 of the 29 of ../shared/testdata,
the files under 1.3 MB and one 196k-triangle 3MF) and PrusaSlicer's sample
shapes: every mesh PrusaSlicer loads as manifold is accepted, with its repairs listed,
and its volume agrees with PrusaSlicer's own figure."""

import re
import subprocess
from pathlib import Path

import pytest

from fabnet.adapters.geometry.analysis import TrimeshAnalyzer

PARTS = Path(__file__).resolve().parents[1] / "data" / "real-parts"
SHAPES = Path("/usr/share/PrusaSlicer/shapes")
MESHES = sorted(p for p in PARTS.iterdir() if p.suffix.lower() in (".stl", ".3mf")) + sorted(
    SHAPES.glob("*.stl")
)
# PrusaSlicer's --info gives each object's volume before its build transform and counts
# items marked printable="0"; this project file has both (a z-scaled, non-printable cube)
BUILD_TRANSFORMED = {"rapax_alby_case_pi_zero_2w.3mf"}


@pytest.fixture(scope="module")
def slicer_volumes() -> dict[str, float]:
    assert len(MESHES) >= 22 + 10, "the real parts or PrusaSlicer's shapes are missing"
    done = subprocess.run(
        ["prusa-slicer", "--info", *map(str, MESHES)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    volumes: dict[str, float] = {}
    current = ""
    for line in done.stdout.splitlines():
        name = re.match(r"^\[([^\]]+\.(?:stl|STL|3mf))\]$", line)
        if name:
            current = name.group(1)
            continue
        volume = re.match(r"^volume = ([0-9.]+)$", line)
        if volume and current:
            volumes[current] = volumes.get(current, 0.0) + float(volume.group(1))
    return volumes


@pytest.fixture(scope="module")
def analyzer() -> TrimeshAnalyzer:
    return TrimeshAnalyzer(wall_samples=500)


@pytest.mark.parametrize("path", MESHES, ids=lambda p: p.name)
def test_what_prusaslicer_loads_is_accepted_with_the_same_volume(path, analyzer, slicer_volumes):
    facts = analyzer.analyse(path.name, path.read_bytes())  # raises BadMesh if refused
    assert facts.watertight or facts.warnings  # anything short of closed is said
    if path.name in BUILD_TRANSFORMED:
        return
    expected = slicer_volumes[path.name]
    assert facts.volume_mm3 == pytest.approx(expected, rel=1e-4)


def test_zero_area_faces_are_removed_without_opening_the_surface(analyzer):
    facts = analyzer.analyse("cube_gears.3mf", (PARTS / "3mfc_cube_gears.3mf").read_bytes())
    assert any("zero-area faces" in r and "closed" in r for r in facts.repairs)
    assert facts.watertight


def test_a_real_part_with_its_vertices_pulled_apart_is_stitched(analyzer):
    """Un-weld a real part and move every copy of a corner by up to 1e-4 mm (as exporters
    that write each triangle's corners on their own do): the stitch closes it again."""
    import numpy as np

    from fabnet.adapters.geometry.readers import Limits, read_mesh

    _, tris = read_mesh(
        "cube.stl", (PARTS / "voron2_voron_design_cube_v7.stl").read_bytes(), Limits()
    )
    exact = analyzer.analyse_triangles(tris)
    noisy = tris + np.random.default_rng(3).uniform(-1e-4, 1e-4, tris.shape)
    facts = analyzer.analyse_triangles(noisy)
    assert any(r.startswith("stitched") for r in facts.repairs), facts.repairs
    assert facts.watertight and facts.volume_mm3 == pytest.approx(exact.volume_mm3, rel=1e-4)

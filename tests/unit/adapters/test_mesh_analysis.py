"""Analysis and safe repair: what can be repaired is, and says so; the facts are right."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from fabnet.adapters.geometry import TrimeshAnalyzer
from fabnet.adapters.geometry.analysis import weld
from fabnet.domain.errors import BadMesh
from tests.unit.adapters.meshes import binary_stl, box_triangles, stl_of

analyzer = TrimeshAnalyzer(wall_samples=4000)
BOX = box_triangles(10, 20, 30)


def test_a_flipped_face_is_rewound_and_reported():
    tris = list(BOX)
    a, b, c = tris[3]
    tris[3] = (a, c, b)
    facts = analyzer.analyse("f.stl", binary_stl(tris))
    assert facts.winding_consistent
    assert facts.volume_mm3 == pytest.approx(6000)
    assert any("winding" in r for r in facts.repairs)


def test_an_inside_out_mesh_is_turned_and_reported():
    inverted = [(a, c, b) for a, b, c in BOX]
    facts = analyzer.analyse("i.stl", binary_stl(inverted))
    assert facts.volume_mm3 == pytest.approx(6000)
    assert any("inside out" in r for r in facts.repairs)


def test_degenerate_and_duplicate_faces_are_removed_and_counted():
    tris = [*BOX, ((0, 0, 0), (0, 0, 0), (1, 1, 1)), ((1, 0, 0), (2, 0, 0), (3, 0, 0)), BOX[5]]
    facts = analyzer.analyse("d.stl", binary_stl(tris))
    assert facts.degenerate_faces == 2
    assert facts.triangles == 12
    assert "removed 2 degenerate faces" in facts.repairs
    assert "removed 1 duplicate faces" in facts.repairs
    assert facts.watertight


def test_a_small_hole_is_filled():
    facts = analyzer.analyse("h.stl", binary_stl(BOX[:-1]))  # one triangle missing
    assert facts.watertight
    assert facts.volume_mm3 == pytest.approx(6000)
    assert any("filled" in r for r in facts.repairs)


def test_a_broken_mesh_over_the_repair_cap_is_refused_not_repaired():
    small_cap = TrimeshAnalyzer(repair_cap=5, wall_samples=100)
    with pytest.raises(BadMesh, match="not closed"):
        small_cap.analyse("h.stl", binary_stl(BOX[:-1]))


def test_separate_bodies_are_counted_as_shells():
    far = [tuple((x + 50, y, z) for x, y, z in t) for t in BOX]
    facts = analyzer.analyse("two.stl", binary_stl(BOX + far))
    assert facts.shells == 2
    assert facts.volume_mm3 == pytest.approx(12000)


def test_a_thin_plate_has_thin_walls_and_a_block_has_none():
    plate = analyzer.analyse("p.stl", stl_of(trimesh.creation.box((40, 40, 0.5))))
    assert plate.min_wall_mm == pytest.approx(0.5, abs=0.05)
    block = analyzer.analyse("b.stl", stl_of(trimesh.creation.box((40, 40, 20))))
    assert block.min_wall_mm is None


def test_orientations_include_the_axis_ones_and_the_least_height():
    tilted = trimesh.creation.box((60, 30, 8))
    tilted.apply_transform(trimesh.transformations.rotation_matrix(0.7, [1, 1, 0]))
    facts = analyzer.analyse("t.stl", stl_of(tilted))
    names = [o.name for o in facts.orientations]
    assert names[0] == "z up"
    assert {"x up", "x down", "y up", "y down", "z down", "least height"} <= set(names)
    flat = next(o for o in facts.orientations if o.name == "least height")
    assert sorted(flat.size_mm) == pytest.approx([8, 30, 60], abs=1e-3)
    assert flat.size_mm[2] == pytest.approx(8, abs=1e-3)
    assert facts.orientations[0].size_mm[2] > 30  # as given, it stands tall


def test_overhangs_beyond_45_degrees_are_measured_per_orientation():
    # a T: a 40x10 slab on a 10x10 post; the slab's underside overhangs when upright
    post = trimesh.creation.box((10, 10, 20))
    slab = trimesh.creation.box((40, 10, 5))
    slab.apply_translation((0, 0, 12.5))
    tee = trimesh.boolean.union([post, slab], engine="manifold")
    facts = analyzer.analyse("tee.stl", stl_of(tee))
    upright = next(o for o in facts.orientations if o.name == "z up")
    upside_down = next(o for o in facts.orientations if o.name == "z down")
    assert upright.overhang_area_mm2 == pytest.approx(300, rel=0.01)  # 2 x 15 x 10
    assert upside_down.overhang_area_mm2 == pytest.approx(0, abs=1e-6)


def test_cross_sections_find_outlines_and_holes():
    tube = trimesh.creation.annulus(r_min=5, r_max=10, height=10, sections=128)
    facts = analyzer.analyse("tube.stl", stl_of(tube))
    layer = facts.layers[len(facts.layers) // 2]
    assert sorted(layer.loops_mm) == pytest.approx([2 * math.pi * 5, 2 * math.pi * 10], rel=0.01)
    assert layer.area_mm2 == pytest.approx(math.pi * (100 - 25), rel=0.01)


def test_welding_merges_equal_corners_only():
    tris = np.array(BOX, dtype=np.float64)
    welded = weld(tris)
    assert len(welded.vertices) == 8
    nudged = tris.copy()
    nudged[0, 0, 0] = 1e-9  # one corner no longer equal to the others at the origin
    assert len(weld(nudged).vertices) == 9
    assert np.array_equal(welded.vertices[welded.faces], tris)


def _with_a_needle(tris, at: float):
    """BOX with its first face cut at a point of one edge, plus the zero-area face
    (a needle) that closes the cut: closed, but with a T-junction."""
    tris = [tuple(map(tuple, t)) for t in tris]
    a, b, c = (np.array(v, dtype=float) for v in tris[0])
    m = tuple(a + at * (c - a))
    a, b, c = tuple(a), tuple(b), tuple(c)
    return [(a, b, m), (m, b, c), (c, a, m), *tris[1:]]


@pytest.mark.parametrize("at", [0.5, 0.1, 0.93])
def test_a_zero_area_face_is_removed_without_opening_the_surface(at):
    tris = _with_a_needle(BOX, at)
    welded = weld(np.array(tris, dtype=float))
    from fabnet.adapters.geometry.analysis import edge_report

    assert edge_report(welded.faces, len(welded.vertices))[0] == 0  # closed, with the needle
    facts = analyzer.analyse("n.stl", binary_stl(tris))
    assert facts.watertight and facts.volume_mm3 == pytest.approx(6000)
    assert facts.triangles == 14  # 13 faces, the needle gone, its neighbour split in two
    assert any("zero-area" in r for r in facts.repairs)

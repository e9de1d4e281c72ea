"""The Slicer port: the fake and real PrusaSlicer behave alike (PrusaSlicer must be
installed: `make test` installs the Debian package; a missing slicer fails here)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fabnet.adapters.geometry import TrimeshAnalyzer
from fabnet.adapters.slicer import FakeSlicer, PrusaSlicer
from fabnet.adapters.slicer.prusa import parse_duration, profile_ini
from fabnet.domain.errors import CapabilityMismatch, SlicerFailed
from fabnet.fabrication.estimate import estimate
from fabnet.fabrication.profiles import REFERENCE
from fabnet.sim.parts import box_stl

PART = box_stl(30, 20, 10)


@pytest.fixture(params=["fake", "prusaslicer"])
def slicer(request):
    return FakeSlicer() if request.param == "fake" else PrusaSlicer()


def test_a_part_slices_to_gcode_with_time_and_filament(slicer):
    result = slicer.slice("part.stl", PART, REFERENCE)
    assert result.print_time_s > 60
    assert result.filament_g > 0 and result.filament_mm > 0
    assert b"G1" in result.gcode and b"G28" in result.gcode


def test_a_part_too_big_for_the_bed_is_a_capability_mismatch(slicer):
    small = replace(REFERENCE, bed_x_mm=20, bed_y_mm=20, max_height_mm=5)
    with pytest.raises(CapabilityMismatch):
        slicer.slice("part.stl", PART, small)


def test_the_fast_estimate_is_close_to_prusaslicer_on_a_plain_box():
    facts = TrimeshAnalyzer().analyse("part.stl", PART)
    fast = estimate(facts, REFERENCE)
    exact = PrusaSlicer().slice("part.stl", PART, REFERENCE)
    assert fast.print_time_s == pytest.approx(exact.print_time_s, rel=0.15)
    assert fast.filament_mm == pytest.approx(exact.filament_mm, rel=0.10)


def test_the_profile_reaches_prusaslicer(tmp_path):
    thin = replace(REFERENCE, layer_height_mm=0.1, first_layer_height_mm=0.2)
    fine = PrusaSlicer().slice("part.stl", PART, thin)
    coarse = PrusaSlicer().slice("part.stl", PART, REFERENCE)
    assert fine.print_time_s > 1.5 * coarse.print_time_s
    assert "layer_height = 0.1" in profile_ini(thin)


def test_a_missing_or_failing_slicer_is_a_clear_error():
    with pytest.raises(SlicerFailed, match="not installed"):
        PrusaSlicer(executable="no-such-slicer").slice("p.stl", PART, REFERENCE)
    with pytest.raises(SlicerFailed, match="exit code"):
        PrusaSlicer().slice("p.stl", b"solid junk\n", REFERENCE)


@pytest.mark.parametrize(
    ("text", "seconds"), [("1d 2h 3m 4s", 93784), ("12m 5s", 725), ("45s", 45)]
)
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


def test_prusaslicer_reads_a_binary_stl_without_normals():
    """admesh takes a binary STL whose first 128 bytes after the header hold no byte over
    127 for ASCII; small parts written with zero normals look like that."""
    import struct

    from fabnet.sim.parts import box_triangles

    raw = bytearray(b"no normals".ljust(80, b" ") + struct.pack("<I", 12))
    for a, b, c in box_triangles(10, 10, 3):
        raw += struct.pack("<12fH", 0.0, 0.0, 0.0, *a, *b, *c, 0)
    assert not any(x > 127 for x in raw[80:208])  # the case that fails to load as is
    result = PrusaSlicer().slice("small.stl", bytes(raw), REFERENCE)
    assert result.print_time_s > 0

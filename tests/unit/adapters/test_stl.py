import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.adapters.geometry import StlAnalyzer
from fabnet.domain.errors import BadMesh
from fabnet.sim.parts import ascii_stl, binary_stl, box_stl, box_triangles

reader = StlAnalyzer(max_triangles=1000)


def test_binary_and_ascii_give_the_same_facts():
    tris = box_triangles(12, 34, 5)
    a = reader.analyse("a.stl", binary_stl(tris))
    b = reader.analyse("b.STL", ascii_stl(tris))
    assert a.triangles == b.triangles == 12
    assert a.bbox_mm == pytest.approx((12, 34, 5))
    assert b.bbox_mm == pytest.approx((12, 34, 5))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x00" * 200, "not an STL"),
        (box_stl(1, 2, 3)[:-10], "not an STL"),
        (ascii_stl(box_triangles(1, 1, 1)).replace(b"endsolid part\n", b""), "truncated"),
        (
            b"solid x\nfacet normal 0 0 0\nouter loop\nvertex 1 2\nendloop\nendfacet\nendsolid x\n",
            "three numbers",
        ),
        (binary_stl([]), "no triangles"),
        (binary_stl([((0, 0, 0), (1, 0, 0), (2, 0, 0))]), "degenerate"),
        (binary_stl([((0, 0, 0), (1, 0, 0), (float("inf"), 1, 0))]), "infinite"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(BadMesh, match=reason):
        reader.analyse("x.stl", data)


def test_the_triangle_cap_is_enforced_before_reading_everything():
    header = b" " * 80 + struct.pack("<I", 5000)
    with pytest.raises(BadMesh, match="more than 1000"):
        reader.analyse("big.stl", header + b"\x00" * 50 * 5000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_reader(data):
    try:
        info = reader.analyse("fuzz.stl", data)
    except BadMesh:
        return
    assert info.triangles >= 1


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=600))
def test_mutated_stl_files_never_crash_the_reader(noise):
    data = bytearray(box_stl(5, 6, 7))
    for i, byte in enumerate(noise):
        data[(i * 7919) % len(data)] ^= byte
    with contextlib.suppress(BadMesh):
        reader.analyse("mut.stl", bytes(data))

"""Mesh intake: every format gives the same facts; every bad file is a clear BadMesh."""

from __future__ import annotations

import io
import math
import struct
import zipfile

import pytest

from fabnet.adapters.geometry import TrimeshAnalyzer
from fabnet.domain.errors import BadMesh
from tests.unit.adapters.meshes import ascii_stl, binary_stl, box_obj, box_triangles, three_mf

analyzer = TrimeshAnalyzer(max_triangles=1000, wall_samples=500)
BOX = box_triangles(10, 20, 30)


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("box.stl", binary_stl(BOX)),
        ("box.STL", ascii_stl(BOX)),
        ("box.obj", box_obj(10, 20, 30)),
        ("box.3mf", three_mf(10, 20, 30)),
    ],
)
def test_every_format_reads_the_same_box(filename, data):
    facts = analyzer.analyse(filename, data)
    assert facts.triangles == 12
    assert facts.watertight and facts.winding_consistent
    assert facts.volume_mm3 == pytest.approx(6000)
    assert facts.area_mm2 == pytest.approx(2 * (200 + 300 + 600))
    assert facts.bbox_mm == pytest.approx((10, 20, 30))
    assert facts.shells == 1
    assert facts.repairs == ()


def test_3mf_units_and_build_transforms_are_applied():
    facts = analyzer.analyse("cm.3mf", three_mf(1, 2, 3, unit="centimeter"))
    assert facts.bbox_mm == pytest.approx((10, 20, 30))
    # a build item scaled by 2 in x and moved: size doubles in x only
    moved = three_mf(10, 20, 30, transform="2 0 0 0 1 0 0 0 1 5 5 5")
    assert analyzer.analyse("t.3mf", moved).bbox_mm == pytest.approx((20, 20, 30))


def _zip(name: str, payload: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, payload)
    return out.getvalue()


def _flat() -> list:
    return [((0, 0, 0), (1, 0, 0), (0, 1, 0)), ((0, 0, 0), (0, 1, 0), (1, 0, 0))]


BAD = {
    "empty file": ("a.stl", b"", "empty"),
    "wrong extension": ("a.step", binary_stl(BOX), "unsupported file type"),
    "no extension": ("model", binary_stl(BOX), "unsupported file type"),
    "truncated binary STL": ("a.stl", binary_stl(BOX)[:-7], "truncated"),
    "binary junk": ("a.stl", bytes(range(256)) * 3, "truncated"),
    "tiny junk": ("a.stl", b"\x00\x01\x02", "not an STL"),
    "truncated ASCII STL": ("a.stl", ascii_stl(BOX)[:-40], "truncated ASCII STL"),
    "ASCII with a bad number": (
        "a.stl",
        ascii_stl(BOX).replace(b"vertex 0.000000 0.000000 0.000000", b"vertex 0 zero 0", 1),
        "not three numbers",
    ),
    "NaN vertex": ("a.stl", binary_stl([((0, 0, 0), (1, 0, 0), (math.nan, 1, 0))]), "NaN"),
    "infinite vertex": ("a.stl", binary_stl([((0, 0, 0), (1, 0, 0), (math.inf, 1, 0))]), "NaN"),
    "zero volume": ("a.stl", binary_stl(_flat()), "no volume"),
    "over the triangle cap": (
        "a.stl",
        b"x" * 80 + struct.pack("<I", 1001) + b"\x00" * 50 * 1001,
        "over the cap",
    ),
    "OBJ index out of range": ("a.obj", b"v 0 0 0\nv 1 0 0\nf 1 2 9\n", "does not exist"),
    "OBJ not text": ("a.obj", b"\xff\xfe\x00junk", "UTF-8"),
    "3MF not a zip": ("a.3mf", b"PK\x03\x04 not really", "zip archive"),
    "3MF without a model": ("a.3mf", _zip("readme.txt", b"hello"), "no 3D model"),
    "3MF with entities": (
        "a.3mf",
        three_mf(1, 1, 1, extra=b'<!DOCTYPE m [<!ENTITY a "aaaa">]>'),
        "DOCTYPE",
    ),
    "3MF zip bomb": ("a.3mf", _zip("3D/3dmodel.model", b"\x00" * (64 << 20)), "cap"),
    "open mesh": ("a.stl", binary_stl(BOX[:8]), "not closed"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_are_refused_with_the_reason(case):
    filename, data, words = BAD[case]
    with pytest.raises(BadMesh) as caught:
        analyzer.analyse(filename, data)
    assert caught.value.field == "file"
    assert words in caught.value.problem


def test_the_zip_bomb_is_stopped_before_it_is_unpacked():
    bomb = _zip("3D/3dmodel.model", b"\x00" * (64 << 20))
    assert len(bomb) < 100_000  # 64 MiB in under 100 kB: a 600x ratio
    with pytest.raises(BadMesh, match="over the cap"):
        analyzer.analyse("bomb.3mf", bomb)


def nested_3mf(levels: int, fan_out: int) -> bytes:
    """A few hundred bytes whose components expand to fan_out**levels placed copies."""
    import io
    import zipfile

    objects = [
        '<object id="0" type="model"><mesh><vertices><vertex x="0" y="0" z="0"/>'
        '<vertex x="1" y="0" z="0"/><vertex x="0" y="1" z="0"/></vertices>'
        '<triangles><triangle v1="0" v2="1" v3="2"/></triangles></mesh></object>'
    ]
    for level in range(1, levels + 1):
        comps = "".join(f'<component objectid="{level - 1}"/>' for _ in range(fan_out))
        objects.append(
            f'<object id="{level}" type="model"><components>{comps}</components></object>'
        )
    model = (
        '<model unit="millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
        f'<resources>{"".join(objects)}</resources><build><item objectid="{levels}"/></build></model>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z3:
        z3.writestr("3D/3dmodel.model", model)
    return out.getvalue()


def test_a_tiny_3mf_whose_components_explode_is_refused_before_it_is_built():
    import time
    import tracemalloc

    bomb = nested_3mf(9, 4)  # 262,144 placed copies
    assert len(bomb) < 1000
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(BadMesh, match="placed objects"):
        TrimeshAnalyzer(max_triangles=2_000_000).analyse("bomb.3mf", bomb)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 5 and peak < 50 * 2**20  # it took 68 s and 630 MB before
    from fabnet.adapters.geometry.readers import Limits, read_3mf

    shared = nested_3mf(3, 4)  # 64 copies of one triangle: fine, and parsed once
    assert len(read_3mf(shared, Limits())) == 64


def test_a_3mf_with_a_corrupt_relationships_part_is_a_bad_mesh():
    data = bytearray(three_mf(3, 4, 5))
    start = data.index(b"_rels/.rels") + len(b"_rels/.rels")  # the first local entry's data
    data[start + 5] ^= 0xFF  # its compressed bytes no longer match their CRC
    with pytest.raises(BadMesh, match=r"broken archive|not a 3MF|no 3D model"):
        analyzer.analyse("corrupt.3mf", bytes(data))

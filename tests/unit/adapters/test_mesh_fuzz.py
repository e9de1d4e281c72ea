"""Fuzz the mesh parsers: whatever the bytes, the answer is MeshFacts or BadMesh."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.adapters.geometry import TrimeshAnalyzer
from fabnet.domain.errors import BadMesh
from fabnet.fabrication.meshes import MeshFacts
from tests.unit.adapters.meshes import ascii_stl, binary_stl, box_obj, box_triangles, three_mf

analyzer = TrimeshAnalyzer(max_triangles=2000, wall_samples=200, layer_samples=4)
SEEDS = {
    "stl": binary_stl(box_triangles(3, 4, 5)),
    "ascii.stl": ascii_stl(box_triangles(3, 4, 5)),
    "obj": box_obj(3, 4, 5),
    "3mf": three_mf(3, 4, 5),
}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _survives(filename: str, data: bytes) -> None:
    refused: BadMesh | None = None
    try:
        facts = analyzer.analyse(filename, data)
    except BadMesh as exc:
        refused = exc
    if refused is not None:
        assert refused.field == "file"
        assert refused.problem
        return
    assert isinstance(facts, MeshFacts)
    assert facts.volume_mm3 > 0 and facts.triangles > 0


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.binary(max_size=600))
def test_random_bytes_never_crash_a_parser(kind, data):
    _survives("fuzz." + kind.split(".")[-1], data)


@FUZZ
@given(
    st.sampled_from(sorted(SEEDS)),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    st.integers(0, 10**6),
)
def test_mutated_files_never_crash_a_parser(kind, flips, cut):
    data = bytearray(SEEDS[kind])
    for where, value in flips:
        data[where % len(data)] = value
    data = data[: max(1, cut % (len(data) + 1))]
    _survives("fuzz." + kind.split(".")[-1], bytes(data))

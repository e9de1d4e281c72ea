"""A dependency-free STL reader (binary and ASCII): triangle count and bounding box.

It validates what it reads: the size of a binary file must match its triangle count,
coordinates must be finite, and there must be at least one triangle with some extent.
"""

from __future__ import annotations

import math
import struct
from array import array

from fabnet.domain.errors import BadMesh
from fabnet.services.ports import MeshInfo

_HEADER = 80
_RECORD = 50


class StlAnalyzer:
    def __init__(self, *, max_triangles: int = 2_000_000) -> None:
        self.max_triangles = max_triangles

    def analyse(self, filename: str, data: bytes) -> MeshInfo:
        if not filename.lower().endswith(".stl"):
            raise BadMesh("file", f"{filename!r}: only .stl files are read for now")
        if not data:
            raise BadMesh("file", "the file is empty")
        if self._looks_binary(data):
            coords, count = self._binary(data)
        elif data.lstrip()[:5].lower() == b"solid":
            coords, count = self._ascii(data)
        else:
            raise BadMesh("file", "not an STL file (neither binary nor ASCII STL)")
        return MeshInfo("model/stl", count, self._bbox(coords))

    def _looks_binary(self, data: bytes) -> bool:
        if len(data) < _HEADER + 4:
            return False
        count: int = struct.unpack_from("<I", data, _HEADER)[0]
        return len(data) == _HEADER + 4 + count * _RECORD

    def _binary(self, data: bytes) -> tuple[array[float], int]:
        (count,) = struct.unpack_from("<I", data, _HEADER)
        self._check_count(count)
        coords: array[float] = array("f")
        for record in struct.iter_unpack("<12fH", data[_HEADER + 4 :]):
            coords.extend(record[3:12])
        return coords, count

    def _ascii(self, data: bytes) -> tuple[array[float], int]:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise BadMesh("file", "an ASCII STL must be plain ASCII text") from None
        coords: array[float] = array("d")
        facets = 0
        for number, raw in enumerate(text.splitlines(), start=1):
            words = raw.split()
            if not words:
                continue
            if words[0] == "facet":
                facets += 1
                self._check_count(facets)
            elif words[0] == "vertex":
                if len(words) != 4:
                    raise BadMesh("file", f"line {number}: a vertex needs three numbers")
                try:
                    coords.extend(float(w) for w in words[1:])
                except ValueError:
                    raise BadMesh(
                        "file", f"line {number}: {raw.strip()!r} is not a vertex"
                    ) from None
        if len(coords) != facets * 9:
            raise BadMesh("file", "truncated ASCII STL: each facet needs three vertices")
        if "endsolid" not in text[-200:]:
            raise BadMesh("file", "truncated ASCII STL: no 'endsolid' at the end")
        return coords, facets

    def _check_count(self, count: int) -> None:
        if count > self.max_triangles:
            raise BadMesh("file", f"more than {self.max_triangles} triangles")

    @staticmethod
    def _bbox(coords: array[float]) -> tuple[float, float, float]:
        if not coords:
            raise BadMesh("file", "the mesh has no triangles")
        if not all(math.isfinite(c) for c in coords):
            raise BadMesh("file", "the mesh has NaN or infinite coordinates")
        sides = tuple(max(coords[i::3]) - min(coords[i::3]) for i in range(3))
        if sum(1 for s in sides if s > 0) < 2:
            raise BadMesh("file", "the mesh is degenerate (no extent in two axes)")
        return (sides[0], sides[1], sides[2])

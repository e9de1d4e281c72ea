"""Meshes made in code, for the demo, the simulator and tests."""

from __future__ import annotations

import struct

Vertex = tuple[float, float, float]


def box_triangles(x: float, y: float, z: float) -> list[tuple[Vertex, Vertex, Vertex]]:
    """The 12 outward-wound triangles of an axis-aligned box at the origin."""
    v = [(0.0, 0.0, 0.0), (x, 0.0, 0.0), (x, y, 0.0), (0.0, y, 0.0),
         (0.0, 0.0, z), (x, 0.0, z), (x, y, z), (0.0, y, z)]  # fmt: skip
    faces = [(0, 2, 1), (0, 3, 2), (4, 5, 6), (4, 6, 7), (0, 1, 5), (0, 5, 4),
             (1, 2, 6), (1, 6, 5), (2, 3, 7), (2, 7, 6), (3, 0, 4), (3, 4, 7)]  # fmt: skip
    return [(v[a], v[b], v[c]) for a, b, c in faces]


def _normal(a: Vertex, b: Vertex, c: Vertex) -> Vertex:
    u = (b[0] - a[0], b[1] - a[1], b[2] - a[2])
    v = (c[0] - a[0], c[1] - a[1], c[2] - a[2])
    n = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    length = (n[0] ** 2 + n[1] ** 2 + n[2] ** 2) ** 0.5
    if not length > 0:  # degenerate (or NaN): no normal
        return (0.0, 0.0, 0.0)
    return (n[0] / length, n[1] / length, n[2] / length)


def binary_stl(triangles: list[tuple[Vertex, Vertex, Vertex]], header: bytes = b"fabnet") -> bytes:
    out = bytearray(header[:80].ljust(80, b" "))
    out += struct.pack("<I", len(triangles))
    for a, b, c in triangles:
        out += struct.pack("<12fH", *_normal(a, b, c), *a, *b, *c, 0)
    return bytes(out)


def ascii_stl(triangles: list[tuple[Vertex, Vertex, Vertex]], name: str = "part") -> bytes:
    lines = [f"solid {name}"]
    for tri in triangles:
        lines.append("  facet normal 0 0 0")
        lines.append("    outer loop")
        lines.extend(f"      vertex {x:.6f} {y:.6f} {z:.6f}" for x, y, z in tri)
        lines.append("    endloop")
        lines.append("  endfacet")
    lines.append(f"endsolid {name}")
    return ("\n".join(lines) + "\n").encode("ascii")


def box_stl(x: float, y: float, z: float, *, label: str = "box") -> bytes:
    """A binary STL box; ``label`` goes into the header so that equal boxes can differ."""
    return binary_stl(box_triangles(x, y, z), header=label.encode())

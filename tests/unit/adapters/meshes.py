"""Mesh files made in code for the reader and analysis tests."""

from __future__ import annotations

import io
import zipfile

import trimesh

from fabnet.sim.parts import ascii_stl, binary_stl, box_triangles

__all__ = ["ascii_stl", "binary_stl", "box_obj", "box_triangles", "stl_of", "three_mf"]


def stl_of(mesh: trimesh.Trimesh) -> bytes:
    return bytes(trimesh.exchange.stl.export_stl(mesh))


def box_obj(x: float, y: float, z: float) -> bytes:
    """An OBJ box with quad faces, some written with negative (relative) indices."""
    v = [(0, 0, 0), (x, 0, 0), (x, y, 0), (0, y, 0), (0, 0, z), (x, 0, z), (x, y, z), (0, y, z)]
    lines = ["# box", *(f"v {a} {b} {c}" for a, b, c in v), "vn 0 0 1"]
    quads = [(1, 4, 3, 2), (5, 6, 7, 8), (1, 2, 6, 5), (2, 3, 7, 6), (3, 4, 8, 7)]
    lines += [f"f {a}//1 {b}//1 {c}//1 {d}//1" for a, b, c, d in quads]
    lines.append("f -8 -4 -1 -5")  # 1 5 8 4, written relative to the 8 vertices read
    return ("\n".join(lines) + "\n").encode()


def three_mf(
    x: float,
    y: float,
    z: float,
    *,
    unit: str = "millimeter",
    transform: str = "",
    extra: bytes = b"",
) -> bytes:
    v = [(0, 0, 0), (x, 0, 0), (x, y, 0), (0, y, 0), (0, 0, z), (x, 0, z), (x, y, z), (0, y, z)]
    faces = [(0, 2, 1), (0, 3, 2), (4, 5, 6), (4, 6, 7), (0, 1, 5), (0, 5, 4),
             (1, 2, 6), (1, 6, 5), (2, 3, 7), (2, 7, 6), (3, 0, 4), (3, 4, 7)]  # fmt: skip
    verts = "".join(f'<vertex x="{a}" y="{b}" z="{c}"/>' for a, b, c in v)
    tris = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in faces)
    item = f'<item objectid="1" transform="{transform}"/>' if transform else '<item objectid="1"/>'
    model = (
        f'<?xml version="1.0" encoding="UTF-8"?>{extra.decode()}'
        f'<model unit="{unit}" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
        f'<resources><object id="2" type="model"><mesh><vertices>{verts}</vertices>'
        f"<triangles>{tris}</triangles></mesh></object>"
        '<object id="1" type="model"><components><component objectid="2"/></components>'
        f"</object></resources><build>{item}</build></model>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z3:
        z3.writestr(
            "_rels/.rels",
            '<Relationships><Relationship Target="/3D/3dmodel.model" Id="r0" '
            'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>',
        )
        z3.writestr("3D/3dmodel.model", model)
    return out.getvalue()

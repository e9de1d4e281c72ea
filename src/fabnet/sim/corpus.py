"""A corpus of varied printable parts, generated in code (manifold3d booleans).

Boxes, cylinders, tubes, brackets with holes, lattices, thin-walled cups, organic blobs,
tall and flat parts: the shapes whose print time a quote must get right. ``corpus(seed)``
is deterministic; the benchmark and the calibration use different seeds.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import trimesh
from manifold3d import Manifold, OpType

Rng = np.random.Generator


@dataclass(frozen=True)
class Part:
    name: str
    mesh: trimesh.Trimesh

    def stl(self) -> bytes:
        out = io.BytesIO()
        self.mesh.export(out, file_type="stl")
        return out.getvalue()


def _tm(m: Manifold) -> trimesh.Trimesh:
    mesh = m.to_mesh()
    tm = trimesh.Trimesh(np.asarray(mesh.vert_properties)[:, :3], np.asarray(mesh.tri_verts))
    tm.apply_translation(-tm.bounds[0])  # on the bed, at the origin corner
    return tm


def _u(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def box(rng: Rng) -> Manifold:
    return Manifold.cube([_u(rng, 10, 80), _u(rng, 10, 80), _u(rng, 5, 50)])


def cylinder(rng: Rng) -> Manifold:
    r = _u(rng, 5, 35)
    return Manifold.cylinder(_u(rng, 5, 60), r, r, 96)


def tube(rng: Rng) -> Manifold:
    r = _u(rng, 8, 30)
    h = _u(rng, 10, 60)
    wall = _u(rng, 1.5, 5)
    outer = Manifold.cylinder(h, r, r, 96)
    return outer - Manifold.cylinder(h + 2, r - wall, r - wall, 96).translate([0, 0, -1])


def bracket(rng: Rng) -> Manifold:
    width, length, thick = _u(rng, 15, 40), _u(rng, 30, 70), _u(rng, 3, 8)
    height = _u(rng, 20, 50)
    base = Manifold.cube([length, width, thick])
    wall = Manifold.cube([thick, width, height])
    part = base + wall
    hole_r = _u(rng, 1.5, 4)
    for i in range(int(rng.integers(1, 4))):
        x = thick + (i + 1) * (length - thick) / 4
        part -= Manifold.cylinder(thick + 2, hole_r, hole_r, 48).translate([x, width / 2, -1])
    hole = Manifold.cylinder(thick + 2, hole_r, hole_r, 48)
    side = hole.rotate([0, 90, 0]).translate([-1, width / 2, height * 0.7])
    return part - side


def lattice(rng: Rng) -> Manifold:
    n = int(rng.integers(3, 6))
    pitch, bar = _u(rng, 6, 14), _u(rng, 1.2, 3)
    size = n * pitch
    bars = []
    for i in range(n + 1):
        for j in range(n + 1):
            bars.append(Manifold.cube([bar, bar, size]).translate([i * pitch, j * pitch, 0]))
            bars.append(Manifold.cube([size + bar, bar, bar]).translate([0, i * pitch, j * pitch]))
            bars.append(Manifold.cube([bar, size + bar, bar]).translate([i * pitch, 0, j * pitch]))
    return Manifold.batch_boolean(bars, OpType.Add)


def thin_cup(rng: Rng) -> Manifold:
    x, y, z = _u(rng, 20, 60), _u(rng, 20, 60), _u(rng, 15, 50)
    wall = _u(rng, 0.6, 1.4)
    outer = Manifold.cube([x, y, z])
    return outer - Manifold.cube([x - 2 * wall, y - 2 * wall, z]).translate([wall, wall, wall])


def blob(rng: Rng) -> Manifold:
    parts = [Manifold.sphere(_u(rng, 8, 18), 64)]
    for _ in range(int(rng.integers(2, 6))):
        c = rng.normal(0, 10, size=3)
        parts.append(Manifold.sphere(_u(rng, 5, 14), 48).translate(c.tolist()))
    return Manifold.batch_boolean(parts, OpType.Add)


def tall(rng: Rng) -> Manifold:
    side = _u(rng, 4, 12)
    sides = int(rng.integers(5, 9))
    return Manifold.cylinder(_u(rng, 60, 150), side, side * _u(rng, 0.4, 1.0), sides)


def flat(rng: Rng) -> Manifold:
    x, y, t = _u(rng, 40, 120), _u(rng, 30, 100), _u(rng, 1.0, 4.0)
    plate = Manifold.cube([x, y, t])
    r = _u(rng, 2, 6)
    for _ in range(int(rng.integers(0, 5))):
        cx, cy = _u(rng, r + 2, x - r - 2), _u(rng, r + 2, y - r - 2)
        plate -= Manifold.cylinder(t + 2, r, r, 48).translate([cx, cy, -1])
    return plate


def cone_part(rng: Rng) -> Manifold:
    r = _u(rng, 8, 30)
    return Manifold.cylinder(_u(rng, 10, 50), r, _u(rng, 0, r * 0.6), 96)


def headband(rng: Rng) -> Manifold:
    """A face-shield headband: a flat arc of a ring, a few millimetres thick."""
    r, wall, h = _u(rng, 70, 95), _u(rng, 3, 6), _u(rng, 10, 20)
    ring = Manifold.cylinder(h, r + wall, r + wall, 180) - Manifold.cylinder(
        h + 2, r, r, 180
    ).translate([0, 0, -1])
    return ring ^ Manifold.cube([2 * r + 4 * wall, r + wall + 1, h]).translate(
        [-(r + 2 * wall), 0, 0]
    )


KINDS: dict[str, Callable[[Rng], Manifold]] = {
    "box": box,
    "cylinder": cylinder,
    "tube": tube,
    "bracket": bracket,
    "lattice": lattice,
    "thin-cup": thin_cup,
    "blob": blob,
    "tall": tall,
    "flat": flat,
    "cone": cone_part,
    "headband": headband,
}


def corpus(seed: int, per_kind: int = 3) -> list[Part]:
    """``per_kind`` parts of each kind, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(per_kind):
        for kind, make in KINDS.items():
            parts.append(Part(f"{kind}-{seed}-{i}", _tm(make(rng))))
    return parts

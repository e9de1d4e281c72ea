"""The test coupon's mesh, made by fabnet itself (manifold3d): a 40 x 20 x 5 mm plate with
a 6 mm and a 3 mm through hole and two 8 mm fins, 1.2 and 0.8 mm thick (the nominal
features are fabrication/qualification.py's COUPON)."""

from __future__ import annotations

from functools import cache

import numpy as np
import trimesh
from manifold3d import Manifold


@cache
def coupon_stl() -> bytes:
    plate = Manifold.cube([40.0, 20.0, 5.0])
    large = Manifold.cylinder(20.0, 3.0, 3.0, 96).translate([10.0, 10.0, -5.0])
    small = Manifold.cylinder(20.0, 1.5, 1.5, 64).translate([22.0, 10.0, -5.0])
    thick = Manifold.cube([1.2, 14.0, 8.0]).translate([30.0, 3.0, 5.0])
    thin = Manifold.cube([0.8, 14.0, 8.0]).translate([34.0, 3.0, 5.0])
    mesh = ((plate - large - small) + thick + thin).to_mesh()
    tm = trimesh.Trimesh(
        np.asarray(mesh.vert_properties)[:, :3], np.asarray(mesh.tri_verts), process=False
    )
    return bytes(trimesh.exchange.stl.export_stl(tm))

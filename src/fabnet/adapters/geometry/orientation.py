"""Which way up a part prints, and its cross-sections: the orientations the quote weighs
(footprint, height, overhang and support area) and the area of layers sampled at heights
(the fast estimate's inputs), vectorised over the mesh's faces."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

from fabnet.adapters.geometry.keys import group
from fabnet.adapters.geometry.readers import Triangles
from fabnet.fabrication.meshes import LayerSample, Orientation

COS_45 = math.cos(math.radians(45))


def orientations(
    verts: NDArray[np.float64],
    tri: Triangles,
    areas: NDArray[np.float64],
    normals: NDArray[np.float64],
    fmin: NDArray[np.float64],
    fmax: NDArray[np.float64],
) -> tuple[Orientation, ...]:
    """The six axis-aligned ways up, and the one of least height (from the hull)."""
    lo, hi = fmin.min(axis=0), fmax.max(axis=0)
    span = hi - lo
    out: list[Orientation] = []
    for axis, name in enumerate("xyz"):
        others = [span[i] for i in range(3) if i != axis]
        for sign, word in ((1.0, "up"), (-1.0, "down")):
            facing = sign * normals[:, axis]
            if sign > 0:
                on_bed = (facing < -0.999) & (fmax[:, axis] - lo[axis] < 1e-3)
            else:
                on_bed = (facing < -0.999) & (hi[axis] - fmin[:, axis] < 1e-3)
            overhang = (facing < -COS_45) & ~on_bed
            up = [0.0, 0.0, 0.0]
            up[axis] = sign
            out.append(
                Orientation(
                    name=f"{name} {word}",
                    up=(up[0], up[1], up[2]),
                    size_mm=(float(others[0]), float(others[1]), float(span[axis])),
                    overhang_area_mm2=float(areas[overhang].sum()),
                )
            )
    flat = _least_height_up(verts)
    if flat is not None:
        out.append(_orientation("least height", flat, verts, tri, areas, normals))
    out.sort(key=lambda o: o.name != "z up")  # the given orientation first
    return tuple(out)


def _least_height_up(
    verts: NDArray[np.float64], candidates: int = 256
) -> NDArray[np.float64] | None:
    """The least height rests on a face of the convex hull; the largest hull faces are
    tried (a part is stable on a large face), their heights measured in chunks."""
    span = float(np.ptp(verts, axis=0).max())
    coarse = verts
    if len(verts) > 20_000:  # the hull of a 1/64-of-the-size grid is close enough
        cells = np.round(verts / (span / 64)).astype(np.int64)
        first, _ = group((cells[:, 0] * 1031 + cells[:, 1]) * 1031 + cells[:, 2])
        coarse = verts[first]
    try:
        hull = ConvexHull(coarse)
    except (QhullError, ValueError):
        return None
    corners = hull.points[hull.simplices]
    facet_area = np.linalg.norm(
        np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
    )
    chosen = np.argsort(facet_area)[::-1][:candidates]
    outward = hull.equations[chosen, :3]
    offset = hull.equations[chosen, 3]
    points = coarse[hull.vertices]
    heights = np.empty(len(chosen))
    for start in range(0, len(chosen), 64):
        part = slice(start, start + 64)
        heights[part] = (points @ -outward[part].T).max(axis=0) - offset[part]
    up: NDArray[np.float64] = -outward[int(np.argmin(heights))]
    return up


def _basis(up: NDArray[np.float64]) -> NDArray[np.float64]:
    up = up / np.linalg.norm(up)
    helper = np.array([1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, up)
    x /= np.linalg.norm(x)
    y = np.cross(up, x)
    return np.stack([x, y, up])


def _orientation(
    name: str,
    up: NDArray[np.float64],
    verts: NDArray[np.float64],
    tri: Triangles,
    areas: NDArray[np.float64],
    normals: NDArray[np.float64],
) -> Orientation:
    axes = _basis(up)
    local = verts @ axes.T
    size_xy = _min_area_rect(local[:, :2])
    heights = tri @ axes[2]
    base = float(local[:, 2].min())
    facing = normals @ axes[2]
    top = np.maximum(np.maximum(heights[:, 0], heights[:, 1]), heights[:, 2])
    on_bed = (facing < -0.999) & (top - base < 1e-3)
    overhang = (facing < -COS_45) & ~on_bed
    return Orientation(
        name=name,
        up=(float(axes[2][0]), float(axes[2][1]), float(axes[2][2])),
        size_mm=(size_xy[0], size_xy[1], float(np.ptp(local[:, 2]))),
        overhang_area_mm2=float(areas[overhang].sum()),
    )


def _min_area_rect(points: NDArray[np.float64]) -> tuple[float, float]:
    try:
        ring = points[ConvexHull(points).vertices]
    except (QhullError, ValueError):
        span = np.ptp(points, axis=0)
        return float(span[0]), float(span[1])
    edges = np.roll(ring, -1, axis=0) - ring
    angles = np.arctan2(edges[:, 1], edges[:, 0])
    c, s = np.cos(angles), np.sin(angles)
    u = ring @ np.stack([c, s])  # (points, edges): coordinate along each edge direction
    w = ring @ np.stack([-s, c])
    du, dw = np.ptp(u, axis=0), np.ptp(w, axis=0)
    best = int(np.argmin(du * dw))
    return float(du[best]), float(dw[best])


def sections(
    verts: NDArray[np.float64],
    faces: NDArray[np.int64],
    count: int,
    fmin: NDArray[np.float64],
    fmax: NDArray[np.float64],
) -> tuple[LayerSample, ...]:
    """Cut the mesh at ``count`` evenly spaced heights; each cut's closed loops (their
    lengths) and enclosed area. A face crossing the plane gives one segment between two
    of its edges; segments sharing an edge join into loops (connected components)."""
    z = verts[:, 2]
    lo, hi = float(z.min()), float(z.max())
    out: list[LayerSample] = []
    n = len(verts)
    for i in range(count):
        level = lo + (hi - lo) * (i + 0.5) / count
        level = float(np.nextafter(level, hi)) if np.any(z == level) else level
        crossing = np.flatnonzero((fmin < level) & (fmax > level))
        if len(crossing) == 0:
            out.append(LayerSample(level, 0.0, ()))
            continue
        f = faces[crossing]
        above = z[f] > level
        # the corner alone on its side of the plane, and the two edges leaving it
        lone = np.where(above.sum(axis=1) == 1, np.argmax(above, axis=1), np.argmin(above, axis=1))
        rows = np.arange(len(f))
        a = f[rows, lone]
        b = f[rows, (lone + 1) % 3]
        c = f[rows, (lone + 2) % 3]
        p1 = _cut(verts[a], verts[b], level)
        p2 = _cut(verts[a], verts[c], level)
        flip = above[rows, lone]  # orient every segment the same way round its loop
        p1[flip], p2[flip] = p2[flip], p1[flip].copy()
        e1 = np.minimum(a, b) * n + np.maximum(a, b)
        e2 = np.minimum(a, c) * n + np.maximum(a, c)
        keys, inverse = np.unique(np.concatenate([e1, e2]), return_inverse=True)
        m = len(f)
        graph = coo_matrix(
            (np.ones(m, dtype=np.int8), (inverse[:m], inverse[m:])), (len(keys),) * 2
        )
        _, label = connected_components(graph, directed=False)
        seg_len = np.linalg.norm(p2[:, :2] - p1[:, :2], axis=1)
        loop = label[inverse[:m]]
        lengths = np.bincount(loop, weights=seg_len)
        # shoelace over the oriented segments: outlines and holes have opposite signs
        cross = p1[:, 0] * p2[:, 1] - p2[:, 0] * p1[:, 1]
        enclosed = abs(float(cross.sum())) / 2
        out.append(LayerSample(level, enclosed, tuple(float(x) for x in lengths[lengths > 0])))
    return tuple(out)


def _cut(p: NDArray[np.float64], q: NDArray[np.float64], level: float) -> NDArray[np.float64]:
    t = (level - p[:, 2]) / (q[:, 2] - p[:, 2])
    return p + t[:, None] * (q - p)

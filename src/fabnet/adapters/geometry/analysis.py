"""Mesh analysis and safe repair: the ``MeshAnalyzer`` port with numpy and trimesh.

The checks that must stay fast on a million faces (vertex welding, edge counts,
volume, shells, the integrals of the fast estimate) are vectorised here; trimesh does
the repairs that need topology (consistent winding, small holes) and only under
``repair_cap`` faces, because on a badly broken large mesh they can take minutes.
What was repaired is listed; what cannot be repaired is refused with the reason.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import trimesh
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError, cKDTree

from fabnet.adapters.geometry.readers import Limits, Triangles, read_mesh
from fabnet.adapters.geometry.stitch import split_needles, stitch
from fabnet.domain.errors import BadMesh
from fabnet.fabrication.meshes import LayerSample, MeshFacts, Orientation

COS_45 = math.cos(math.radians(45))
_K = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


@dataclass(frozen=True, slots=True)
class Welded:
    vertices: NDArray[np.float64]
    faces: NDArray[np.int64]


class TrimeshAnalyzer:
    """Reads STL/OBJ/3MF, repairs what is safe to repair, and measures the mesh."""

    def __init__(
        self,
        *,
        max_triangles: int = 2_000_000,
        repair_cap: int = 250_000,
        wall_samples: int = 6_000,
        wall_probe_mm: float = 3.0,
        seed: int = 0,
        layer_samples: int = 24,
    ) -> None:
        self.layer_samples = layer_samples
        self.limits = Limits(max_triangles=max_triangles)
        self.repair_cap = repair_cap
        self.wall_samples = wall_samples
        self.wall_probe_mm = wall_probe_mm
        self.seed = seed

    def analyse(self, filename: str, data: bytes) -> MeshFacts:
        kind, tris = read_mesh(filename, data, self.limits)
        return self.analyse_triangles(tris, media_type=kind)

    def analyse_triangles(self, tris: Triangles, *, media_type: str = "model/stl") -> MeshFacts:
        if not np.isfinite(tris).all():
            bad = int(np.flatnonzero(~np.isfinite(tris).reshape(len(tris), -1).all(axis=1))[0])
            raise BadMesh("file", f"triangle {bad} has a NaN or infinite coordinate")
        repairs: list[str] = []
        warnings: list[str] = []
        mesh = weld(tris)
        verts = mesh.vertices
        f = mesh.faces
        collapsed = (f[:, 0] == f[:, 1]) | (f[:, 1] == f[:, 2]) | (f[:, 0] == f[:, 2])
        cross = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
        zero_area = ~_nondegenerate(mesh, cross) & ~collapsed
        degenerate = int(collapsed.sum())
        index = np.flatnonzero(~collapsed)
        index = index[_first_of_duplicates(f[index])]
        duplicates = len(f) - degenerate - len(index)
        if len(index) == 0 or not (~zero_area[index]).any():
            raise BadMesh("file", "every face is degenerate: the mesh has no area")
        faces = f[index]
        needles = np.flatnonzero(zero_area[index])
        split = 0
        for _ in range(4):  # a split can leave a needle of its own: a few passes
            if not len(needles):
                break
            faces, done = split_needles(verts, faces, needles)
            split += done
            needles = np.flatnonzero(_zero_area(verts, faces))
            if not done:
                break
        if len(needles):
            left = needles
            if len(left):  # stray ones (not part of the surface) go; the others stay
                without = np.delete(faces, left, axis=0)
                if edge_report(without, len(verts))[0] <= edge_report(faces, len(verts))[0]:
                    faces, degenerate = without, degenerate + len(left)
                else:
                    warnings.append(f"kept {len(left)} zero-area faces (no area, no volume)")
        if degenerate:
            repairs.append(f"removed {degenerate} degenerate faces")
        if split:
            repairs.append(
                f"removed {split} zero-area faces, splitting the face across each "
                "so the surface stays closed"
            )
        degenerate += split
        if duplicates:
            repairs.append(f"removed {duplicates} duplicate faces")
        open_edges, _, _ = edge_report(faces, len(verts))
        if open_edges and len(faces) <= self.repair_cap:  # above it: refused, said below
            diag = float(np.linalg.norm(np.ptp(verts, axis=0)))
            faces, merged, tol = stitch(verts, faces, [diag * 1e-6, diag * 1e-5, diag * 1e-4])
            if merged:
                repairs.append(
                    f"stitched {merged} near-coincident vertices on open edges "
                    f"(within {tol:.2g} mm)"
                )
        tri = verts[faces]
        cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        open_edges, non_manifold, consistent = edge_report(faces, len(verts))
        if open_edges or not consistent:
            verts, faces, open_edges, non_manifold, consistent = self._repair(
                verts, faces, open_edges, consistent, repairs, warnings
            )
            tri = verts[faces]
            cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        if open_edges:
            raise BadMesh(
                "file",
                f"the mesh is not closed: {open_edges} open edges remain after repair, "
                "so it has no inside and no volume",
            )
        if non_manifold:
            warnings.append(f"{non_manifold} edges are shared by more than two faces")
        # v0 . (v1 - v0) x (v2 - v0) == v0 . v1 x v2: the signed volume from the cross
        volume = float(np.einsum("ij,ij->", tri[:, 0], cross)) / 6.0
        if volume < 0:
            faces = faces[:, ::-1]
            tri = tri[:, ::-1]
            cross = -cross
            volume = -volume
            repairs.append("the normals pointed inward: turned the mesh inside out")
        lo, hi = verts.min(axis=0), verts.max(axis=0)
        bbox = tuple(float(s) for s in hi - lo)
        if volume <= 1e-9 * max(float(np.prod(hi - lo)), 1e-9) or volume < 1e-6:
            raise BadMesh("file", "the mesh encloses no volume (flat or zero volume)")
        doubled = np.sqrt(np.einsum("ij,ij->i", cross, cross))
        areas = doubled / 2
        normals = cross / np.where(doubled > 0, doubled, 1.0)[:, None]
        nz = normals[:, 2]
        fmin = np.minimum(np.minimum(tri[:, 0], tri[:, 1]), tri[:, 2])  # 3x faster than
        fmax = np.maximum(np.maximum(tri[:, 0], tri[:, 1]), tri[:, 2])  # .min(axis=1)
        on_bed = (nz < -0.999) & (fmax[:, 2] - lo[2] < 1e-3)
        # independent measurements; numpy lets go of the GIL in its loops, so on a large
        # mesh they run side by side on the machine's cores
        with ThreadPoolExecutor(max_workers=3) as pool:
            f_wall = pool.submit(self._min_wall, tri, areas, normals)
            f_shells = pool.submit(shells, faces, len(verts))
            f_hull = pool.submit(_hull_perimeter, verts[:, :2])
            f_turns = pool.submit(orientations, verts, tri, areas, normals, fmin, fmax)
            f_cuts = pool.submit(sections, verts, faces, self.layer_samples, fmin[:, 2], fmax[:, 2])
        min_wall = f_wall.result()
        if not consistent:
            warnings.append("the faces are not wound consistently; normals may be wrong")
        return MeshFacts(
            media_type=media_type,
            triangles=len(faces),
            watertight=not open_edges and not non_manifold,
            winding_consistent=consistent,
            volume_mm3=float(volume),
            area_mm2=float(areas.sum()),
            bbox_mm=(bbox[0], bbox[1], bbox[2]),
            shells=f_shells.result(),
            degenerate_faces=degenerate,
            wall_area_mm2=float((areas * np.sqrt(np.clip(1 - nz * nz, 0, 1))).sum()),
            up_area_mm2=float((areas * np.clip(nz, 0, None)).sum()),
            down_area_mm2=float((areas * np.clip(-nz, 0, None)).sum()),
            bed_area_mm2=float(areas[on_bed].sum()),
            footprint_perimeter_mm=f_hull.result(),
            min_wall_mm=min_wall,
            orientations=f_turns.result(),
            layers=f_cuts.result(),
            repairs=tuple(repairs),
            warnings=tuple(warnings),
        )

    def _repair(
        self,
        verts: NDArray[np.float64],
        faces: NDArray[np.int64],
        open_edges: int,
        consistent: bool,
        repairs: list[str],
        warnings: list[str],
    ) -> tuple[NDArray[np.float64], NDArray[np.int64], int, int, bool]:
        if len(faces) > self.repair_cap:
            warnings.append(
                f"not repaired: {len(faces)} faces is over the repair cap of {self.repair_cap}"
            )
            open_edges, non_manifold, consistent = edge_report(faces, len(verts))
            return verts, faces, open_edges, non_manifold, consistent
        tm = trimesh.Trimesh(verts, faces, process=False, validate=False)
        if open_edges:
            before = len(tm.faces)
            trimesh.repair.fill_holes(tm)
            if len(tm.faces) > before:
                repairs.append(f"filled small holes with {len(tm.faces) - before} faces")
        if not consistent:
            trimesh.repair.fix_winding(tm)  # type: ignore[no-untyped-call]
        verts = np.asarray(tm.vertices, dtype=np.float64)
        faces = np.asarray(tm.faces, dtype=np.int64)
        open_edges, non_manifold, now_consistent = edge_report(faces, len(verts))
        if now_consistent and not consistent:
            repairs.append("made the winding of the faces consistent")
        return verts, faces, open_edges, non_manifold, now_consistent

    def _min_wall(
        self, tri: Triangles, areas: NDArray[np.float64], normals: NDArray[np.float64]
    ) -> float | None:
        """Thinnest wall seen from points sampled on the surface: for each sample, the
        nearest sample behind it that faces the other way, measured along its normal."""
        rng = np.random.default_rng(self.seed)
        total = areas.sum()
        n = self.wall_samples
        face = rng.choice(len(tri), size=n, p=areas / total)
        u, v = rng.random(n), rng.random(n)
        flip = u + v > 1
        u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
        t = tri[face]
        points = t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])
        normal = normals[face]
        k = min(12, n)
        dist, idx = cKDTree(points).query(points, k=k, distance_upper_bound=self.wall_probe_mm)
        found = np.isfinite(dist)
        idx = np.where(found, idx, 0)
        offset = points[:, None, :] - points[idx]  # from the neighbour to the sample
        depth = np.einsum("ijk,ik->ij", offset, normal)
        facing = np.einsum("ijk,ik->ij", normals[face][idx], normal)
        lateral = np.sqrt(np.clip((offset**2).sum(axis=2) - depth**2, 0, None))
        ok = found & (facing < -0.7) & (depth > 1e-6) & (lateral < np.maximum(depth, 0.5))
        if not ok.any():
            return None
        thickness = np.where(ok, depth, np.inf).min(axis=1)
        seen = thickness[np.isfinite(thickness)]
        # a 5% quantile, not the minimum: one unlucky pair of samples is not a wall
        return float(np.quantile(seen, 0.05)) if len(seen) >= 20 else float(seen.min())


def weld(tris: Triangles) -> Welded:
    """Merge corners with identical coordinates into shared vertices (hash, then check)."""
    flat = np.ascontiguousarray(tris.reshape(-1, 3) + 0.0)  # + 0.0 folds -0.0 into 0.0
    bits = flat.view(np.uint64)
    key = _mix(_mix(_mix(bits[:, 0]) + bits[:, 1]) + bits[:, 2])
    first, inverse = _group(key)
    vertices = flat[first]
    if not np.array_equal(vertices[inverse], flat):  # a hash collision: do it exactly
        vertices, inverse = np.unique(flat, axis=0, return_inverse=True)
    return Welded(vertices, inverse.reshape(-1, 3).astype(np.int64))


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: every input bit reaches every output bit."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _K[0]
        z = (z ^ (z >> np.uint64(27))) * _K[1]
        return z ^ (z >> np.uint64(31))


def _group(
    key: NDArray[np.uint64] | NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """np.unique(key, return_index, return_inverse) in one quicksort (3x faster)."""
    order = np.argsort(key)
    ranked = key[order]
    new = np.empty(len(key), dtype=bool)
    new[:1] = True
    np.not_equal(ranked[1:], ranked[:-1], out=new[1:])
    inverse = np.empty(len(key), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


def _nondegenerate(mesh: Welded, cross: NDArray[np.float64]) -> NDArray[np.bool_]:
    f = mesh.faces
    scale = max(float(np.ptp(mesh.vertices, axis=0).max()), 1e-9)
    keep = (f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])
    keep &= np.einsum("ij,ij->i", cross, cross) > (1e-12 * scale * scale) ** 2
    return np.asarray(keep, dtype=bool)


def _zero_area(verts: NDArray[np.float64], faces: NDArray[np.int64]) -> NDArray[np.bool_]:
    tri = verts[faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    scale = max(float(np.ptp(verts, axis=0).max()), 1e-9)
    return np.asarray(np.einsum("ij,ij->i", cross, cross) <= (1e-12 * scale * scale) ** 2)


def _first_of_duplicates(faces: NDArray[np.int64]) -> NDArray[np.int64]:
    """Indices of the faces to keep: the first of each set with the same three corners."""
    if len(faces) == 0:
        return np.zeros(0, dtype=np.int64)
    ordered = np.sort(faces, axis=1)
    n = int(faces.max()) + 1
    if n < 2_000_000:  # n**3 fits in int64: one integer key per face
        key = (ordered[:, 0] * n + ordered[:, 1]) * n + ordered[:, 2]
        first, _ = _group(key)
    else:
        _, first = np.unique(ordered, axis=0, return_index=True)
    return np.sort(first)


def edge_report(faces: NDArray[np.int64], n_vertices: int) -> tuple[int, int, bool]:
    """(open edges, edges on more than two faces, winding consistent)."""
    directed = np.stack([faces, np.roll(faces, -1, axis=1)], axis=2).reshape(-1, 2)
    lo = np.minimum(directed[:, 0], directed[:, 1])
    hi = np.maximum(directed[:, 0], directed[:, 1])
    undirected = np.sort(lo * n_vertices + hi)
    starts = np.flatnonzero(np.r_[True, undirected[1:] != undirected[:-1]])
    counts = np.diff(np.r_[starts, len(undirected)])
    open_edges = int((counts == 1).sum())
    non_manifold = int((counts > 2).sum())
    keys = np.sort(directed[:, 0] * n_vertices + directed[:, 1])
    consistent = not bool((keys[1:] == keys[:-1]).any())  # each edge once each way round
    return open_edges, non_manifold, consistent


def signed_volume(tri: Triangles) -> float:
    return float(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0)


def shells(faces: NDArray[np.int64], n_vertices: int) -> int:
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]]])
    graph = coo_matrix(
        (np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])),
        shape=(n_vertices, n_vertices),
    )
    _, labels = connected_components(graph, directed=False)
    return len(np.unique(labels[faces[:, 0]]))


def _hull_perimeter(points: NDArray[np.float64]) -> float:
    try:
        hull = ConvexHull(points)
    except (QhullError, ValueError):
        return float(2 * np.ptp(points, axis=0).sum())
    ring = points[hull.vertices]
    return float(np.linalg.norm(ring - np.roll(ring, 1, axis=0), axis=1).sum())


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
        first, _ = _group((cells[:, 0] * 1031 + cells[:, 1]) * 1031 + cells[:, 2])
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

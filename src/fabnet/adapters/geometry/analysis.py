"""Mesh analysis and safe repair: the ``MeshAnalyzer`` port with numpy and trimesh.

The checks that must stay fast on a million faces (vertex welding, edge counts,
volume, shells, the integrals of the fast estimate) are vectorised here; trimesh does
the repairs that need topology (consistent winding, small holes) and only under
``repair_cap`` faces, because on a badly broken large mesh they can take minutes.
What was repaired is listed; what cannot be repaired is refused with the reason.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import trimesh
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError, cKDTree

from fabnet.adapters.geometry.keys import group, mix
from fabnet.adapters.geometry.orientation import orientations, sections
from fabnet.adapters.geometry.readers import Limits, Triangles, read_mesh
from fabnet.adapters.geometry.stitch import split_needles, stitch
from fabnet.domain.errors import BadMesh
from fabnet.fabrication.meshes import MeshFacts


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
        notes = _Notes()
        mesh = weld(tris)
        faces = _cleaned(mesh, tris, notes)
        verts, faces = self._closed(mesh.vertices, faces, notes)
        faces, tri, cross, volume = _outward(verts, faces, notes)
        return self._measured(media_type, verts, faces, tri, cross, volume, notes)

    def _closed(
        self, verts: NDArray[np.float64], faces: NDArray[np.int64], notes: _Notes
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """The surface closed where it safely can be (near-coincident vertices on open
        edges stitched, small holes filled, winding made consistent); refused when open
        edges remain."""
        open_edges, _, _ = edge_report(faces, len(verts))
        if open_edges and len(faces) <= self.repair_cap:  # above it: refused, said below
            diag = float(np.linalg.norm(np.ptp(verts, axis=0)))
            faces, merged, tol = stitch(verts, faces, [diag * 1e-6, diag * 1e-5, diag * 1e-4])
            if merged:
                notes.repairs.append(
                    f"stitched {merged} near-coincident vertices on open edges "
                    f"(within {tol:.2g} mm)"
                )
        open_edges, non_manifold, consistent = edge_report(faces, len(verts))
        if open_edges or not consistent:
            verts, faces, open_edges, non_manifold, consistent = self._repair(
                verts, faces, open_edges, consistent, notes.repairs, notes.warnings
            )
        if open_edges:
            raise BadMesh(
                "file",
                f"the mesh is not closed: {open_edges} open edges remain after repair, "
                "so it has no inside and no volume",
            )
        if non_manifold:
            notes.warnings.append(f"{non_manifold} edges are shared by more than two faces")
        notes.non_manifold, notes.consistent = non_manifold, consistent
        return verts, faces

    def _measured(
        self,
        media_type: str,
        verts: NDArray[np.float64],
        faces: NDArray[np.int64],
        tri: Triangles,
        cross: NDArray[np.float64],
        volume: float,
        notes: _Notes,
    ) -> MeshFacts:
        """The facts of a closed, outward-facing mesh."""
        lo, hi = verts.min(axis=0), verts.max(axis=0)
        bbox = tuple(float(s) for s in hi - lo)
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
        if not notes.consistent:
            notes.warnings.append("the faces are not wound consistently; normals may be wrong")
        return MeshFacts(
            media_type=media_type,
            triangles=len(faces),
            watertight=not notes.non_manifold,  # closed: open edges were refused
            winding_consistent=notes.consistent,
            volume_mm3=float(volume),
            area_mm2=float(areas.sum()),
            bbox_mm=(bbox[0], bbox[1], bbox[2]),
            shells=f_shells.result(),
            degenerate_faces=notes.degenerate,
            wall_area_mm2=float((areas * np.sqrt(np.clip(1 - nz * nz, 0, 1))).sum()),
            up_area_mm2=float((areas * np.clip(nz, 0, None)).sum()),
            down_area_mm2=float((areas * np.clip(-nz, 0, None)).sum()),
            bed_area_mm2=float(areas[on_bed].sum()),
            footprint_perimeter_mm=f_hull.result(),
            min_wall_mm=min_wall,
            orientations=f_turns.result(),
            layers=f_cuts.result(),
            repairs=tuple(notes.repairs),
            warnings=tuple(notes.warnings),
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


@dataclass
class _Notes:
    """What reading a mesh repaired, warned of and found about its surface."""

    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    degenerate: int = 0  # faces removed: collapsed, zero-area stray or split
    non_manifold: int = 0  # edges shared by more than two faces
    consistent: bool = True  # the faces wound consistently


def _cleaned(mesh: Welded, tris: Triangles, notes: _Notes) -> NDArray[np.int64]:
    """The faces without collapsed ones, duplicates and zero-area needles (split across
    so the surface stays closed, or removed where they are stray)."""
    verts, f = mesh.vertices, mesh.faces
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
    if len(needles):  # stray ones (not part of the surface) go; the others stay
        without = np.delete(faces, needles, axis=0)
        if edge_report(without, len(verts))[0] <= edge_report(faces, len(verts))[0]:
            faces, degenerate = without, degenerate + len(needles)
        else:
            notes.warnings.append(f"kept {len(needles)} zero-area faces (no area, no volume)")
    if degenerate:
        notes.repairs.append(f"removed {degenerate} degenerate faces")
    if split:
        notes.repairs.append(
            f"removed {split} zero-area faces, splitting the face across each "
            "so the surface stays closed"
        )
    notes.degenerate = degenerate + split
    if duplicates:
        notes.repairs.append(f"removed {duplicates} duplicate faces")
    return faces


def _outward(
    verts: NDArray[np.float64], faces: NDArray[np.int64], notes: _Notes
) -> tuple[NDArray[np.int64], Triangles, NDArray[np.float64], float]:
    """The faces facing out (turned inside out where the volume was negative), their
    triangles and cross products, and the volume; refused where it encloses none."""
    tri = verts[faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    # v0 . (v1 - v0) x (v2 - v0) == v0 . v1 x v2: the signed volume from the cross
    volume = float(np.einsum("ij,ij->", tri[:, 0], cross)) / 6.0
    if volume < 0:
        faces, tri, cross, volume = faces[:, ::-1], tri[:, ::-1], -cross, -volume
        notes.repairs.append("the normals pointed inward: turned the mesh inside out")
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    if volume <= 1e-9 * max(float(np.prod(hi - lo)), 1e-9) or volume < 1e-6:
        raise BadMesh("file", "the mesh encloses no volume (flat or zero volume)")
    return faces, tri, cross, volume


def weld(tris: Triangles) -> Welded:
    """Merge corners with identical coordinates into shared vertices (hash, then check)."""
    flat = np.ascontiguousarray(tris.reshape(-1, 3) + 0.0)  # + 0.0 folds -0.0 into 0.0
    bits = flat.view(np.uint64)
    key = mix(mix(mix(bits[:, 0]) + bits[:, 1]) + bits[:, 2])
    first, inverse = group(key)
    vertices = flat[first]
    if not np.array_equal(vertices[inverse], flat):  # a hash collision: do it exactly
        vertices, inverse = np.unique(flat, axis=0, return_inverse=True)
    return Welded(vertices, inverse.reshape(-1, 3).astype(np.int64))


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
        first, _ = group(key)
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

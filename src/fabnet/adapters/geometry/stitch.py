"""Repairs a slicer makes on load, done without opening the surface.

* Zero-area faces whose three corners are distinct (needles: one corner on the opposite
  edge) are removed by splitting the face across their long edge at that corner, so the
  surface stays closed (removing them alone leaves a slit of open edges).
* Near-coincident vertices on open edges are stitched within a tolerance that grows
  step by step, in the manner of admesh (PrusaSlicer's repair): vertices of the closed
  part of the surface are never moved.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

MAX_NEEDLES = 100_000  # more than this many zero-area faces: not a mesh to mend face by face


def _edge_keys(faces: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """Undirected edge keys, three per face, in face order (edges 01, 12, 20)."""
    a = faces
    b = np.roll(faces, -1, axis=1)
    return (np.minimum(a, b) * n + np.maximum(a, b)).reshape(-1)


def open_vertices(faces: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    keys = _edge_keys(faces, n)
    unique, counts = np.unique(keys, return_counts=True)
    lonely = unique[counts == 1]
    return np.unique(np.concatenate([lonely // n, lonely % n]))


def split_needles(
    verts: NDArray[np.float64], faces: NDArray[np.int64], needles: NDArray[np.int64]
) -> tuple[NDArray[np.int64], int]:
    """Faces without the zero-area faces ``needles`` (indices into ``faces``, three
    distinct corners each): the face across each needle's long edge is split at the
    needle's middle corner. Returns (faces, needles removed); a needle whose long edge
    has no single other face is kept."""
    if len(needles) == 0 or len(needles) > MAX_NEEDLES:
        return faces, 0
    n = len(verts)
    alive = np.ones(len(faces), dtype=bool)
    added: list[list[int]] = []  # new faces, numbered len(faces) + k
    plan: list[tuple[int, int, int, int]] = []  # (needle, p, q, middle corner)
    for i in needles.tolist():
        f = [int(v) for v in faces[i]]
        p3 = verts[f]
        lengths = np.linalg.norm(np.roll(p3, -1, axis=0) - p3, axis=1)
        k = int(np.argmax(lengths))
        plan.append((i, f[k], f[(k + 1) % 3], f[(k + 2) % 3]))
    wanted_set = {min(p, q) * n + max(p, q) for _, p, q, _ in plan}
    wanted = np.fromiter(wanted_set, dtype=np.int64)
    keys = _edge_keys(faces, n)
    by_edge: dict[int, list[int]] = {}
    for flat in np.flatnonzero(np.isin(keys, wanted)).tolist():
        by_edge.setdefault(int(keys[flat]), []).append(flat // 3)

    def face(j: int) -> list[int]:
        return added[j - len(faces)] if j >= len(faces) else [int(v) for v in faces[j]]

    def is_alive(j: int) -> bool:
        return bool(alive[j]) if j < len(faces) else added[j - len(faces)] != []

    removed = 0
    for i, p, q, r in plan:
        if not alive[i]:
            continue
        key = min(p, q) * n + max(p, q)
        others = [j for j in by_edge.get(key, []) if j != i and is_alive(j)]
        if len(others) != 1:
            continue
        j = others[0]
        g = face(j)
        for s in range(3):
            x0, x1, x2 = g[s], g[(s + 1) % 3], g[(s + 2) % 3]
            if {x0, x1} == {p, q}:
                break
        else:
            continue
        alive[i] = False
        if j < len(faces):
            alive[j] = False
        else:
            added[j - len(faces)] = []
        for new in ([x0, r, x2], [r, x1, x2]):
            added.append(new)
            index = len(faces) + len(added) - 1
            for u, v in ((new[0], new[1]), (new[1], new[2]), (new[2], new[0])):
                edge = min(u, v) * n + max(u, v)
                if edge in wanted_set:
                    by_edge.setdefault(edge, []).append(index)
        removed += 1
    extra = np.array([f for f in added if f], dtype=np.int64).reshape(-1, 3)
    return np.concatenate([faces[alive], extra]), removed


def _root(parent: NDArray[np.int64], v: int) -> int:
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = int(parent[v])
    return v


def stitch(
    verts: NDArray[np.float64], faces: NDArray[np.int64], tolerances: list[float]
) -> tuple[NDArray[np.int64], int, float]:
    """Merge vertices on open edges that lie within a tolerance of each other, trying
    ``tolerances`` in order until no open edge is left. Returns (faces, vertices
    merged, the tolerance used: 0 if none was needed or none helped)."""
    n = len(verts)
    merged_total, used = 0, 0.0
    for tol in tolerances:
        candidates = open_vertices(faces, n)
        if len(candidates) == 0:
            break
        pairs = cKDTree(verts[candidates]).query_pairs(tol, output_type="ndarray")
        if len(pairs) == 0:
            continue
        parent = np.arange(n)
        for a, b in candidates[pairs].tolist():
            ra, rb = _root(parent, a), _root(parent, b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
                merged_total += 1
        mapping = np.arange(n)
        mapping[candidates] = [_root(parent, int(v)) for v in candidates]
        faces = mapping[faces]
        collapsed = (
            (faces[:, 0] == faces[:, 1])
            | (faces[:, 1] == faces[:, 2])
            | (faces[:, 0] == faces[:, 2])
        )
        faces = faces[~collapsed]
        used = tol
    return faces, merged_total, used

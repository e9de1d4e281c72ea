"""Node potentials (dual prices) of an optimal min-cost flow, from its residual graph.

Shortest-path distances from a virtual root joined to every node at cost 0 satisfy
``c(i, j) + d(i) - d(j) >= 0`` on every residual arc: they are optimal duals. The
label-correcting search below relaxes only the out-arcs of nodes whose label changed in
the last pass, in vectorised batches, so it costs a few passes over the arcs that matter.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


def potentials(
    n_nodes: int, tails: Ints, heads: Ints, caps: Ints, costs: Ints, flows: Ints
) -> Floats:
    forward = flows < caps
    backward = flows > 0
    src = np.concatenate([tails[forward], heads[backward]])
    dst = np.concatenate([heads[forward], tails[backward]])
    weight = np.concatenate([costs[forward], -costs[backward]]).astype(np.float64)
    order = np.argsort(src, kind="stable")
    src, dst, weight = src[order], dst[order], weight[order]
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n_nodes), out=indptr[1:])

    dist = np.zeros(n_nodes, dtype=np.float64)
    active = np.unique(src[weight < 0])
    for _ in range(n_nodes + 1):
        if active.size == 0:
            return dist
        starts, ends = indptr[active], indptr[active + 1]
        counts = ends - starts
        total = int(counts.sum())
        if total == 0:
            return dist
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        cand = dist[src[offsets]] + weight[offsets]
        better = cand < dist[dst[offsets]] - 1e-9
        if not better.any():
            return dist
        targets = dst[offsets][better]
        np.minimum.at(dist, targets, cand[better])
        active = np.unique(targets)
    raise ArithmeticError("negative cycle in the residual graph: the flow is not optimal")

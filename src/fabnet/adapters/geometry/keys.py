"""Integer keys of mesh points: hashed (welding) and grouped (welding, coarse grids)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_K = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: every input bit reaches every output bit."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _K[0]
        z = (z ^ (z >> np.uint64(27))) * _K[1]
        return z ^ (z >> np.uint64(31))


def group(
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

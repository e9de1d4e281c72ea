"""Spatial look-ups on the sphere: machines near a point, as a KD-tree on unit vectors."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_KM = 6371.0088
Floats = NDArray[np.float64]
SMALL = 2048  # up to this many rows, exact look-ups by brute force (no KD-tree to build)


def unit_vectors(lat: Floats, lon: Floats) -> Floats:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def chord_to_km(chord: Floats) -> Floats:
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0.0, 1.0)))


def km_to_chord(km: Floats | float) -> Floats:
    angle = np.clip(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, 0.0, math.pi)
    return np.asarray(2 * np.sin(angle / 2))


def great_circle_km(a: Floats, b: Floats) -> Floats:
    """Distances between rows of unit vectors ``a`` and ``b`` (same shape). The chord is
    the difference's length: from the dot product (``2 - 2 a.b``) it cancelled, and two
    places in the same town came out 0.1 m apart, ten of them 0.13 m (the haversine of
    ``Place.distance_km`` says 0), which a plan's transport cost then carried."""
    diff = a - b
    return chord_to_km(np.sqrt(np.einsum("...i,...i->...", diff, diff)))


class SphereIndex:
    """Nearest machines (by great-circle distance) to points, among ``members``: a
    KD-tree on unit vectors, or brute force for a small index (SciPy is then not even
    imported, which keeps a small `fabnet plan` quick to start)."""

    def __init__(self, xyz: Floats) -> None:
        self.size = len(xyz)
        self.xyz = np.asarray(xyz, dtype=np.float64).reshape(self.size, 3)
        self.tree: Any = None
        if self.size > SMALL:
            from scipy.spatial import cKDTree

            self.tree = cKDTree(self.xyz)

    def _chords(self, points: Floats) -> Iterator[Floats]:
        """Chord lengths from each point to every row, a block of points at a time (at
        most about a million distances in memory)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        step = max(1, 1_000_000 // max(self.size, 1))
        for start in range(0, len(pts), step):
            dots = np.clip(pts[start : start + step] @ self.xyz.T, -1.0, 1.0)
            yield np.sqrt(np.maximum(0.0, 2.0 - 2.0 * dots))

    def nearest(self, points: Floats, k: int) -> NDArray[np.int64]:
        """Indices (rows of the index) of the ``k`` nearest, shape (len(points), k)."""
        if self.size == 0 or k <= 0:
            return np.empty((len(points), 0), dtype=np.int64)
        k = min(k, self.size)
        if self.tree is None:
            blocks = [np.argsort(c, axis=1, kind="stable")[:, :k] for c in self._chords(points)]
            order = np.concatenate(blocks) if blocks else np.empty((0, k), dtype=np.int64)
            return np.asarray(order, dtype=np.int64).reshape(len(points), k)
        _, idx = self.tree.query(points, k=k)
        return np.asarray(idx, dtype=np.int64).reshape(len(points), k)

    def within_many(self, points: Floats, radii_km: Floats) -> list[list[int]]:
        """For each point, the rows within its radius (all rows for an infinite one)."""
        if self.size == 0:
            return [[] for _ in range(len(points))]
        everything = np.asarray(radii_km) >= math.pi * EARTH_RADIUS_KM
        chords = km_to_chord(np.where(everything, 0.0, radii_km))
        every = list(range(self.size))
        if self.tree is None:
            limits = np.asarray(chords, dtype=np.float64).reshape(-1, 1)
            found: list[list[int]] = []
            at = 0
            for block in self._chords(points):
                inside = block <= limits[at : at + len(block)]
                found.extend(np.flatnonzero(row).tolist() for row in inside)
                at += len(block)
        else:
            found = self.tree.query_ball_point(points, chords, return_sorted=False)
        return [every if e else list(f) for f, e in zip(found, everything, strict=True)]

    def within(self, point: Floats, radius_km: float) -> NDArray[np.int64]:
        if self.size == 0:
            return np.empty(0, dtype=np.int64)
        if radius_km >= math.pi * EARTH_RADIUS_KM:
            return np.arange(self.size, dtype=np.int64)
        chord = float(km_to_chord(radius_km))
        if self.tree is None:
            (block,) = self._chords(point)
            return np.flatnonzero(block[0] <= chord).astype(np.int64)
        found = self.tree.query_ball_point(point, chord)
        return np.asarray(found, dtype=np.int64)

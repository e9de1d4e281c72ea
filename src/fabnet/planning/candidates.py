"""Spatial look-ups on the sphere: machines near a point, as a KD-tree on unit vectors."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088
Floats = NDArray[np.float64]


def unit_vectors(lat: Floats, lon: Floats) -> Floats:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def chord_to_km(chord: Floats) -> Floats:
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0.0, 1.0)))


def km_to_chord(km: Floats | float) -> Floats:
    angle = np.clip(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, 0.0, math.pi)
    return np.asarray(2 * np.sin(angle / 2))


def great_circle_km(a: Floats, b: Floats) -> Floats:
    """Distances between rows of unit vectors ``a`` and ``b`` (same shape)."""
    return chord_to_km(np.linalg.norm(a - b, axis=-1))


class SphereIndex:
    """Nearest machines (by great-circle distance) to points, among ``members``."""

    def __init__(self, xyz: Floats) -> None:
        self.size = len(xyz)
        self.tree = cKDTree(xyz) if self.size else None

    def nearest(self, points: Floats, k: int) -> NDArray[np.int64]:
        """Indices (rows of the index) of the ``k`` nearest, shape (len(points), k)."""
        if self.tree is None or k <= 0:
            return np.empty((len(points), 0), dtype=np.int64)
        k = min(k, self.size)
        _, idx = self.tree.query(points, k=k)
        return np.asarray(idx, dtype=np.int64).reshape(len(points), k)

    def within_many(self, points: Floats, radii_km: Floats) -> list[list[int]]:
        """For each point, the rows within its radius (all rows for an infinite one)."""
        if self.tree is None:
            return [[] for _ in range(len(points))]
        everything = np.asarray(radii_km) >= math.pi * EARTH_RADIUS_KM
        chords = km_to_chord(np.where(everything, 0.0, radii_km))
        found = self.tree.query_ball_point(points, chords, return_sorted=False)
        every = list(range(self.size))
        return [every if e else list(f) for f, e in zip(found, everything, strict=True)]

    def within(self, point: Floats, radius_km: float) -> NDArray[np.int64]:
        if self.tree is None:
            return np.empty(0, dtype=np.int64)
        if radius_km >= math.pi * EARTH_RADIUS_KM:
            return np.arange(self.size, dtype=np.int64)
        found = self.tree.query_ball_point(point, float(km_to_chord(radius_km)))
        return np.asarray(found, dtype=np.int64)

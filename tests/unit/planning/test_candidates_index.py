"""The sphere index answers the same by brute force (small indexes) as by KD-tree."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.planning import candidates
from fabnet.planning.candidates import SphereIndex, unit_vectors


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60), radius=st.floats(1, 3000))
def test_brute_force_and_kd_tree_agree(seed, n, radius):
    rng = np.random.default_rng(seed)
    rows = unit_vectors(rng.uniform(-60, 60, n), rng.uniform(-180, 180, n))
    points = unit_vectors(rng.uniform(-60, 60, 7), rng.uniform(-180, 180, 7))
    brute = SphereIndex(rows)
    old = candidates.SMALL
    candidates.SMALL = 0
    try:
        tree = SphereIndex(rows)
    finally:
        candidates.SMALL = old
    assert brute.tree is None and tree.tree is not None
    k = min(5, n)
    far = lambda idx, p: np.linalg.norm(rows[idx] - p, axis=1)  # noqa: E731
    for p, b, t in zip(points, brute.nearest(points, k), tree.nearest(points, k), strict=True):
        assert np.allclose(np.sort(far(b, p)), np.sort(far(t, p)))  # same distances (ties)
    radii = np.full(len(points), radius)
    for b, t in zip(brute.within_many(points, radii), tree.within_many(points, radii), strict=True):
        assert sorted(b) == sorted(t)
    assert sorted(brute.within(points[0], radius).tolist()) == sorted(
        tree.within(points[0], radius).tolist()
    )


@settings(max_examples=40, deadline=None)
@given(
    lat=st.floats(-85, 85),
    lon=st.floats(-170, 170),
    step=st.sampled_from([0.0, 1e-7, 1e-5, 1e-3, 0.1, 5.0]),
)
def test_the_planners_distances_are_the_haversines(lat, lon, step):
    """Two facilities in one town were 0.1 m apart by the dot product's chord, and the
    plan's transport cost carried it past the checker's (haversine) figure."""
    from fabnet.domain.units import Place
    from fabnet.planning.candidates import great_circle_km

    there = (lat + step, lon - step)
    km = great_circle_km(
        unit_vectors(np.array([lat]), np.array([lon])),
        unit_vectors(*map(np.array, ([there[0]], [there[1]]))),
    )
    assert abs(float(km[0]) - Place(lat, lon).distance_km(Place(*there))) < 1e-9

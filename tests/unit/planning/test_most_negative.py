"""The arcs a round of pricing adds (pricing._most_negative): each demand's pairs of least
reduced cost, each at its least day, against a plain reference, on input in the order a
chunk of pricing gives (each pair once, its days side by side, the machines of a demand
in any order)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.planning.pricing import _most_negative


def reference(a: list[int], m: list[int], rc: list[float], per: int) -> set[int]:
    """Each pair's first arc of least rc; each demand's ``per`` such pairs of least rc."""
    best: dict[tuple[int, int], int] = {}
    for i, pair in enumerate(zip(a, m, strict=True)):
        if pair not in best or rc[i] < rc[best[pair]]:
            best[pair] = i
    by_demand: dict[int, list[int]] = {}
    for (demand, _machine), i in sorted(best.items()):
        by_demand.setdefault(demand, []).append(i)
    out: set[int] = set()
    for arcs in by_demand.values():
        out |= set(sorted(arcs, key=lambda i: rc[i])[:per])
    return out


arc = st.tuples(st.integers(0, 5), st.integers(0, 6), st.integers(-4, -1))


@settings(max_examples=300, deadline=None)
@given(st.lists(arc, min_size=1, max_size=120), st.integers(1, 5), st.permutations(range(7)))
def test_each_demand_keeps_its_pairs_of_least_reduced_cost(
    arcs: list[tuple[int, int, int]], per: int, machine_order: list[int]
) -> None:
    # as pricing gives them: demands in order, each pair once with its days side by side,
    # a demand's machines in the order of the KD-tree's look-up
    arcs = sorted(arcs, key=lambda t: (t[0], machine_order[t[1]]))
    a = [t[0] for t in arcs]
    m = [t[1] for t in arcs]
    rc = [float(t[2]) for t in arcs]
    model = SimpleNamespace(
        options=SimpleNamespace(max_new_per_demand=per, new_arcs_per_round=0),
        d=SimpleNamespace(quantity=np.ones(6)),
        supplies=[None] * 7,
    )
    got = _most_negative(model, np.array(a), np.array(m), np.array(rc))  # type: ignore[arg-type]
    kept = got.tolist()
    pairs = [(a[i], m[i]) for i in kept]
    assert len(set(pairs)) == len(pairs)  # one day per machine
    least: dict[tuple[int, int], float] = {}
    for pair, r in zip(zip(a, m, strict=True), rc, strict=True):
        least[pair] = min(least.get(pair, 0.0), r)
    assert all(rc[i] == least[pair] for i, pair in zip(kept, pairs, strict=True))
    # each demand's reduced costs as the reference's (which of two tied pairs is kept
    # is free)
    want = reference(a, m, rc, per)
    for demand in set(a):
        assert sorted(rc[i] for i in kept if a[i] == demand) == sorted(
            rc[i] for i in want if a[i] == demand
        )

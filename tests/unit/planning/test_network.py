"""The flow network keeps a machine's days only where some arc ends: against a network
with a node for every machine and day (written here, as the docs describe it), the same
optimum, and fewer nodes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.adapters.solvers import OrToolsFlow
from fabnet.planning.network import Layout, build

SOLVER = OrToolsFlow()


def _every_day(layout, supply, arcs, unmet, caps):
    """The network with a node per machine and day: (m, k) -> (m, k - 1) free, (m, k) ->
    sink at the day's time."""
    n_d, n_m, h = layout.n_demands, layout.n_machines, layout.horizon
    sink = n_d + n_m * h

    def node(m, k):
        return n_d + m * h + (k - 1)

    tails, heads, cap, cost = [], [], [], []
    for a, m, d, c, ub in arcs:
        tails.append(a)
        heads.append(node(m, d))
        cap.append(min(int(supply[a]), ub))
        cost.append(c)
    total = int(supply.sum())
    for m in range(n_m):
        for k in range(1, h + 1):
            if k > 1:
                tails.append(node(m, k))
                heads.append(node(m, k - 1))
                cap.append(total)
                cost.append(0)
            tails.append(node(m, k))
            heads.append(sink)
            cap.append(int(caps[m, k - 1]))
            cost.append(0)
    for a in range(n_d):
        tails.append(a)
        heads.append(sink)
        cap.append(int(supply[a]))
        cost.append(int(unmet[a]))
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_d] = supply
    supplies[sink] = -total
    arr = [np.array(x, dtype=np.int64) for x in (tails, heads, cap, cost)]
    return SOLVER(sink + 1, *arr, supplies).cost


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_days_only_where_arcs_end_give_the_same_optimum_as_every_day(data):
    n_d = data.draw(st.integers(1, 5))
    n_m = data.draw(st.integers(1, 4))
    h = data.draw(st.integers(1, 6))
    n_a = data.draw(st.integers(0, 14))
    ints = st.integers
    supply = np.array(data.draw(st.lists(ints(0, 40), min_size=n_d, max_size=n_d)), np.int64)
    ad = data.draw(st.lists(ints(0, n_d - 1), min_size=n_a, max_size=n_a))
    am = data.draw(st.lists(ints(0, n_m - 1), min_size=n_a, max_size=n_a))
    aday = data.draw(st.lists(ints(1, h), min_size=n_a, max_size=n_a))
    ac = data.draw(st.lists(ints(0, 50), min_size=n_a, max_size=n_a))
    ub = data.draw(st.lists(ints(0, 40), min_size=n_a, max_size=n_a))
    unmet = np.array(data.draw(st.lists(ints(0, 80), min_size=n_d, max_size=n_d)), np.int64)
    caps = np.array(
        data.draw(st.lists(ints(0, 15), min_size=n_m * h, max_size=n_m * h)), np.int64
    ).reshape(n_m, h)
    layout = Layout(n_d, n_m, h)
    net = build(
        layout,
        supply=supply,
        arc_demand=np.array(ad, np.int64),
        arc_machine=np.array(am, np.int64),
        arc_day=np.array(aday, np.int64),
        arc_cost=np.array(ac, np.int64),
        unmet_cost=unmet,
        day_caps=caps,
        arc_caps=np.array(ub, np.int64),
    )
    arcs = list(zip(ad, am, aday, ac, ub, strict=True))
    want = _every_day(layout, supply, arcs, unmet, caps)
    assert net.solve(SOLVER).cost == want
    # a node per (machine, day) some arc ends on, each holding the days since the last
    assert net.n_nodes == n_d + len(set(zip(am, aday, strict=True))) + 1
    assert int((net.node_day - net.node_after).min(initial=1)) >= 1

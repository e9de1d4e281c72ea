"""Step 2 of flow.py: the first (demand, machine) pairs of the restricted network."""

from __future__ import annotations

import numpy as np

from fabnet.planning.arcs import EMPTY
from fabnet.planning.network import Ints
from fabnet.planning.time_model import TimeModel


def candidates(model: TimeModel, k: int) -> tuple[Ints, Ints]:
    pairs_a: list[Ints] = []
    pairs_m: list[Ints] = []
    d = model.d
    for g, index in enumerate(model.group_index):
        rows = np.flatnonzero(d.group == g)
        if rows.size == 0 or index.size == 0:
            continue
        machines = model.group_machines[g]
        want = (d.quantity * d.ticks)[rows] * model.options.margin
        kk = min(k, index.size)
        pending = rows
        while pending.size:
            near = machines[index.nearest(d.xyz[pending], kk)]
            if not model.options.widen or kk >= index.size:
                done = np.ones(pending.size, dtype=bool)
            else:
                reach = np.maximum(d.hi[pending], d.lo[pending])
                covered = model.cum_ticks[near, reach[:, None]].sum(axis=1)
                done = covered >= want[np.searchsorted(rows, pending)]
            pairs_a.append(np.repeat(pending[done], near.shape[1]))
            pairs_m.append(near[done].ravel())
            pending = pending[~done]
            kk = min(kk * 2, index.size)
    if not pairs_a:
        return EMPTY, EMPTY
    return np.concatenate(pairs_a), np.concatenate(pairs_m)


def room_candidates(model: TimeModel, k: int) -> tuple[Ints, Ints]:
    """(demand, machine) pairs with room (``FlowOptions.room_seed``): each demand's
    nearest capable machines whose time left by the pair's last usable day covers
    ``margin`` times the demand's (at least its ``k`` nearest with any), its own time
    then taken off them nearest first, so that the next demand looks past them. Demands
    go earliest last day first, larger first within a day. A demand that finds less
    than that anywhere also gets the nearest whose time the demands before it took
    (up to ``margin`` times its own of their time at the start): the flow may move
    those on to make room (large re-plan: first LP 2.88e8 -> 2.04e8, 9 rounds not 10).
    A Python loop per demand: for the few demands of a re-plan."""
    d = model.d
    margin = model.options.margin
    left = model.cum_ticks.astype(np.float64)  # time left by each day, as taken
    want_all = (d.quantity * d.ticks).astype(np.float64)
    pairs_a: list[Ints] = []
    pairs_m: list[Ints] = []
    for a in np.lexsort((-want_all, d.hi)).tolist():
        g = int(d.group[a])
        index, machines = model.group_index[g], model.group_machines[g]
        if index.size == 0 or d.lo[a] > d.hi[a]:
            continue
        want = want_all[a]
        kk = min(k, index.size)
        while True:
            near = machines[index.nearest(d.xyz[a : a + 1], kk)[0]]
            day = model.last_day(np.full(near.size, a, dtype=np.int64), near)
            room = left[near, day]
            total = np.cumsum(room)
            if total[-1] >= margin * want or kk >= index.size:
                break
            kk = min(2 * kk, index.size)
        n = max(min(k, near.size), int(np.searchsorted(total, margin * want)) + 1)
        near, room, day, total = near[:n], room[:n], day[:n], total[:n]
        take = np.minimum(room, np.maximum(0.0, want - (total - room)))
        used = take > 0
        for m, last, ticks in zip(near[used], day[used], take[used], strict=True):
            left[m, last:] -= ticks
            np.minimum(left[m, :last], left[m, last], out=left[m, :last])
        keep = room > 0
        if not keep.any():  # no room anywhere: its nearest, for the prices
            keep[: min(k, near.size)] = True
        # and the nearest whose room the demands before it took: the flow may move
        # those demands on (to their other machines) to make room for this one
        if total[-1] < margin * want:
            start = model.cum_ticks[near, day]
            before = np.cumsum(start) - start < margin * want
            keep |= before & (start > 0)
        pairs_a.append(np.full(int(keep.sum()), a, dtype=np.int64))
        pairs_m.append(near[keep])
    if not pairs_a:
        return EMPTY, EMPTY
    return np.concatenate(pairs_a), np.concatenate(pairs_m)

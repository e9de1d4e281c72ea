"""The units each demand can get at all where machines are on probation, and the least all
demands' units can cost under given unit prices (pricing.py's Lagrangian bound)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fabnet.planning.arcs import Floats
from fabnet.planning.network import Ints
from fabnet.planning.time_model import TimeModel


def demands_least(model: TimeModel, least: Floats) -> float:
    """The least every demand's units can cost, a unit at ``least`` (at most its unmet
    cost): where machines are on probation, the units beyond ``most_made`` at their
    unmet cost (every plan leaves them unmade, and the LP too)."""
    d = model.d
    if not model.any_cap:
        return float((d.quantity * least).sum())
    made = np.minimum(d.quantity, most_made(model))
    return float((made * least + (d.quantity - made) * d.unmet).sum())


def most_made(model: TimeModel) -> Floats:
    """Units each demand can get at all, where machines are on probation: a job per line
    on each machine on probation that can make it, and the time by its last usable day
    of the others, all for it alone. Without this the bound left the jobs out: the tiny
    problem with every machine on probation, made as fully as its jobs allow, stood 99.6%
    above it."""
    if model.most_made is None:
        d = model.d
        out = np.zeros(d.quantity.size)
        for g, machines in enumerate(model.group_machines):
            rows = np.flatnonzero(d.group == g)
            job = model.job_cap[machines]
            free = model.cum_ticks[machines[job == 0]].sum(axis=0)  # by each day
            last = np.clip(d.hi[rows], 0, free.size - 1)
            jobs = float(job.sum()) * model.lines[rows]  # a job per line on each
            out[rows] = jobs + free[last] / d.ticks[rows]
        model.most_made = out
    return model.most_made


def cheapest_first(a: Ints, val: Floats, cap: NDArray[Any]) -> tuple[Ints, NDArray[Any]]:
    """The order that puts arcs (of demands ``a``, at ``val`` a unit, at most ``cap``
    units) by demand, cheapest first, and for each arc in that order the caps of its
    demand's arcs before it: where filling its demand's units cheapest first reaches it."""
    order: Ints = np.lexsort((val, a))
    a, cap = a[order], cap[order]
    upto = np.cumsum(cap) - cap  # caps of the arcs before each, over all demands
    before: NDArray[Any] = upto - upto[np.searchsorted(a, a, side="left")]  # its demand's
    return order, before


def jobs_bound(model: TimeModel, jobs: list[tuple[Ints, Floats, Ints]], least: Floats) -> float:
    """The least every demand's units can cost where machines are on probation: the job
    arcs below ``least`` (the least over every other arc, and leaving a unit unmade)
    filled cheapest first up to their caps, the rest of what can be made at all
    (``most_made``) at ``least``, the units beyond that at their unmet cost. Every arc
    left out of ``jobs`` is worth ``least`` or more (pricing's balls)."""
    d = model.d
    limit = np.minimum(d.quantity, most_made(model))
    taken: Floats = np.zeros(d.quantity.size)
    cost = 0.0
    if jobs:
        a = np.concatenate([j[0] for j in jobs])
        val = np.concatenate([j[1] for j in jobs])
        cap = np.concatenate([j[2] for j in jobs]).astype(np.float64)
        keep = val < least[a]
        a, val, cap = a[keep], val[keep], cap[keep]
        order, before = cheapest_first(a, val, cap)
        a, val, cap = a[order], val[order], cap[order]
        take = np.clip(limit[a] - before, 0.0, cap)
        cost = float((take * val).sum())
        taken = np.bincount(a, weights=take, minlength=d.quantity.size).astype(np.float64)
    rest = np.maximum(limit - taken, 0.0)
    return cost + float((rest * least).sum() + ((d.quantity - limit) * d.unmet).sum())

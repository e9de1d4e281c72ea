"""The units each demand can get at all where machines are on probation, and the least all
demands' units can cost under given unit prices (pricing.py's Lagrangian bound)."""

from __future__ import annotations

import numpy as np

from fabnet.planning.time_model import Floats, TimeModel


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
        lines = np.array([len(g) for g in d.members], dtype=np.float64)
        out = np.zeros(d.quantity.size)
        for g, machines in enumerate(model.group_machines):
            rows = np.flatnonzero(d.group == g)
            job = model.job_cap[machines]
            free = model.cum_ticks[machines[job == 0]].sum(axis=0)  # by each day
            last = np.clip(d.hi[rows], 0, free.size - 1)
            out[rows] = float(job.sum()) * lines[rows] + free[last] / d.ticks[rows]
        model.most_made = out
    return model.most_made

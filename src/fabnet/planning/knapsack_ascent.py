"""Better prices for the knapsack bound (knapsack.py): subgradient steps on the demands'.

The knapsack bound holds for any prices ``v`` of the demands' units (at most their unmet
cost); the LP's are a good start, not the best. Each step solves every machine's knapsack
at ``v`` and moves each demand's price by what its units lack or exceed in the
knapsacks' choices (``U_a - sum_m x_am``, a subgradient), Polyak's step toward the plan's
cost (Held, Wolfe and Crowder 1974): the step's scale halves where three steps in a row
found no better bound, and the steps stop when it is 1/32. Once ``v`` is not the LP's,
the LP's figure no longer bounds a machine's earnings, so every machine with an item is
solved at every step: this is for problems whose knapsacks take well under a second.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from fabnet.planning.knapsack import machine_choice, prepared
from fabnet.planning.network import Ints
from fabnet.planning.pricing import ball_pairs
from fabnet.planning.time_model import Floats, TimeModel

log = logging.getLogger(__name__)

STEPS = 100  # at most this many subgradient steps
STALL = 3  # steps without a better bound before the step's scale halves ...
SMALLEST = 1 / 32  # ... and none once it is below this (15 steps in a row found none)


def ascend(model: TimeModel, v: Floats, *, bound: float, target: float, budget_s: float) -> float:
    """The best knapsack bound found from prices ``v`` (whose bound is ``bound``) within
    ``budget_s``, stepping toward ``target`` (a plan's cost: no bound is above it)."""
    d = model.d
    started = time.perf_counter()
    v = np.minimum(v, d.unmet)
    best, scale, stall, steps = bound, 1.0, 0, 0
    while steps < STEPS and time.perf_counter() - started < budget_s:
        got = lagrangian(model, v, until=started + budget_s)
        if got is None:
            break
        value, made = got
        steps += 1
        if value > best + 1e-9 * abs(best):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= STALL:
                scale, stall = scale / 2, 0
        lack = (d.quantity - made).astype(np.float64)
        lack[(v >= d.unmet) & (lack > 0)] = 0.0  # left unmade costs no more than this
        norm = float((lack * lack).sum())
        if norm == 0.0 or target <= value or scale < SMALLEST:
            break
        v = np.minimum(v + scale * (target - value) / norm * lack, d.unmet)
    log.debug(
        "knapsack ascent: %d steps in %.2f s, bound %.2f -> %.2f",
        steps,
        time.perf_counter() - started,
        bound,
        best,
    )
    return best


def lagrangian(model: TimeModel, v: Floats, *, until: float) -> tuple[float, Ints] | None:
    """The knapsack bound at prices ``v`` and the units of each demand the machines'
    knapsacks choose; None where time ran out before every machine was solved, or the
    distance balls hold more than ``pricing_pairs`` pairs."""
    d = model.d
    found: list[tuple[Ints, Ints, Ints, Floats]] = []
    pairs = 0
    for pa, pm in ball_pairs(model, v):
        pairs += pa.size
        if pairs > model.options.pricing_pairs:
            return None
        cand, cost = model.pair_arcs(pa, pm)
        keep = cost < v[cand.a]
        found.append((cand.a[keep], cand.m[keep], cand.d[keep], v[cand.a[keep]] - cost[keep]))
    made = np.zeros(d.quantity.size, dtype=np.int64)
    total = float((d.quantity * v).sum())
    if not found:
        return total, made
    a, m, day = (np.concatenate([f[i] for f in found]) for i in range(3))
    gain = np.concatenate([f[3] for f in found])
    a, m, day, gain, caps, weight, room, starts, ends = prepared(model, a, m, day, gain)
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        if time.perf_counter() > until:
            return None
        earned, units = machine_choice(
            room[int(m[lo])], weight[lo:hi], day[lo:hi], gain[lo:hi], caps[lo:hi]
        )
        total -= earned
        np.add.at(made, a[lo:hi], units)
    return total, made

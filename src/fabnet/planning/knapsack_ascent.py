"""Better prices for the knapsack bound (knapsack.py): the Lagrangian dual by column
generation over the knapsacks' choices, the prices smoothed.

The knapsack bound holds at any prices ``v`` of the demands' units (at most their unmet
cost); the LP's are a good start, not the best. The best are the duals of the LP over
each machine's choices of whole units (Dantzig-Wolfe's master of the same relaxation):

    min  sum_p c_p l_p + sum_a unmet_a s_a
    s.t. sum_p x_pa l_p + s_a >= U_a      for each demand a    (its dual: v_a)
         sum_{p of m} l_p <= 1             for each machine m

over the choices ``p`` (units ``x_pa`` of each demand at cost ``c_p``) found so far, solved
by HiGHS. Each round solves every machine's knapsack at prices between the best so far and
the master's duals (Wentges's smoothing, 1997: ``ALPHA`` of the best; the master's own
after a round that found no new choice). That gives a bound and, as new columns, the
machines' choices; the master's value is at least the best bound any prices can give, so
the two close in on it from both sides. The plan's own units on each machine are the
first columns (the master starts at the plan's cost).

Polyak's subgradient steps came first: at the LP's prices most knapsack items tie, the
choices' subgradient points nowhere useful, and on the OKW sample's 400-line problem no
step along it, however short, raised the bound (ADR 0027). Once ``v`` is not the LP's, the
LP's figure no longer bounds a machine's earnings, so every machine with an item is solved
in every round: this is for problems whose knapsacks take well under a second.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from fabnet.planning.arcs import Arcs, Floats
from fabnet.planning.knapsack import machine_choice, prepared
from fabnet.planning.network import Ints
from fabnet.planning.pricing import ball_pairs
from fabnet.planning.time_model import TimeModel

log = logging.getLogger(__name__)

ROUNDS = 200  # at most this many rounds of knapsacks
ALPHA = 0.5  # the knapsacks' prices: this share of the best prices, the rest the master's
CLOSED = 1e-5  # done when the master's value is within this share of the best bound


@dataclass
class Columns:
    """Choices of whole units, one per column: its machine, cost, demands and units."""

    at: dict[tuple[int, bytes, bytes], int] = field(default_factory=dict)
    machine: list[int] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    demands: list[Ints] = field(default_factory=list)
    units: list[Ints] = field(default_factory=list)
    changes: int = 0  # columns added or made cheaper

    def add(self, machine: int, a: Ints, units: Ints, cost: Floats) -> None:
        """A machine's choice of ``units`` of items of demands ``a`` costing ``cost`` a unit
        (a demand's items on several days summed). Where the same units of the same demands
        on the same machine are a column already, a cheaper choice (other days) takes its
        cost and a dearer one is left out."""
        keep = units > 0
        if not keep.any():
            return
        a, units, cost = a[keep], units[keep], cost[keep]
        demands, where = np.unique(a, return_inverse=True)
        made = np.bincount(where, weights=units).astype(np.int64)
        total = float((units * cost).sum())
        key = (machine, demands.tobytes(), made.tobytes())
        seen = self.at.get(key)
        if seen is not None:
            if total < self.cost[seen] - 1e-9 * abs(total):
                self.cost[seen], self.changes = total, self.changes + 1
            return
        self.changes += 1
        self.at[key] = len(self.cost)
        self.machine.append(machine)
        self.cost.append(total)
        self.demands.append(demands)
        self.units.append(made)


def ascend(
    model: TimeModel,
    v: Floats,
    *,
    bound: float,
    target: float,
    budget_s: float,
    start: tuple[Arcs, Ints] | None = None,
) -> float:
    """The best knapsack bound found from prices ``v`` (whose bound is ``bound``) within
    ``budget_s``; ``target`` is a plan's cost (no bound is above it) and ``start`` that
    plan's arcs and units, the master's first columns."""
    d = model.d
    started = time.perf_counter()
    until = started + budget_s
    center = np.minimum(v, d.unmet)
    best, duals, rounds, upper = bound, None, 0, math.inf
    cols = Columns()
    if start is not None:
        _plan_columns(model, cols, *start)
    share = ALPHA
    while rounds < ROUNDS and best < target and upper - best > CLOSED * abs(best):
        at = center if duals is None else share * center + (1 - share) * duals
        changed = cols.changes
        got = lagrangian(model, at, until=until, into=cols)
        if got is None:
            break
        rounds += 1
        # no new choice at the smoothed prices: the next round at the master's own, where
        # none means the master is the Lagrangian dual (its value the bound)
        share = ALPHA if cols.changes > changed else 0.0
        if got[0] > best:
            best, center = got[0], at
        solved = _master(model, cols, until)
        if solved is None:
            break
        upper, duals = solved
    log.debug(
        "knapsack prices: %d rounds, %d columns in %.2f s, bound %.2f -> %.2f (master %.2f)",
        rounds,
        len(cols.cost),
        time.perf_counter() - started,
        bound,
        best,
        upper,
    )
    return best


def _plan_columns(model: TimeModel, cols: Columns, arcs: Arcs, units: Ints) -> None:
    """Each machine's units in a plan, one column each."""
    cost = model.unit_cost(arcs)
    order = np.argsort(arcs.m, kind="stable")
    m = arcs.m[order]
    cuts = np.flatnonzero(np.diff(m)) + 1
    for part in np.split(order, cuts):
        if part.size:
            cols.add(int(arcs.m[part[0]]), arcs.a[part], units[part], cost[part])


def _master(model: TimeModel, cols: Columns, until: float) -> tuple[float, Floats] | None:
    """The master LP over ``cols``: its value and the demands' duals; None when time is up
    or HiGHS does not solve it."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    d = model.d
    n_a, n_p = d.quantity.size, len(cols.cost)
    left = until - time.perf_counter()
    if left <= 0:
        return None
    machines, row = np.unique(np.asarray(cols.machine, dtype=np.int64), return_inverse=True)
    sizes = np.array([a.size for a in cols.demands], dtype=np.int64)
    col = np.repeat(np.arange(n_p), sizes)
    none = [np.empty(0, dtype=np.int64)]  # no machine has chosen anything yet
    rows = np.r_[np.concatenate(cols.demands or none), n_a + row, np.arange(n_a)]
    at = np.r_[col, np.arange(n_p), n_p + np.arange(n_a)]
    vals = np.r_[-np.concatenate(cols.units or none), np.ones(n_p), -np.ones(n_a)]
    a_ub = csr_matrix((vals, (rows, at)), shape=(n_a + machines.size, n_p + n_a))
    b_ub = np.r_[-d.quantity.astype(np.float64), np.ones(machines.size)]
    c = np.r_[np.asarray(cols.cost), d.unmet]
    res = linprog(
        c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs", options={"time_limit": left}
    )
    if res.status != 0:
        return None
    return float(res.fun), np.clip(-res.ineqlin.marginals[:n_a], 0.0, d.unmet)


def lagrangian(
    model: TimeModel, v: Floats, *, until: float, into: Columns | None = None
) -> tuple[float, Ints] | None:
    """The knapsack bound at prices ``v`` and the units of each demand the machines'
    knapsacks choose (their choices added to ``into``); None where time ran out before
    every machine was solved, or the distance balls hold more than ``pricing_pairs``
    pairs."""
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
        if into is not None:
            into.add(int(m[lo]), a[lo:hi], units, v[a[lo:hi]] - gain[lo:hi])
    return total, made

"""The (demand, machine, day) arcs of a restricted network, the restricted LP's solution
over them, and the array types the planner's modules share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fabnet.planning.network import Ints

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Stop = Callable[[], bool]
Extra = Callable[[Ints, Ints], Floats]
EMPTY = np.empty(0, np.int64)


@dataclass
class Arcs:
    """The (demand, machine, day) arcs of a restricted network."""

    a: Ints
    m: Ints
    d: Ints

    @staticmethod
    def empty() -> Arcs:
        return Arcs(EMPTY, EMPTY, EMPTY)

    def __len__(self) -> int:
        return int(self.a.size)

    def plus(self, other: Arcs) -> Arcs:
        return Arcs(
            np.concatenate([self.a, other.a]),
            np.concatenate([self.m, other.m]),
            np.concatenate([self.d, other.d]),
        )

    def take(self, index: Ints | Bools) -> Arcs:
        return Arcs(self.a[index], self.m[index], self.d[index])


@dataclass
class Solution:
    """The restricted LP's optimum, without its network: the flows on ``arcs`` and on each
    demand's unmet arc (ticks), and the day prices of its potentials (pricing.day_prices)
    where they were worked out or may be used.
    The network (large: 8.4M arcs, four int64 arrays, about 280 MB) is let go before the
    units are made whole, where the plan's memory peaks."""

    arcs: Arcs
    arc_ticks: Ints  # flow on each of ``arcs``
    unmet_ticks: Ints  # flow on each demand's unmet arc
    # (machines, horizon): money per reference second by each day; None where the rounds
    # ended unpriced and nothing would use them (no knapsack bound to seek)
    prices: Floats | None
    lp_objective: float  # true cost of the (fractional) flow
    bound: float  # lower bound over every capable machine (nan: not priced)
    rounds: int = 1


def sorted_find(keys: Ints, k: Ints) -> tuple[Ints, Bools]:
    """Where each of ``k`` is (or would go) in the sorted ``keys``, clipped to an index of
    it, and whether it is there."""
    if not keys.size:
        return np.zeros(k.size, dtype=np.int64), np.zeros(k.size, dtype=bool)
    at: Ints = np.minimum(np.searchsorted(keys, k), keys.size - 1)
    hit: Bools = keys[at] == k
    return at, hit


def job_room(job_cap: Ints, held: tuple[Ints, Ints], a: Ints, m: Ints) -> Ints:
    """``TimeModel.job_room`` from its arrays (a neighbourhood's worker has no model):
    ``held`` is the sorted (demand * machines + machine) keys and the units held."""
    room: Ints = job_cap[m].copy()
    keys, units = held
    if keys.size:
        at, hit = sorted_find(keys, a * max(1, job_cap.size) + m)
        room = np.where(hit, np.maximum(room - units[at], 0), room)
    return room

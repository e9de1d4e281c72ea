"""The time-bucketed network of the flow planner, as flat integer arrays.

Nodes: one per demand (an order line, or identical lines merged), one per machine and
day of the horizon, and the sink. Arcs:

- demand -> (machine, its deadline day): making units on time, at the pair's unit cost;
- demand -> (machine, deadline + late window): making them late, plus the lateness cost;
- (machine, day k) -> (machine, day k-1): work due later may be done earlier, free;
- (machine, day k) -> sink: the machine's capacity that day;
- demand -> sink: units left unmade, at the unmet cost.

A demand's supply is its units; the sink takes them all. Costs are integers (scaled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
BIG = np.int64(1) << 40


@dataclass(frozen=True)
class FlowResult:
    flows: Ints
    cost: int
    optimal: bool


class FlowSolver(Protocol):
    """Solves a balanced min-cost flow exactly (the OR-Tools adapter is the real one)."""

    def __call__(
        self, n_nodes: int, tails: Ints, heads: Ints, caps: Ints, costs: Ints, supplies: Ints
    ) -> FlowResult: ...


@dataclass
class Network:
    n_nodes: int
    tails: Ints
    heads: Ints
    caps: Ints
    costs: Ints
    supplies: Ints
    n_pairs: int  # arcs [0, n_pairs) are the pairs' on-time arcs
    late_pairs: Ints  # then one late arc for each of these pairs, in this order

    def pair_flows(self, flows: Ints) -> tuple[Ints, Ints]:
        """(on-time units, late units) per pair."""
        on = flows[: self.n_pairs]
        late = np.zeros(self.n_pairs, dtype=np.int64)
        late[self.late_pairs] = flows[self.n_pairs : self.n_pairs + self.late_pairs.size]
        return on, late

    def solve(self, solver: FlowSolver) -> FlowResult:
        return solver(self.n_nodes, self.tails, self.heads, self.caps, self.costs, self.supplies)


@dataclass
class Layout:
    """Where things are: demand a is node a; (machine m, day k) is node day_node(m, k)."""

    n_demands: int
    n_machines: int
    horizon: int

    def day_node(self, m: Ints | int, k: Ints | int) -> Ints:
        return np.asarray(self.n_demands + np.asarray(m) * self.horizon + (np.asarray(k) - 1))

    @property
    def sink(self) -> int:
        return self.n_demands + self.n_machines * self.horizon

    @property
    def n_nodes(self) -> int:
        return self.sink + 1


def build(
    layout: Layout,
    *,
    quantity: Ints,
    on_day: Ints,
    late_day: Ints,
    pair_demand: Ints,
    pair_machine: Ints,
    on_cost: Ints,
    late_cost: Ints,
    unmet_cost: Ints,
    day_caps: Ints,
    late_mask: NDArray[np.bool_] | None = None,
) -> Network:
    """``on_day``/``late_day`` per demand (0 = no such arc); ``day_caps`` is (machines, H);
    ``late_mask`` says which pairs get a late arc (all by default)."""
    if late_mask is None:
        late_mask = np.ones(pair_demand.size, dtype=bool)
    late_pairs = np.flatnonzero(late_mask & (late_day[pair_demand] > 0))
    has_on = on_day[pair_demand] > 0
    big = np.minimum(quantity[pair_demand], BIG)
    on_t = pair_demand
    on_h = np.where(has_on, layout.day_node(pair_machine, np.maximum(on_day[pair_demand], 1)), 0)
    late_t = pair_demand[late_pairs]
    late_h = layout.day_node(pair_machine[late_pairs], late_day[late_t])
    machines = np.arange(layout.n_machines, dtype=np.int64)
    days = np.arange(1, layout.horizon + 1, dtype=np.int64)
    mm, kk = np.meshgrid(machines, days, indexing="ij")
    day_nodes = layout.day_node(mm, kk)
    chain_t = day_nodes[:, 1:].ravel()
    chain_h = day_nodes[:, :-1].ravel()
    cap_t = day_nodes.ravel()
    demands = np.arange(layout.n_demands, dtype=np.int64)
    n_pairs = len(pair_demand)
    tails = np.concatenate([on_t, late_t, chain_t, cap_t, demands])
    heads = np.concatenate(
        [
            on_h,
            late_h,
            chain_h,
            np.full(cap_t.size, layout.sink),
            np.full(demands.size, layout.sink),
        ]
    )
    caps = np.concatenate(
        [
            np.where(has_on, big, 0),
            big[late_pairs],
            np.full(chain_t.size, BIG),
            day_caps.ravel().astype(np.int64),
            quantity,
        ]
    )
    costs = np.concatenate(
        [on_cost, late_cost[late_pairs], np.zeros(chain_t.size + cap_t.size, np.int64), unmet_cost]
    )
    supplies = np.zeros(layout.n_nodes, dtype=np.int64)
    supplies[: layout.n_demands] = quantity
    supplies[layout.sink] = -int(quantity.sum())
    return Network(
        n_nodes=layout.n_nodes,
        tails=tails.astype(np.int64),
        heads=heads.astype(np.int64),
        caps=caps.astype(np.int64),
        costs=costs.astype(np.int64),
        supplies=supplies,
        n_pairs=n_pairs,
        late_pairs=late_pairs.astype(np.int64),
    )


Progress = Callable[[str], None]

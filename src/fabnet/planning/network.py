"""The time-bucketed network of the flow planner, as flat integer arrays, in machine time.

Flow is machine time, counted in ticks of one reference second (a machine of speed factor
``s`` gives ``s`` reference seconds per second of its clock). A unit of a line takes the
line's reference print time on any machine, so lines of every print time can share one
network: their units are converted to time at their own rate. Nodes: one per demand (an
order line, or identical lines merged), one per machine and day of the horizon (only the
days some arc ends on, each holding the days before it: see ``build``), the sink. Arcs:

- demand -> (machine, day d): units made by the end of day d on that machine; one arc per
  day the line may use (its deadline day, and each day of the late window after it), at the
  pair's unit cost plus lateness for the days after the deadline day, per tick; a machine
  on probation has one arc per demand, on its first usable day, bounded by the job size;
- (machine, day k) -> (machine, day k-1): work due later may be done earlier, free;
- (machine, day k) -> sink: the machine's time that day;
- demand -> sink: units left unmade, at the unmet cost.

A demand's supply is its units times its ticks per unit; the sink takes them all. Costs
are integers (money times the network's ``scale``, per tick).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


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
    n_arcs: int  # arcs [0, n_arcs) are the (demand, machine, day) arcs, in the caller's order
    n_demands: int  # the last n_demands arcs are the unmet arcs, demand by demand
    # node n_demands + j holds machine node_machine[j]'s time of the days after
    # node_after[j] up to node_day[j]; the sink is the last node
    node_machine: Ints
    node_after: Ints
    node_day: Ints

    def arc_flows(self, flows: Ints) -> Ints:
        return flows[: self.n_arcs]

    def unmet_flows(self, flows: Ints) -> Ints:
        return flows[flows.size - self.n_demands :]

    def solve(self, solver: FlowSolver) -> FlowResult:
        return solver(self.n_nodes, self.tails, self.heads, self.caps, self.costs, self.supplies)


@dataclass
class Layout:
    """The model's sizes: demand a is node a of every network; a network has at most
    ``n_nodes`` nodes (a node per machine and day, the sink)."""

    n_demands: int
    n_machines: int
    horizon: int

    @property
    def n_nodes(self) -> int:
        return self.n_demands + self.n_machines * self.horizon + 1


def build(
    layout: Layout,
    *,
    supply: Ints,
    arc_demand: Ints,
    arc_machine: Ints,
    arc_day: Ints,
    arc_cost: Ints,
    unmet_cost: Ints,
    day_caps: Ints,
    arc_caps: Ints | None = None,
) -> Network:
    """``supply`` in ticks per demand; arcs by (demand, machine, day >= 1) with their cost
    per tick; ``day_caps`` (machines, horizon) in ticks; ``arc_caps`` bounds an arc below
    its demand's supply (a machine on probation).

    A machine's days are nodes only where some arc ends: the node of day b holds the time
    of the days after the machine's previous such day, up to b, and passes work on to that
    day's node. Work due by b may be made on any day up to b, as with a node per day, so the
    network's optimum is the same; the days after a machine's last such day, and the
    machines no arc reaches, hold time no arc can use and are left out. (Large re-plan,
    first round: 580,000 arcs and 209,000 nodes became 343,000 and 88,000; OR-Tools 7.0 s
    became 3.2 s, the same optimum.)"""
    horizon = layout.horizon
    keys, heads_at = np.unique(arc_machine * (horizon + 1) + arc_day, return_inverse=True)
    node_machine, node_day = keys // (horizon + 1), keys % (horizon + 1)
    first = np.r_[True, node_machine[1:] != node_machine[:-1]] if keys.size else keys > 0
    node_after = np.where(first, 0, np.r_[0, node_day[:-1]])  # the machine's previous node
    machines, row = np.unique(node_machine, return_inverse=True)
    cum = np.zeros((machines.size, horizon + 1), dtype=np.int64)
    np.cumsum(day_caps[machines], axis=1, out=cum[:, 1:])
    node_caps = cum[row, node_day] - cum[row, node_after]
    n_demands = layout.n_demands
    nodes = n_demands + np.arange(keys.size, dtype=np.int64)
    sink = n_demands + int(keys.size)
    later = np.flatnonzero(~first)
    demands = np.arange(n_demands, dtype=np.int64)
    total = int(supply.sum())
    tails = np.concatenate([arc_demand, nodes[later], nodes, demands])
    heads = np.concatenate(
        [
            n_demands + heads_at.reshape(-1),
            nodes[later - 1],
            np.full(nodes.size, sink),
            np.full(n_demands, sink),
        ]
    )
    caps = np.concatenate(
        [
            supply[arc_demand] if arc_caps is None else np.minimum(supply[arc_demand], arc_caps),
            np.full(later.size, max(total, 1)),
            node_caps,
            supply,
        ]
    )
    costs = np.concatenate([arc_cost, np.zeros(later.size + nodes.size, np.int64), unmet_cost])
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_demands] = supply
    supplies[sink] = -total
    return Network(
        n_nodes=sink + 1,
        tails=tails.astype(np.int64),
        heads=heads.astype(np.int64),
        caps=caps.astype(np.int64),
        costs=costs.astype(np.int64),
        supplies=supplies,
        n_arcs=int(arc_demand.size),
        n_demands=n_demands,
        node_machine=node_machine.astype(np.int64),
        node_after=node_after.astype(np.int64),
        node_day=node_day.astype(np.int64),
    )


Progress = Callable[[str], None]

"""The time-bucketed network of the flow planner, as flat integer arrays, in machine time.

Flow is machine time, counted in ticks of one reference second (a machine of speed factor
``s`` gives ``s`` reference seconds per second of its clock). A unit of a line takes the
line's reference print time on any machine, so lines of every print time can share one
network: their units are converted to time at their own rate. Nodes: one per demand (an
order line, or identical lines merged), one per machine and day of the horizon, the sink.
Arcs:

- demand -> (machine, day d): units made by the end of day d on that machine; one arc per
  day the line may use (its deadline day, and each day of the late window after it), at the
  pair's unit cost plus lateness for the days after the deadline day, per tick; a machine
  on probation has one arc per demand, on its first usable day, bounded by the job size;
- (machine, day k) -> (machine, day k-1): work due later may be done earlier, free;
- (machine, day k) -> sink: the machine's time that day (these two only for the machines
  some demand arc reaches);
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

    def arc_flows(self, flows: Ints) -> Ints:
        return flows[: self.n_arcs]

    def unmet_flows(self, flows: Ints) -> Ints:
        return flows[flows.size - self.n_demands :]

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
    its demand's supply (a machine on probation)."""
    # only the machines some arc reaches get their day chain and time arcs: the others'
    # nodes stay, unconnected and without flow (their time is free: price 0), so that a
    # re-plan of a few lines does not carry every machine of the country through the solver
    machines = np.unique(arc_machine).astype(np.int64)
    days = np.arange(1, layout.horizon + 1, dtype=np.int64)
    mm, kk = np.meshgrid(machines, days, indexing="ij")
    day_nodes = layout.day_node(mm, kk)
    chain_t = day_nodes[:, 1:].ravel()
    chain_h = day_nodes[:, :-1].ravel()
    cap_t = day_nodes.ravel()
    demands = np.arange(layout.n_demands, dtype=np.int64)
    total = int(supply.sum())
    tails = np.concatenate([arc_demand, chain_t, cap_t, demands])
    heads = np.concatenate(
        [
            layout.day_node(arc_machine, arc_day),
            chain_h,
            np.full(cap_t.size, layout.sink),
            np.full(demands.size, layout.sink),
        ]
    )
    caps = np.concatenate(
        [
            supply[arc_demand] if arc_caps is None else np.minimum(supply[arc_demand], arc_caps),
            np.full(chain_t.size, max(total, 1)),
            day_caps[machines].ravel().astype(np.int64),
            supply,
        ]
    )
    costs = np.concatenate([arc_cost, np.zeros(chain_t.size + cap_t.size, np.int64), unmet_cost])
    supplies = np.zeros(layout.n_nodes, dtype=np.int64)
    supplies[: layout.n_demands] = supply
    supplies[layout.sink] = -total
    return Network(
        n_nodes=layout.n_nodes,
        tails=tails.astype(np.int64),
        heads=heads.astype(np.int64),
        caps=caps.astype(np.int64),
        costs=costs.astype(np.int64),
        supplies=supplies,
        n_arcs=int(arc_demand.size),
        n_demands=layout.n_demands,
    )


Progress = Callable[[str], None]

"""OR-Tools ``SimpleMinCostFlow`` as the planner's exact flow solver."""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from fabnet.domain.errors import ExternalSystemError
from fabnet.planning.network import FlowResult, Ints


class OrToolsFlow:
    def __call__(
        self, n_nodes: int, tails: Ints, heads: Ints, caps: Ints, costs: Ints, supplies: Ints
    ) -> FlowResult:
        smcf = min_cost_flow.SimpleMinCostFlow()
        smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int64), supplies)
        status = smcf.solve()
        if status != smcf.OPTIMAL:
            raise ExternalSystemError("or-tools", f"min-cost flow ended with status {status}")
        return FlowResult(
            flows=np.asarray(
                smcf.flows(np.arange(smcf.num_arcs(), dtype=np.int64)), dtype=np.int64
            ),
            cost=int(smcf.optimal_cost()),
            optimal=True,
        )

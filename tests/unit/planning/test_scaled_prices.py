"""The pricing bound at the prices scaled down (pricing.SCALES): an early round's
restricted network overprices machine time, and a share of its prices gives a higher
bound. Checked against the Lagrangian worked out over every capable arc at each share,
and against HiGHS's LP of the whole problem."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.planning.arcs import Floats
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.highs import solve_highs
from fabnet.planning.pricing import SCALES, day_prices, price_out, time_value, values
from fabnet.planning.problem import SECONDS_PER_DAY as DAY
from fabnet.planning.problem import Problem
from fabnet.planning.seeds import candidates
from fabnet.planning.time_model import TimeModel
from tests.unit.planning.test_flow import SOLVER, demand, random_problem, supply


def first_round(problem: Problem, options: FlowOptions):  # type: ignore[no-untyped-def]
    """The model, the first restricted network's arcs, their costs and its prices."""
    model = TimeModel(problem, list(problem.demands), options)
    pa, pm = candidates(model, options.k)
    arcs = model.dedupe(model.arcs_of_pairs(pa, pm, every_day=False))
    cost = model.unit_cost(arcs)
    keep = cost < model.d.unmet[arcs.a]
    arcs, cost = arcs.take(keep), cost[keep]
    net = model.network(arcs, cost)
    result = net.solve(SOLVER)
    return model, arcs, cost, day_prices(model, net, result.flows)


def enumerated(model: TimeModel, prices: Floats, scale: float) -> float:
    """The Lagrangian at ``scale`` times ``prices``, each demand's least value over every
    capable (machine, day) and its unmet cost: no distance ball, no pruning."""
    d = model.d
    least = d.unmet.copy()
    finite = np.isfinite(prices)
    scaled = np.where(finite, scale * np.where(finite, prices, 0.0), np.inf)
    for a in range(d.quantity.size):
        machines = model.group_machines[int(d.group[a])]
        if machines.size == 0:
            continue
        arcs, cost = model.pair_arcs(np.full(machines.size, a), machines)
        if len(arcs):
            least[a] = min(least[a], float(values(model, arcs, cost, scaled).min()))
    return float((d.quantity * least).sum()) - scale * time_value(model, prices)


OPTIONS = FlowOptions(k=1, margin=1.0, widen=False)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(1, 8), st.booleans())
def test_the_bound_is_the_best_of_the_scaled_lagrangians_and_below_the_lp(seed, n, m, short):
    problem = random_problem(seed, n, m, short=short)
    model, arcs, cost, prices = first_round(problem, OPTIONS)
    _, bound = price_out(model, arcs, cost, prices, exact=True)
    # at least the bound at the prices themselves; at most the best Lagrangian at their
    # shares (pairs pruned at the prices count at a floor below their arcs)
    own = enumerated(model, prices, 1.0)
    best = max(enumerated(model, prices, s) for s in SCALES)
    assert bound >= own - 1e-6 * (1 + abs(own))
    assert bound <= max(own, best) + 1e-6 * (1 + abs(best))
    lp = solve_highs(problem)
    assert lp.status == "optimal"
    assert bound <= lp.objective * (1 + 1e-9) + 1e-6


def test_an_overpriced_first_round_gets_a_higher_bound_at_a_share_of_its_prices():
    """Twelve lines at one place, each restricted to its nearest machine, which has time
    for a third of them: the first network prices that machine's time near the unmet
    cost, and the bound at those prices is far below zero; the other two machines, a
    little farther, have time for everything, so at a small share of the prices (none at
    all here) the bound is near the LP."""
    lines = tuple(demand(i, 10, 50.0, 8.0, 3, unit_s=3600.0) for i in range(12))
    machines = (
        supply(0, 50.0, 8.01, hours=16),
        supply(1, 50.3, 8.0, hours=24),
        supply(2, 50.0, 8.4, hours=24),
    )
    problem = Problem(lines, machines, horizon_s=4 * DAY)
    model, arcs, cost, prices = first_round(problem, OPTIONS)
    assert set(arcs.m.tolist()) == {0}
    _, bound = price_out(model, arcs, cost, prices, exact=True)
    _, unscaled = price_out(model, arcs, cost, prices, exact=True, shares=False)
    assert unscaled == enumerated(model, prices, 1.0)
    lp = solve_highs(problem).objective
    assert unscaled < 0.0
    assert 0.9 * lp <= bound <= lp * (1 + 1e-9)

"""When ``stop`` ends the pricing rounds, the network solved last is still priced once for
the bound (columns.LAST_SEARCH_SHARE): never lower than without, never above the LP of the
whole problem (HiGHS), and no arc added."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.planning import columns
from fabnet.planning.flow import solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.highs_lp import solve_highs_lp
from fabnet.planning.plan_files import check_plan
from tests.unit.planning.test_flow import SOLVER, random_problem


class _Counted:
    """The real flow solver, counting the networks it solves."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args):  # type: ignore[no-untyped-def]
        self.calls += 1
        return SOLVER(*args)


def _stopped_after_two(problem, share, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(columns, "LAST_SEARCH_SHARE", share)
    counted = _Counted()
    options = FlowOptions(k=1, margin=1.0, gap_tolerance=0.0, neighbourhood_s=0.0)
    plan = solve_flow(problem, counted, options=options, stop=lambda: counted.calls >= 2)
    assert plan.stats["rounds"] <= 2  # one where nothing prices out
    assert check_plan(problem, plan) == []
    return plan


def test_the_last_network_priced_lifts_the_bound(monkeypatch):
    problem = random_problem(3, 40, 8)
    without = _stopped_after_two(problem, -1.0, monkeypatch)
    priced = _stopped_after_two(problem, math.inf, monkeypatch)
    assert priced.stats["rounds"] == 2
    whole = solve_highs_lp(problem).objective
    assert without.stats["lp_relaxation"] < priced.stats["lp_relaxation"] <= whole + 1e-6
    # the same restricted network: the same LP and arcs (the search adds none)
    assert priced.stats["lp_objective"] == without.stats["lp_objective"]
    assert priced.stats["arcs"] == without.stats["arcs"]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 40), st.integers(2, 10))
def test_the_last_pricing_never_lowers_the_bound_nor_passes_the_lp(seed, lines, machines):
    problem = random_problem(seed, lines, machines)
    with pytest.MonkeyPatch.context() as mp:
        without = _stopped_after_two(problem, -1.0, mp)
        priced = _stopped_after_two(problem, math.inf, mp)
    whole = solve_highs_lp(problem).objective
    low, high = without.stats["lp_relaxation"], priced.stats["lp_relaxation"]
    assert high >= low or (math.isnan(low) and math.isnan(high))
    assert not high > whole * (1 + 1e-9) + 1e-6


class _Seen:
    """``columns.day_prices``, keeping each network priced, its flows and its prices."""

    def __init__(self) -> None:
        self.calls: list = []  # type: ignore[type-arg]
        self.real = columns.day_prices

    def __call__(self, model, net, flows):  # type: ignore[no-untyped-def]
        prices = self.real(model, net, flows)
        self.calls.append((net, flows, prices))
        return prices


class _Kept(_Counted):
    """The real flow solver, counting its networks and keeping the last with its flows."""

    def __call__(self, *args):  # type: ignore[no-untyped-def]
        result = super().__call__(*args)
        self.last = (args, result.flows)
        return result


@pytest.mark.parametrize(
    ("share", "until", "knapsack_s"),
    [(math.inf, 2, 10.0), (-1.0, 2, 10.0), (math.inf, 99, 10.0), (-1.0, 2, 0.0)],
)
def test_the_solution_keeps_the_last_networks_flows_and_prices_not_the_network(
    share, until, knapsack_s, monkeypatch
):
    """Whether the rounds end by ``stop`` (the last network priced for the bound, or not:
    then priced for the knapsack bound alone) or by pricing, the solution holds the flows
    and the prices of the network solved last, and not that network (the plan's memory
    peak); with no knapsack bound to seek, a network left unpriced is not priced for
    nothing, and the plan is still made and checked."""
    import dataclasses

    from fabnet.planning.flow import finish_plan
    from fabnet.planning.time_model import TimeModel

    problem = random_problem(5, 30, 6)
    monkeypatch.setattr(columns, "LAST_SEARCH_SHARE", share)
    seen = _Seen()
    monkeypatch.setattr(columns, "day_prices", seen)
    kept = _Kept()
    options = FlowOptions(
        k=1, margin=1.0, gap_tolerance=0.0, neighbourhood_s=0.0, knapsack_s=knapsack_s
    )
    demands = list(problem.demands)
    model = TimeModel(problem, demands, options)
    sol = columns.solve_model(model, kept, lambda: kept.calls >= until)
    (n_nodes, tails, heads, caps, costs, supplies), flows = kept.last
    if knapsack_s == 0:  # the last network (the second) was not priced
        assert sol.prices is None and len(seen.calls) == 1 and sol.rounds == 2
    else:
        net, priced_flows, prices = seen.calls[-1]
        assert priced_flows is flows and (net.tails == tails).all()  # the last network's
        assert sol.prices is prices and sol.prices.shape == (len(problem.supplies), model.horizon)
    n = len(sol.arcs)
    assert (sol.arc_ticks == flows[:n]).all() and (heads[:n] < n_nodes - 1).all()
    assert (sol.unmet_ticks == flows[flows.size - model.layout.n_demands :]).all()
    assert (heads[flows.size - model.layout.n_demands :] == n_nodes - 1).all()  # the unmet arcs
    held = [getattr(sol, f.name) for f in dataclasses.fields(sol)]
    arrays = [v for v in held if isinstance(v, np.ndarray)]
    its = [tails, heads, caps, costs, supplies, flows]
    assert not any(np.shares_memory(v, x) for v in arrays for x in its)  # none of it kept
    plan = finish_plan(model, sol, "flow", 0.0, demands, kept)
    assert check_plan(problem, plan) == []


def test_a_candidate_network_unsought_is_solved_once_and_never_priced(monkeypatch):
    """Fixed charge's slope-scaling candidates (``bound_sought=False``, pricing off): the
    same flows as when their bound is sought, one network, no prices, no search."""
    from dataclasses import replace

    from fabnet.planning.time_model import TimeModel

    problem = random_problem(8, 30, 6)
    searched: list[int] = []
    real_price_out = columns.price_out

    def counted_price_out(*args, **kwargs):  # type: ignore[no-untyped-def]
        searched.append(1)
        return real_price_out(*args, **kwargs)

    monkeypatch.setattr(columns, "price_out", counted_price_out)
    seen = _Seen()
    monkeypatch.setattr(columns, "day_prices", seen)
    options = FlowOptions(k=3, pricing=False, widen=False, neighbourhood_s=0.0)
    model = TimeModel(problem, list(problem.demands), options)
    sought = columns.solve_model(model, SOLVER, lambda: False)
    assert len(seen.calls) == 1 and searched and math.isfinite(sought.bound)
    seen.calls.clear()
    searched.clear()
    kept = _Counted()
    start = replace(sought.arcs)
    unsought = columns.solve_model(model, kept, lambda: False, start=start, bound_sought=False)
    assert kept.calls == 1 and not seen.calls and not searched
    assert unsought.prices is None and unsought.bound == -math.inf
    assert (unsought.arc_ticks == sought.arc_ticks).all()
    assert unsought.lp_objective == pytest.approx(sought.lp_objective)

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
from fabnet.planning.highs import solve_highs_lp
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


@pytest.mark.parametrize(("share", "until"), [(math.inf, 2), (-1.0, 2), (math.inf, 99)])
def test_the_solution_keeps_the_last_networks_flows_and_prices_not_the_network(
    share, until, monkeypatch
):
    """Whether the rounds end by ``stop`` (the last network priced for the bound, or not:
    then priced for the plan alone) or by pricing, the solution holds the flows and the
    prices of the network solved last, and not that network (the plan's memory peak)."""
    import dataclasses

    from fabnet.planning.network import Network
    from fabnet.planning.time_model import TimeModel

    problem = random_problem(5, 30, 6)
    monkeypatch.setattr(columns, "LAST_SEARCH_SHARE", share)
    seen = _Seen()
    monkeypatch.setattr(columns, "day_prices", seen)
    counted = _Counted()
    options = FlowOptions(k=1, margin=1.0, gap_tolerance=0.0, neighbourhood_s=0.0)
    model = TimeModel(problem, list(problem.demands), options)
    sol = columns.solve_model(model, counted, lambda: counted.calls >= until)
    net, flows, prices = seen.calls[-1]
    assert sol.prices is prices and sol.prices.shape == (len(problem.supplies), model.horizon)
    assert net.n_arcs == len(sol.arcs) and (sol.arc_ticks == net.arc_flows(flows)).all()
    assert (sol.unmet_ticks == net.unmet_flows(flows)).all()
    assert model.flow_cost(sol.arcs, model.unit_cost(sol.arcs), flows, net) == sol.lp_objective
    held = [getattr(sol, f.name) for f in dataclasses.fields(sol)]
    assert not any(isinstance(v, Network) for v in held)
    its = [net.tails, net.heads, net.caps, net.costs, flows]
    assert not any(np.shares_memory(v, x) for v in held if isinstance(v, np.ndarray) for x in its)

"""Whole units of a class of one print time: its network in units, each arc held to the
flow's units rounded up, against rounding the flow down (which it replaced)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.planning.flow import FlowOptions, TimeModel, solve_model
from tests.unit.planning.test_flow import SOLVER, random_problem


def _first_class(seed: int, n_lines: int, n_machines: int):  # type: ignore[no-untyped-def]
    problem = random_problem(seed, n_lines, n_machines, short=True)
    demands = [dem for dem in problem.demands if dem.units > 0]
    model = TimeModel(problem, demands, FlowOptions())
    sol = solve_model(model, SOLVER, lambda: False)
    members = model.size_classes()[0]
    on = members[sol.arcs.a]
    arcs, cost = sol.arcs.take(on), model.unit_cost(sol.arcs)[on]
    flow = sol.net.arc_flows(sol.flows)[on]
    return model, members, arcs, cost, flow


def _cost(model: TimeModel, members, arcs, cost, units) -> float:  # type: ignore[no-untyped-def]
    d = model.d
    placed = np.bincount(arcs.a, weights=units, minlength=d.quantity.size)
    unmet = np.where(members, d.quantity - placed, 0)
    return float((units * cost).sum() + (unmet * d.unmet).sum())


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 14), st.integers(1, 8))
def test_a_class_in_units_is_never_dearer_than_its_flow_rounded_down(seed, n_lines, n_machines):
    """The flow's units rounded down fit the network (within each arc's bound, and the
    time by each day: the flow's fit, whole units of it fit the whole units of that
    time), so the network's optimum costs at most that; its units stay within the bound,
    a line's units within its quantity, and the time by every day within the machine's."""
    model, members, arcs, cost, flow = _first_class(seed, n_lines, n_machines)
    d = model.d
    ticks = d.ticks[arcs.a]
    limit = -(-flow // ticks)
    used = np.zeros_like(model.day_caps)
    units = model._one_time(arcs, cost, used, members, SOLVER, limit)

    assert (units >= 0).all() and (units <= limit).all()
    placed = np.bincount(arcs.a, weights=units, minlength=d.quantity.size)
    assert (placed <= np.where(members, d.quantity, 0)).all()
    by_day = np.zeros_like(model.day_caps)
    np.add.at(by_day, (arcs.m, arcs.d - 1), units * ticks)
    assert (np.cumsum(by_day, axis=1) <= model.cum_ticks[:, 1:]).all()

    down = _cost(model, members, arcs, cost, flow // ticks)
    assert _cost(model, members, arcs, cost, units) <= down * (1 + 1e-6) + 1e-6


def test_a_class_held_to_no_units_makes_none():
    """A bound of 0 on every arc (the flow gave the class nothing) leaves it all unmet:
    the bound is kept, not widened to what the time would allow."""
    model, members, arcs, cost, _ = _first_class(3, 8, 5)
    used = np.zeros_like(model.day_caps)
    units = model._one_time(arcs, cost, used, members, SOLVER, np.zeros(len(arcs), np.int64))
    assert not units.any()
    free = model._one_time(arcs, cost, used, members, SOLVER)
    assert free.any()

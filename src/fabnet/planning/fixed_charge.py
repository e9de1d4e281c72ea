"""The fixed-charge model: each (line, machine) pair that ships pays one parcel cost.

This is what keeps 50,000 units from being spread over 2,000 makers when 200 suffice.
It is NP-hard, so: the LP relaxation (with ``x_pair <= u_pair * y_pair`` and
``u_pair = min(line units, units the machine can make in the horizon)`` its optimum
charges ``f / u_pair`` per unit) is solved in machine time with pricing over every capable
machine and gives ``lp_bound``; dynamic slope scaling (Kim and Pardalos, 1999) then
re-solves with the parcel cost spread over the units each pair carried last time, and a
local search closes the pairs that carry the fewest units, keeping the best true cost.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from fabnet.planning.flow import (
    Arcs,
    Extra,
    Floats,
    FlowOptions,
    Solution,
    Stop,
    TimeModel,
    finish_plan,
    solve_flow,
    solve_model,
)
from fabnet.planning.network import FlowSolver, Ints
from fabnet.planning.plan import Plan
from fabnet.planning.problem import Problem


def _with_parcels(plan: Plan, fixed: float) -> float:
    pairs = {(a.line_id, a.machine_id) for a in plan.assignments}
    return plan.stats["objective"] + fixed * len(pairs)


def _pair_units(model: TimeModel, sol: Solution) -> tuple[Ints, Floats]:
    """Sorted pair keys and the (fractional) units each carried."""
    n_m = max(1, model.layout.n_machines)
    keys = sol.arcs.a * n_m + sol.arcs.m
    units = sol.net.arc_flows(sol.flows) / model.d.ticks[sol.arcs.a]
    uniq, inverse = np.unique(keys, return_inverse=True)
    carried = np.zeros(uniq.size)
    np.add.at(carried, inverse, units)
    return uniq, carried


def _lookup(model: TimeModel, keys: Ints, values: Floats, default: Extra) -> Extra:
    n_m = max(1, model.layout.n_machines)

    def extra(a: Ints, m: Ints) -> Floats:
        k = a * n_m + m
        pos = np.minimum(np.searchsorted(keys, k), max(keys.size - 1, 0))
        hit = keys[pos] == k if keys.size else np.zeros(k.size, dtype=bool)
        return np.where(hit, values[pos] if keys.size else 0.0, default(a, m))

    return extra


def solve_fixed_charge(
    problem: Problem,
    solver: FlowSolver,
    *,
    options: FlowOptions | None = None,
    iterations: int = 12,
    stop: Stop = lambda: False,
) -> Plan:
    started = time.perf_counter()
    fixed = problem.costs.fixed_per_pair
    options = replace(options or FlowOptions(), aggregate=False)
    demands = [d for d in problem.demands if d.units > 0]
    model = TimeModel(problem, demands, options)

    def lp_extra(a: Ints, m: Ints) -> Floats:
        can = model.cum_ticks[m, -1] // model.d.ticks[a]
        room = np.minimum(model.d.quantity[a], can)
        return np.asarray(fixed / np.maximum(room, 1), dtype=np.float64)

    model.extra = lp_extra
    relaxed = solve_model(model, solver, stop)
    lp_bound = relaxed.bound
    best = finish_plan(model, relaxed, "fixed_charge", started, demands, solver)
    best_cost = _with_parcels(best, fixed)
    # the splittable plan, parcels counted, is a candidate too: where whole units leave
    # some unmet, its rounding (of merged demand) can beat the parcel-aware ones
    split = solve_flow(problem, solver, options=replace(options, aggregate=True), stop=stop)
    if _with_parcels(split, fixed) < best_cost - 1e-9:
        best, best_cost = split, _with_parcels(split, fixed)
    arcs = relaxed.arcs
    keys, carried = _pair_units(model, relaxed)
    restricted = replace(options, pricing=False, widen=False)
    model.options = restricted
    for _ in range(iterations):
        if stop():
            break
        n_m = max(1, model.layout.n_machines)
        slope = np.where(
            carried > 1e-9,
            fixed / np.maximum(carried, 1e-9),
            lp_extra(keys // n_m, keys % n_m),
        )
        model.extra = _lookup(model, keys, slope, lp_extra)
        sol = solve_model(model, solver, stop, start=arcs)
        plan = finish_plan(model, sol, "fixed_charge", started, demands, solver)
        cost = _with_parcels(plan, fixed)
        keys, carried = _pair_units(model, sol)
        if cost < best_cost - 1e-9:
            best, best_cost = plan, cost
    best, best_cost = _close_small_pairs(model, solver, best, best_cost, fixed, stop, started)
    model.extra = None
    gap = (best_cost - lp_bound) / best_cost if best_cost and math.isfinite(lp_bound) else math.nan
    gap = max(0.0, gap) if gap == gap else gap
    return Plan(
        assignments=best.assignments,
        unmet=best.unmet,
        solver="fixed_charge",
        stats={
            "solve_s": time.perf_counter() - started,
            "objective": best_cost,
            "lp_bound": lp_bound,
            "gap": gap,
            "certified": float(gap == gap and gap <= options.gap_tolerance),
            "pairs": float(len({(a.line_id, a.machine_id) for a in best.assignments})),
        },
    )


def _close_small_pairs(
    model: TimeModel,
    solver: FlowSolver,
    best: Plan,
    best_cost: float,
    fixed: float,
    stop: Stop,
    started: float,
    rounds: int = 8,
) -> tuple[Plan, float]:
    """Local search: forbid the pairs that carry the fewest units (a parcel for a handful
    of units rarely pays) and re-solve on the rest; keep the result when the cost falls."""
    share = 0.5
    model.extra = None
    line_index = {dem.line_id: a for a, g in enumerate(model.d.members) for dem, _ in g}
    machine_index = {s.machine_id: i for i, s in enumerate(model.supplies)}
    demands = [dem for g in model.d.members for dem, _ in g]
    for _ in range(rounds):
        if stop() or share < 0.01 or not best.assignments:
            break
        carried: dict[tuple[int, int], int] = {}
        for x in best.assignments:
            pair = (line_index[x.line_id], machine_index[x.machine_id])
            carried[pair] = carried.get(pair, 0) + x.units
        cut = float(np.quantile(np.array(list(carried.values())), share))
        kept = np.array([p for p, u in carried.items() if u > cut], dtype=np.int64).reshape(-1, 2)
        arcs = model.arcs_of_pairs(kept[:, 0], kept[:, 1], every_day=True)
        sol = solve_model(model, solver, stop, start=arcs if len(arcs) else Arcs.empty())
        plan = finish_plan(model, sol, "fixed_charge", started, demands, solver)
        cost = _with_parcels(plan, fixed)
        if cost < best_cost - 1e-9:
            best, best_cost = plan, cost
        else:
            share /= 2
    return best, best_cost

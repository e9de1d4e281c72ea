"""The fixed-charge model: each (line, machine) pair that ships pays one parcel cost.

This is what keeps 50,000 units from being spread over 2,000 makers when 200 suffice.
It is NP-hard, so: the LP relaxation (with ``x_pair <= u_pair * y_pair`` and
``u_pair = min(line units, machine capacity)`` its optimum charges ``f / u_pair`` per unit)
is solved exactly with pricing over every capable machine and gives ``lp_bound``; dynamic
slope scaling (Kim and Pardalos, 1999) then re-solves with the parcel cost spread over the
units each pair carried last time, keeping the best true cost.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from fabnet.planning.flow import (
    ClassModel,
    ClassSolution,
    Floats,
    FlowOptions,
    Stop,
    extract,
    solve_class,
    unmet_of,
)
from fabnet.planning.network import FlowSolver, Ints
from fabnet.planning.plan import Plan
from fabnet.planning.problem import Problem


def _true_cost(model: ClassModel, sol: ClassSolution, fixed: float) -> float:
    on_flow, late_flow = sol.net.pair_flows(sol.flows)
    total = on_flow + late_flow
    saved = model.extra
    model.extra = None
    on, late = model.pair_costs(sol.pa, sol.pm)
    model.extra = saved
    scale = model.costs.scale
    unmet = sol.flows[-model.layout.n_demands :] if model.layout.n_demands else np.zeros(0)
    cost = float((on * on_flow).sum() + (late * late_flow).sum())
    cost += float((model.unmet_costs() * unmet).sum())
    return float(cost / scale + fixed * int((total > 0).sum()))


def _close_small_pairs(
    model: ClassModel,
    solver: FlowSolver,
    best: ClassSolution,
    best_cost: float,
    fixed: float,
    stop: Stop,
    rounds: int = 8,
) -> tuple[ClassSolution, float]:
    """Local search: forbid the pairs that carry the fewest units (a parcel for a handful
    of units rarely pays) and re-solve; keep the result when the true cost falls."""
    share = 0.5
    model.extra = None
    for _ in range(rounds):
        if stop() or share < 0.01:
            break
        carried = np.add(*best.net.pair_flows(best.flows))
        used = np.flatnonzero(carried > 0)
        if used.size == 0:
            break
        cut = np.quantile(carried[used], share)
        keep = ~((carried > 0) & (carried <= cut))
        pa, pm = best.pa[keep], best.pm[keep]
        net = model.network(pa, pm)
        result = net.solve(solver)
        trial = ClassSolution(
            model, pa, pm, result.flows, net, result.cost / model.costs.scale, float("nan"), False
        )
        cost = _true_cost(model, trial, fixed)
        if cost < best_cost - 1e-9:
            best, best_cost = trial, cost
        else:
            share /= 2
    return best, best_cost


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
    classes = {d.unit_time_s for d in problem.demands if d.units > 0}
    if len(classes) > 1:
        raise ValueError("the fixed-charge model takes one unit-time class at a time")
    demands = [d for d in problem.demands if d.units > 0]
    unit_s = demands[0].unit_time_s if demands else 1.0
    model = ClassModel(problem, demands, unit_s, np.zeros(len(problem.supplies)), options)

    def lp_extra(a: Ints, m: Ints) -> Floats:
        room = np.minimum(model.d.quantity[a], model.capacity_by_horizon(m))
        return np.asarray(fixed / np.maximum(room, 1), dtype=np.float64)

    model.extra = lp_extra
    relaxed = solve_class(model, solver, stop)
    lp_bound = relaxed.bound if relaxed.certified else float("nan")
    best, best_cost = relaxed, _true_cost(model, relaxed, fixed)
    pa, pm = relaxed.pa, relaxed.pm
    carried = np.add(*relaxed.net.pair_flows(relaxed.flows)).astype(np.float64)
    restricted = replace(options, pricing=False, widen=False)
    model.options = restricted
    for _ in range(iterations):
        if stop():
            break
        slope = np.where(carried > 0, fixed / np.maximum(carried, 1.0), lp_extra(pa, pm))
        lookup = {(int(a), int(m)): float(v) for a, m, v in zip(pa, pm, slope, strict=True)}

        def scaled(a: Ints, m: Ints, lookup: dict[tuple[int, int], float] = lookup) -> Floats:
            return np.array([lookup[(int(x), int(y))] for x, y in zip(a, m, strict=True)])

        model.extra = scaled
        net = model.network(pa, pm)
        result = net.solve(solver)
        sol = ClassSolution(
            model, pa, pm, result.flows, net, result.cost / model.costs.scale, float("nan"), False
        )
        cost = _true_cost(model, sol, fixed)
        carried = np.add(*net.pair_flows(result.flows)).astype(np.float64)
        if cost < best_cost - 1e-9:
            best, best_cost = sol, cost
    best, best_cost = _close_small_pairs(model, solver, best, best_cost, fixed, stop)
    model.extra = None
    assignments, _ = extract(best)

    gap = (best_cost - lp_bound) / best_cost if best_cost and lp_bound == lp_bound else float("nan")
    return Plan(
        assignments=tuple(assignments),
        unmet=tuple(unmet_of(problem, demands, assignments)),
        solver="fixed_charge",
        stats={
            "solve_s": time.perf_counter() - started,
            "objective": best_cost,
            "lp_bound": lp_bound,
            "gap": max(0.0, gap) if gap == gap else gap,
            "certified": float(relaxed.certified),
            "pairs": float(len({(a.line_id, a.machine_id) for a in assignments})),
        },
    )

"""The fixed-charge model: each (line, machine) pair that ships pays one parcel cost.

This is what keeps 50,000 units from being spread over 2,000 makers when 200 suffice.
It is NP-hard, so: the LP relaxation (with ``x_pair <= u_pair * y_pair`` and ``u_pair =
min(line units, units the machine can make by the pair's last usable day, a machine on
probation's job)`` its optimum charges ``f / u_pair`` per unit) is solved in machine time
with pricing over every capable machine and gives ``lp_bound``; dynamic slope scaling
(Kim and Pardalos, 1999) then re-solves with the parcel cost spread over the units each
pair carried last time (until ``patience`` rounds in a row find nothing cheaper), a local
search closes the pairs that carry the fewest units, keeping the best true cost, and a
merge step on whole units closes a line's smallest pair where its other machines have
the time.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import numpy as np

from fabnet.planning.arcs import Arcs, Extra, Floats, Solution, Stop, sorted_find
from fabnet.planning.assignments import plan_of
from fabnet.planning.columns import solve_model
from fabnet.planning.flow import finish_plan, solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.machine_pairs import arrays_of, machine_pairs, work_of
from fabnet.planning.mip_pool import cpus
from fabnet.planning.network import FlowSolver, Ints
from fabnet.planning.pair_merge import merge_pairs, plan_work
from fabnet.planning.plan import Plan, gap_of
from fabnet.planning.problem import Demand, Problem
from fabnet.planning.steps import Steps
from fabnet.planning.time_model import TimeModel

log = logging.getLogger(__name__)


def _with_parcels(plan: Plan, fixed: float) -> float:
    pairs = {(a.line_id, a.machine_id) for a in plan.assignments}
    return plan.stats["objective"] + fixed * len(pairs)


def _note(step: str, cost: float, started: float) -> None:
    """A candidate plan said in one line (its own steps are timed, not said)."""
    log.info("fixed charge: %s %.0f (%.1f s)", step, cost, time.perf_counter() - started)


def _pair_units(model: TimeModel, sol: Solution) -> tuple[Ints, Floats]:
    """Sorted pair keys and the (fractional) units each carried."""
    n_m = max(1, model.layout.n_machines)
    keys = sol.arcs.a * n_m + sol.arcs.m
    units = sol.arc_ticks / model.d.ticks[sol.arcs.a]
    uniq, inverse = np.unique(keys, return_inverse=True)
    carried = np.zeros(uniq.size)
    np.add.at(carried, inverse, units)
    return uniq, carried


def _lookup(model: TimeModel, keys: Ints, values: Floats, default: Extra) -> Extra:
    n_m = max(1, model.layout.n_machines)

    def extra(a: Ints, m: Ints) -> Floats:
        pos, hit = sorted_find(keys, a * n_m + m)
        return np.where(hit, values[pos] if keys.size else 0.0, default(a, m))

    return extra


def solve_fixed_charge(
    problem: Problem,
    solver: FlowSolver,
    *,
    options: FlowOptions | None = None,
    iterations: int = 12,
    patience: int = 3,
    trade_s: float = 360.0,
    trade_workers: int | None = None,
    stop: Stop = lambda: False,
) -> Plan:
    """``trade_workers``: processes for the trades' MIPs (default: the CPUs this process
    may use, at most ``mip_pool.MOST_WORKERS``)."""
    started = time.perf_counter()
    fixed = problem.costs.fixed_per_pair
    # its plans are scored with their parcels, which the neighbourhoods of lines above the
    # LP do not see, and its local search finishes up to `rounds` plans: not those
    given = options or FlowOptions()
    options = replace(given, aggregate=False, above_lp_lines=False)
    demands = [d for d in problem.demands if d.units > 0]
    model = TimeModel(problem, demands, options)
    lp_extra = _lp_extra(model, fixed)
    model.extra = lp_extra
    relaxed = solve_model(model, solver, stop)
    lp_bound = relaxed.bound
    # a plan within the tolerance of the bound is certified: no further search is worth it
    enough = lp_bound / (1.0 - options.gap_tolerance)
    best, best_cost = _candidates(
        model, solver, relaxed, given, (iterations, patience, enough), stop, started, demands
    )
    workers = trade_workers if trade_workers is not None else cpus()
    best, best_cost = _searched(
        model, (best, best_cost), enough, stop, trade_s, workers, started, demands
    )
    model.extra = None
    gap = gap_of(best_cost, lp_bound)
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


def _candidates(
    model: TimeModel,
    solver: FlowSolver,
    relaxed: Solution,
    given: FlowOptions,
    rounds: tuple[int, int, float],
    stop: Stop,
    started: float,
    demands: list[Demand],
) -> tuple[Plan, float]:
    """The best of the plans made whole from the LP ``relaxed``, the splittable plan, the
    slope-scaling rounds and the small pairs closed; its cost with parcels. ``rounds``:
    slope scaling's most rounds and patience, and the cost at which a plan is certified
    (the searches after the splittable plan are skipped once one costs no more)."""
    fixed = model.costs.fixed_per_pair
    lp_extra = model.extra
    assert lp_extra is not None  # the LP's parcel charge, set by the caller
    best = finish_plan(model, relaxed, "fixed_charge", started, demands, solver, Steps(quiet=True))
    best_cost = _with_parcels(best, fixed)
    _note("the LP's plan", best_cost, started)
    # nothing made, the trivial plan: the whole units above place the LP's unmet units
    # without their parcels, so where parcels outweigh every unit this one is the cheapest
    none = plan_of(
        model,
        Arcs.empty(),
        np.zeros(0, np.int64),
        np.zeros(0),
        "fixed_charge",
        started,
        demands,
        relaxed.bound,
    )
    _note("nothing made", none.stats["objective"], started)
    if none.stats["objective"] < best_cost - 1e-9:
        best, best_cost = none, none.stats["objective"]
    # the splittable plan, parcels counted, is a candidate too: where whole units leave
    # some unmet, its rounding (of merged demand) can beat the parcel-aware ones
    # (finished as any splittable plan is: the test suite holds the two to each other)
    # its steps are said: a whole plan, with the neighbourhoods' minute at medium
    split = solve_flow(model.problem, solver, options=replace(given, aggregate=True), stop=stop)
    if _with_parcels(split, fixed) < best_cost - 1e-9:
        best, best_cost = split, _with_parcels(split, fixed)
    _note("the splittable plan", _with_parcels(split, fixed), started)
    if best_cost <= rounds[2]:
        # certified (parcels so dear that nothing is made, say): the searches would spend
        # their time on plans no cheaper (OKW, parcel 1e9: 92 s of 97)
        return best, best_cost
    model.options = replace(model.options, pricing=False, widen=False)
    best, best_cost = _slope_scaled(
        model, solver, relaxed, lp_extra, (best, best_cost), rounds[:2], stop, started, demands
    )
    best, best_cost = _close_small_pairs(model, solver, best, best_cost, fixed, stop, started)
    _note("small pairs closed", best_cost, started)
    return best, best_cost


def _searched(
    model: TimeModel,
    found: tuple[Plan, float],
    enough_cost: float,
    stop: Stop,
    trade_s: float,
    workers: int,
    started: float,
    demands: list[Demand],
) -> tuple[Plan, float]:
    """``found`` (a plan and its cost with parcels) after the merge step, the trades
    between two machines (until the cost is at most ``enough_cost``) and the merge step
    again: the cheapest, and its cost."""
    fixed = model.costs.fixed_per_pair
    best, best_cost = found
    for step in ("merged", "traded", "merged again"):
        if step == "traded":
            enough = best_cost - enough_cost
            plan = _traded(
                model, best, fixed, started, demands, stop, trade_s, enough, workers=workers
            )
        else:
            plan = merge_pairs(model, best, fixed, started, demands)
        _note(step, _with_parcels(plan, fixed), started)
        if _with_parcels(plan, fixed) < best_cost - 1e-9:
            best, best_cost = plan, _with_parcels(plan, fixed)
    return best, best_cost


def _lp_extra(model: TimeModel, fixed: float) -> Extra:
    """The LP relaxation's charge per unit of a pair: ``fixed / u`` with ``u`` the most
    units of line a machine m can carry (the line's units, what the machine can make by
    the pair's last usable day, a machine on probation's job)."""

    def extra(a: Ints, m: Ints) -> Floats:
        can = model.cum_ticks[m, model.last_day(a, m)] // model.d.ticks[a]
        room = np.minimum(model.d.quantity[a], can)
        room = np.where(model.job_cap[m] > 0, np.minimum(room, model.job_cap[m]), room)
        return np.asarray(fixed / np.maximum(room, 1), dtype=np.float64)

    return extra


def _slope_scaled(
    model: TimeModel,
    solver: FlowSolver,
    relaxed: Solution,
    lp_extra: Extra,
    best: tuple[Plan, float],
    rounds: tuple[int, int],
    stop: Stop,
    started: float,
    demands: list[Demand],
) -> tuple[Plan, float]:
    """Dynamic slope scaling on the relaxed LP's arcs: each round charges a pair's parcel
    over the units it carried the round before (``lp_extra`` where it carried none), for
    at most ``rounds[0]`` rounds, until ``rounds[1]`` in a row find nothing cheaper than
    the ``best`` plan so far (with its cost, parcels counted); the best plan then."""
    iterations, patience = rounds
    fixed = model.costs.fixed_per_pair
    n_m = max(1, model.layout.n_machines)
    keys, carried = _pair_units(model, relaxed)
    best_cost = best[1]
    idle = 0  # rounds in a row that found nothing cheaper
    for _ in range(iterations):
        if stop() or idle >= patience:
            break
        slope = np.where(
            carried > 1e-9, fixed / np.maximum(carried, 1e-9), lp_extra(keys // n_m, keys % n_m)
        )
        model.extra = _lookup(model, keys, slope, lp_extra)
        # a candidate: the bound of its network at slope-scaled charges is of no use
        sol = solve_model(model, solver, stop, start=relaxed.arcs, bound_sought=False)
        plan = finish_plan(model, sol, "fixed_charge", started, demands, solver, Steps(quiet=True))
        cost = _with_parcels(plan, fixed)
        keys, carried = _pair_units(model, sol)
        idle += 1
        _note("slope scaling", cost, started)
        if cost < best_cost - 1e-9:
            best, best_cost, idle = (plan, cost), cost, 0
    return best


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
    of units rarely pays) and re-solve on the rest; keep the result when the cost falls.
    Each round that gains nothing halves the share forbidden; a share whose cut in units
    is one already tried on the same plan is passed over (with most pairs carrying one to
    a few units, the quantiles below a tenth are all one unit: at the medium benchmark
    size four rounds in a row re-solved the same network)."""
    share = 0.5
    model.extra = None
    line_index = {dem.line_id: a for a, g in enumerate(model.d.members) for dem, _ in g}
    machine_index = {s.machine_id: i for i, s in enumerate(model.supplies)}
    demands = [dem for g in model.d.members for dem, _ in g]
    tried: set[float] = set()  # cuts that gained nothing on the current best plan
    solved = 0
    while solved < rounds:
        if stop() or share < 0.01 or not best.assignments:
            break
        carried: dict[tuple[int, int], int] = {}
        for x in best.assignments:
            pair = (line_index[x.line_id], machine_index[x.machine_id])
            carried[pair] = carried.get(pair, 0) + x.units
        cut = float(np.quantile(np.array(list(carried.values())), share))
        if cut in tried:
            share /= 2
            continue
        solved += 1
        kept = np.array([p for p, u in carried.items() if u > cut], dtype=np.int64).reshape(-1, 2)
        arcs = model.arcs_of_pairs(kept[:, 0], kept[:, 1], every_day=True)
        sol = solve_model(model, solver, stop, start=arcs if len(arcs) else Arcs.empty())
        if sol.lp_objective >= best_cost:
            # whole units on these pairs cost at least their LP, parcels aside: no gain
            # (at the medium size each such round's finishing took about 45 s)
            _note(f"pairs under the {share:.3f} quantile forbidden: LP", sol.lp_objective, started)
            tried.add(cut)
            share /= 2
            continue
        plan = finish_plan(model, sol, "fixed_charge", started, demands, solver, Steps(quiet=True))
        cost = _with_parcels(plan, fixed)
        _note(f"pairs under the {share:.3f} quantile forbidden", cost, started)
        if cost < best_cost - 1e-9:
            best, best_cost = plan, cost
            tried.clear()
        else:
            tried.add(cut)
            share /= 2
    return best, best_cost


def _traded(
    model: TimeModel,
    plan: Plan,
    fixed: float,
    started: float,
    demands: list[Demand],
    stop: Stop,
    budget_s: float,
    enough: float = math.inf,
    *,
    workers: int = 1,
) -> Plan:
    """The plan after MIPs of two machines that share split lines (machine_pairs.py),
    until they have saved ``enough`` (or the budget is spent)."""
    model.extra = None
    work = plan_work(model, plan)
    if work is None or budget_s <= 0 or enough <= 0:
        return plan
    a_of, m_of, day_of, units, _ = work
    table = work_of(a_of, m_of, day_of, units)
    if not machine_pairs(model, table, fixed, stop, budget_s, enough=enough, workers=workers):
        return plan
    arcs, made = arrays_of(table)
    return plan_of(
        model, arcs, made, model.unit_cost(arcs), "fixed_charge", started, demands, math.nan
    )

"""The flow planner: one model in machine time, min-cost flow, priced to a certificate.

Every line that a machine can make competes for that machine's time, whatever its print
time: flow is machine time (network.py), a line's units become time at its own rate.

1. Identical demand (same place, deadline day, capability, priority, mass, print time) is
   merged.
2. Each demand starts with its nearest capable machines (a KD-tree per capability),
   widened until their time covers ``margin`` times the demand's; a re-plan's demands
   with the nearest that still have room, each taking its time before the next looks
   (``FlowOptions.room_seed``).
3. The restricted network is solved exactly (a ``FlowSolver``: OR-Tools in production).
   Its optimum is the LP relaxation of the restricted problem (units may be fractional).
4. Pricing: the optimum's node potentials give a price ``M[m, d]`` per second of machine
   m's time by day d (>= 0, non-increasing in d). For any such prices,

       bound = sum_a U_a * min(u_a, min over every capable (m, d) of c(a, m, d) + t_a M[m, d])
               - sum_(m, d) time(m, d) * M[m, d]

   is a lower bound on every plan (Lagrangian relaxation of the capacity rows), computed
   in floating point with the true print times and costs. A distance bound limits the
   search over "every capable (m, d)" to a ball around each demand; the arcs that price
   out are added and the network solved again.
5. Units are made whole: each arc's units rounded down, the remainders placed on the
   cheapest arc with time left (or left unmet). The plan's true cost against the bound is
   the reported gap; ``certified`` means it is within ``gap_tolerance``.
6. Where the plan is not within the tolerance of the LP bound: the knapsack bound (the
   demand rows relaxed, whole units on each machine), the higher of the two reported.

Where each step lives: the model (merged demand, machines' time, unit costs, networks)
in time_model.py, the options in flow_options.py, step 2 in seeds.py, the rounds of
steps 2-4 in columns.py, step 4's search in pricing.py, step 5 in rounding.py (and
neighbourhood.py for HiGHS's MIPs of a few machines), step 6 in knapsack.py, the plan's
assignments in assignments.py; this module runs them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from fabnet.planning.arcs import Arcs, Floats, Solution, Stop
from fabnet.planning.assignments import plan_of
from fabnet.planning.columns import solve_model
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.knapsack import knapsack_bound, network_prices, worth_seeking
from fabnet.planning.knapsack_ascent import ascend
from fabnet.planning.mip_pool import cpus
from fabnet.planning.neighbourhood import improve
from fabnet.planning.network import FlowSolver, Ints
from fabnet.planning.plan import Assignment, Plan
from fabnet.planning.problem import Demand, Problem
from fabnet.planning.rounding import polish, sweep_classes, whole_units
from fabnet.planning.steps import Steps
from fabnet.planning.time_model import TimeModel

log = logging.getLogger(__name__)

# the lines above the LP get the whole neighbourhood budget where the plan stands more
# than this many times the gap tolerance above its bound
FULL_TIME_ABOVE = 10.0


def above_lp_time(opts: FlowOptions, objective: float, bound: float, spent_s: float) -> float:
    """How long the lines above the LP may be re-planned: at most the time the plan took
    so far (``spent_s``), so that a plan found in seconds is not held up a minute for a
    few tenths of a per cent; the whole ``neighbourhood_s`` where the plan stands more than
    ``FULL_TIME_ABOVE`` times the tolerance above its bound (the OKW facilities, 400
    lines, plans found in 4-7 s: 3.9% -> 2.4% and 4.6% -> 3.5% in 62 s)."""
    if math.isfinite(bound) and objective - bound > FULL_TIME_ABOVE * opts.gap_tolerance * abs(
        objective
    ):
        return max(spent_s, opts.neighbourhood_s)
    return spent_s


def _rounded(
    model: TimeModel,
    sol: Solution,
    flow_solver: FlowSolver | None,
    *,
    sweep: bool,
    lp_same: bool,
) -> tuple[float, Arcs, Ints]:
    """Whole units two ways, each class then planned again on the time the others leave
    (``sweep_classes``), the cheaper kept: each arc rounded down, and with a flow solver
    class by class, the shortest parts first (``whole_units``). Neither wins everywhere
    once swept (rounded down: medium, one LP, 0.289% against 0.341%; the OKW sample's
    facilities, seed 2, 29.1% against 4.6%), so both are swept before they are compared;
    the second only where the first is not within the tolerance of the restricted LP,
    which a plan on its arcs alone cannot go below (large: the first 0.053% above it in
    100 s, the second 0.055% in 351 s more); ``lp_same``: that LP paid the plan's costs
    (not a fixed charge per unit besides: fixed_charge.py, where both are always made).
    Where both leave units unmet that the LP made, class by class the longest first too:
    big parts first pack pieces of time that the short parts would leave too small for
    a long one (the hand case in tests/unit/planning/test_whole_units.py)."""
    opts = model.options
    cost = model.unit_cost(sol.arcs)
    d = model.d
    lp_unmet = float((sol.unmet_ticks / d.ticks).sum())
    ways: list[tuple[FlowSolver | None, bool]] = [(None, False)]
    if flow_solver is not None:
        ways += [(flow_solver, False), (flow_solver, True)]
    best: tuple[float, Arcs, Ints] | None = None
    for how, longest in ways:
        if longest and best is not None and _unmet(model, best[1], best[2]) <= lp_unmet + 0.5:
            break
        if lp_same and best is not None and best[0] <= (1 + opts.gap_tolerance) * sol.lp_objective:
            break  # within the tolerance of the LP over the same arcs: little to gain
        arcs, units, _ = whole_units(model, sol, cost, how, longest_first=longest)
        total = model.objective_of(arcs, units)
        if sweep and flow_solver is not None and opts.sweep_classes:
            arcs, units, total = sweep_classes(model, sol.arcs, arcs, units, flow_solver)
        log.debug(
            "whole units (%s): %.2f, %d unmet (the LP %.1f)",
            "rounded down" if how is None else "longest first" if longest else "shortest first",
            total,
            _unmet(model, arcs, units),
            lp_unmet,
        )
        if best is None or total < best[0]:
            best = (total, arcs, units)
    assert best is not None
    return best


def _unmet(model: TimeModel, arcs: Arcs, units: Ints) -> int:
    """The units ``units`` on ``arcs`` leave unmade."""
    made = np.bincount(arcs.a, weights=units, minlength=model.d.quantity.size)
    return int((model.d.quantity - made).sum())


# the knapsack bound's first pass takes at most this share of the time the plan took
# until then (at least 1 s; at most ``knapsack_s``): small seed 1, overloaded (its starved
# lines are worth a unit's unmet cost on every machine), spent 10 s on 0.0005% of bound
KNAPSACK_SHARE = 0.25
# where that pass took under this share of its time, the demands' prices are improved
# (knapsack_ascent.py) for as long as the plan took until then, at least ASCENT_FLOOR_S
# (at most ``knapsack_s``): the OKW sample's 100-line problems need about 15 rounds, 2 s
ASCEND_BELOW = 0.05
ASCENT_FLOOR_S = 2.0


def _knapsack(
    model: TimeModel,
    sol: Solution,
    plan: tuple[Arcs, Ints, float],
    bound: float,
    planned_s: float,
) -> float:
    """The knapsack bound (knapsack.py) where the plan (its arcs, units and cost) is not
    within the tolerance of ``bound``, on the machines where the LP makes a fraction of a
    unit, in a time set by ``planned_s`` (the plan's so far); the higher bound."""
    opts = model.options
    objective = plan[2]
    if (
        opts.knapsack_s <= 0
        or not math.isfinite(bound)
        or objective - bound <= opts.gap_tolerance * abs(objective)
        or not worth_seeking(model)
        or sol.prices is None  # not worked out: columns.py, where nothing would use them
    ):
        return bound
    fractional = sol.arcs.m[sol.arc_ticks % model.d.ticks[sol.arcs.a] != 0]
    prices = sol.prices
    best = network_prices(model, sol.arcs, prices)
    t0 = time.perf_counter()
    budget_s = min(opts.knapsack_s, max(1.0, KNAPSACK_SHARE * planned_s))
    found, least = knapsack_bound(
        model, prices, best, fractional, slack=objective - bound, budget_s=budget_s
    )
    if not math.isfinite(found):
        return bound
    spent = time.perf_counter() - t0
    if objective - found > opts.gap_tolerance * abs(objective) and spent < ASCEND_BELOW * (
        budget_s
    ):  # small enough to solve every knapsack many times: better prices (ADR 0027)
        found = ascend(
            model,
            least,
            bound=found,
            target=objective,
            budget_s=min(opts.knapsack_s, max(ASCENT_FLOOR_S, planned_s)) - spent,
            start=(plan[0], plan[1]),
        )
    return max(bound, found)


def finish_plan(
    model: TimeModel,
    sol: Solution,
    solver: str,
    started: float,
    demands: Sequence[Demand],
    flow_solver: FlowSolver | None = None,
    steps: Steps | None = None,
) -> Plan:
    """Steps 5 and 6 on the LP ``sol``: whole units, the knapsack bound, the
    neighbourhoods; the plan, its stats with the seconds of each step (``steps``; timed
    from this call where not given)."""
    steps = steps or Steps()
    saved, model.extra = model.extra, None
    objective, arcs, units = _rounded(
        model, sol, flow_solver, sweep=saved is None, lp_same=saved is None
    )
    cost = model.unit_cost(arcs)
    bound = sol.bound
    opts = model.options
    if saved is None:
        arcs, units, cost, objective = _polished(model, sol, (arcs, units, cost, objective))
    steps.done("rounding", _against(objective, bound))
    planned_s = time.perf_counter() - started  # the plan's own time, the knapsack's aside
    if saved is None:
        bound = _knapsack(model, sol, (arcs, units, objective), bound, planned_s)
        steps.done("bound", _against(objective, bound))
    if saved is None and opts.neighbourhood_s > 0:
        arcs, units, cost, objective = _improved(
            model, sol, (arcs, units, cost, objective), bound, planned_s, flow_solver
        )
        steps.done("neighbourhoods", _against(objective, bound))
    plan = plan_of(model, arcs, units, cost, solver, started, demands, bound)
    model.extra = saved
    steps.done("assignments", f"{len(plan.assignments)} assignments")
    stats = plan.stats
    return replace(
        plan,
        stats={
            "solve_s": stats["solve_s"],
            "objective": stats["objective"],
            "lp_objective": sol.lp_objective,
            **{k: stats[k] for k in ("lp_bound", "gap", "certified")},
            "lp_relaxation": sol.bound,  # lp_bound is this, or the knapsack bound if higher
            "arcs": float(len(sol.arcs)),
            "rounds": float(sol.rounds),
            **steps.stats(),
        },
    )


Whole = tuple[Arcs, Ints, Floats, float]  # a plan's arcs, whole units, unit costs, objective


def _polished(model: TimeModel, sol: Solution, plan: Whole) -> Whole:
    """``plan`` after HiGHS's MIP over its arcs and all the priced ones, where that is
    cheaper and the arcs are at most ``polish_max_arcs`` (and the plan is not within the
    tolerance of the LP's bound)."""
    arcs, _units, _cost, objective = plan
    bound, opts = sol.bound, model.options
    if (
        len(sol.arcs) > opts.polish_max_arcs  # the priced arcs are distinct here
        or (math.isfinite(bound) and objective - bound <= opts.gap_tolerance * objective)
        or len(every := model.dedupe(arcs.plus(sol.arcs))) > opts.polish_max_arcs
    ):
        return plan
    every_cost = model.unit_cost(every)
    polished = polish(model, every, every_cost)
    if polished is None:
        return plan
    better = float((polished[0] * every_cost).sum() + (polished[1] * model.d.unmet).sum())
    return (every, polished[0], every_cost, better) if better < objective - 1e-9 else plan


def _improved(
    model: TimeModel,
    sol: Solution,
    plan: Whole,
    bound: float,
    planned_s: float,
    flow_solver: FlowSolver | None,
) -> Whole:
    """``plan`` after the neighbourhoods (neighbourhood.py) and, where they moved units, each
    class swept again; the cheaper of the two."""
    arcs, units, _cost, objective = plan
    opts = model.options
    ticks = model.d.ticks
    lp_unmet = sol.unmet_ticks / ticks
    lp = (sol.arcs, sol.arc_ticks / ticks[sol.arcs.a]) if opts.above_lp_lines else None
    enough = bound / (1.0 - opts.gap_tolerance) if math.isfinite(bound) else -math.inf
    more_arcs, more = improve(
        model,
        arcs,
        units,
        lp_unmet,
        budget_s=opts.neighbourhood_s,
        lp=lp,
        enough=enough,
        above_lp_s=above_lp_time(opts, objective, bound, planned_s),
        workers=opts.neighbourhood_workers or cpus(),
    )
    if more is units:  # no neighbourhood was planned again
        return plan
    total = model.objective_of(more_arcs, more)
    if total >= objective - 1e-9:
        return plan
    arcs, units, objective = more_arcs, more, total
    if flow_solver is not None and opts.sweep_classes:
        # the neighbourhoods moved units of every class: each class again on the time the
        # others now leave (medium: 1.108% -> 1.077% in 3 s)
        arcs, units, objective = sweep_classes(model, sol.arcs, arcs, units, flow_solver)
    return arcs, units, model.unit_cost(arcs), objective


def _against(objective: float, bound: float, what: str = "objective") -> str:
    """A cost (the plan's, or ``what``) and how far above ``bound``, for the progress log."""
    if not (math.isfinite(bound) and objective > 0):
        return f"{what} {objective:.0f}"
    return (
        f"{what} {objective:.0f}, {(objective - bound) / objective:.3%} above the bound {bound:.0f}"
    )


def solve_flow(
    problem: Problem,
    solver: FlowSolver,
    *,
    options: FlowOptions | None = None,
    stop: Stop = lambda: False,
    warm: Sequence[Assignment] = (),
    booked_s: Floats | None = None,
    held: Mapping[tuple[str, str], int] | None = None,
    steps: Steps | None = None,
) -> Plan:
    """Plan ``problem``; ``warm`` (e.g. a greedy plan's assignments) seeds the candidates;
    ``booked_s`` is machine time already promised by each day and ``held`` the units of
    each line machines on probation already have (``TimeModel``); ``steps`` times each
    step (from a step before, e.g. greedy's)."""
    options = options or FlowOptions()
    started = time.perf_counter()
    steps = steps or Steps()
    demands = [dem for dem in problem.demands if dem.units > 0]
    model = TimeModel(problem, demands, options, booked_s=booked_s, held=held)
    steps.done("model", f"{model.layout.n_demands} demands, {model.layout.n_machines} machines")
    sol = solve_model(model, solver, stop, warm=model.pairs_of(warm))
    lp = _against(sol.lp_objective, sol.bound, "restricted LP")
    steps.done("lp", f"{sol.rounds} rounds, {len(sol.arcs)} arcs, {lp}")
    return finish_plan(model, sol, "flow", started, demands, solver, steps)


__all__ = ["FlowOptions", "FlowSolver", "solve_flow"]

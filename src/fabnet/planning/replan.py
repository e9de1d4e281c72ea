"""Incremental re-planning: when machines are lost (failed, left, declined) or demand
arrives, only the affected units move; every other assignment stays where it was."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from fabnet.planning.arcs import Stop
from fabnet.planning.evaluate import objective
from fabnet.planning.flow import solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.network import FlowSolver
from fabnet.planning.plan import Plan
from fabnet.planning.problem import SECONDS_PER_DAY, Problem

# A re-plan stops pricing once three rounds together lowered its LP by 0.1% or less of the
# whole plan's objective (the kept work's cost with it, as its reported gap is): its
# promise is that nothing but the displaced units moves, and its gap is still reported.
# Its first candidates are machines with room (``FlowOptions.room_seed``): the machines
# nearest a displaced line are mostly full of the kept work (large: the first restricted
# LP left most displaced units unmade, 6.4e9 against 2.8e8 seeded by room). What room
# there is lies in pieces between the kept work: an arc carries only the whole units its
# machine has the time for by its day (``FlowOptions.whole_unit_arcs``; ADR 0021)
# Its finishing places the units rounding left short but does not spend its neighbourhood
# budget on lines above the LP (``above_lp_lines``): a re-plan is measured by its time
TAIL_OFF = 1e-3


@dataclass(frozen=True)
class ReplanReport:
    plan: Plan
    units_displaced: int  # units the lost machines held: these must move
    units_moved: int  # units of the previous plan no longer on their machine (displaced too)
    replan_s: float


def replan(
    problem: Problem,
    previous: Plan,
    solver: FlowSolver,
    *,
    lost_machines: frozenset[str] = frozenset(),
    options: FlowOptions | None = None,
    stop: Stop = lambda: False,
) -> ReplanReport:
    started = time.perf_counter()
    demands = {d.line_id: d for d in problem.demands}
    supplies = {s.machine_id: s for s in problem.supplies if s.machine_id not in lost_machines}
    kept = [a for a in previous.assignments if a.machine_id in supplies and a.line_id in demands]
    displaced = sum(a.units for a in previous.assignments if a.machine_id in lost_machines)
    held: dict[str, int] = defaultdict(int)
    # a kept job on probation leaves only the rest of its job for the line there
    jobs: dict[tuple[str, str], int] = defaultdict(int)
    # the kept assignments' machine time, by machine and by the day each is made by
    horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    row = {machine_id: i for i, machine_id in enumerate(supplies)}
    booked = np.zeros((len(supplies), horizon))
    for a in kept:
        held[a.line_id] += a.units
        if supplies[a.machine_id].on_probation:
            jobs[(a.line_id, a.machine_id)] += a.units
        unit_s = math.ceil(demands[a.line_id].unit_time_s - 1e-9)  # as the network counts
        booked[row[a.machine_id], min(max(a.day, 1), horizon) - 1] += a.units * unit_s
    rest = tuple(
        replace(d, units=d.units - held[d.line_id])
        for d in problem.demands
        if d.units - held[d.line_id] > 0
    )
    sub = replace(problem, demands=rest, supplies=tuple(supplies.values()))
    options = options or FlowOptions(
        tail_off=TAIL_OFF, room_seed=True, whole_unit_arcs=True, above_lp_lines=False
    )
    # its LP tails off against the whole plan, kept work included: the gap it reports
    kept_cost = objective(problem, Plan(tuple(kept), (), ""))  # not the parts it states
    options = replace(options, tail_off_of=max(options.tail_off_of, kept_cost))
    fresh = solve_flow(sub, solver, options=options, stop=stop, booked_s=booked, held=jobs)
    before: dict[tuple[str, str], int] = defaultdict(int)
    for a in previous.assignments:
        before[(a.line_id, a.machine_id)] += a.units
    after: dict[tuple[str, str], int] = defaultdict(int)
    for a in (*kept, *fresh.assignments):
        after[(a.line_id, a.machine_id)] += a.units
    # units of the previous plan that are no longer where they were (units unmet before
    # and placed now did not move: they had no place)
    moved = sum(max(0, units - after[pair]) for pair, units in before.items())
    plan = Plan(
        assignments=tuple(kept) + fresh.assignments,
        unmet=fresh.unmet,
        solver="flow-replan",
        stats=dict(fresh.stats),
    )
    _whole_stats(problem, plan, fresh, started, options.gap_tolerance)
    return ReplanReport(plan, displaced, moved, time.perf_counter() - started)


def _whole_stats(
    problem: Problem, plan: Plan, fresh: Plan, started: float, tolerance: float
) -> None:
    """The re-plan's figures for the whole problem, not only the displaced units': the
    kept assignments' cost added to the objective, the LP and its bound (a bound on every
    plan that keeps them), and the gap and certificate against that."""
    whole = objective(problem, plan)
    kept_cost = whole - fresh.stats["objective"]
    bound = fresh.stats["lp_bound"] + kept_cost
    if not math.isfinite(bound):
        gap = math.nan  # the re-plan's pricing gave no bound
    else:
        gap = max(0.0, (whole - bound) / whole) if whole > 0 else 0.0
    plan.stats.update(
        objective=whole,
        lp_objective=fresh.stats["lp_objective"] + kept_cost,
        lp_bound=bound,
        gap=gap,
        certified=float(gap == gap and gap <= tolerance),
        solve_s=time.perf_counter() - started,
    )

"""Incremental re-planning: when machines are lost (failed, left, declined) or demand
arrives, only the affected units move; every other assignment stays where it was."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace

from fabnet.planning.flow import FlowOptions, Stop, solve_flow
from fabnet.planning.network import FlowSolver
from fabnet.planning.plan import Plan
from fabnet.planning.problem import Problem


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
    busy: dict[str, float] = defaultdict(float)
    for a in kept:
        held[a.line_id] += a.units
        d, s = demands[a.line_id], supplies[a.machine_id]
        busy[a.machine_id] += a.units * d.unit_time_s / s.speed_factor
    rest = tuple(
        replace(d, units=d.units - held[d.line_id])
        for d in problem.demands
        if d.units - held[d.line_id] > 0
    )
    free = tuple(replace(s, busy_s=s.busy_s + busy[s.machine_id]) for s in supplies.values())
    sub = replace(problem, demands=rest, supplies=free)
    fresh = solve_flow(sub, solver, options=options, stop=stop)
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
        stats={**fresh.stats, "solve_s": time.perf_counter() - started},
    )
    return ReplanReport(plan, displaced, moved, time.perf_counter() - started)

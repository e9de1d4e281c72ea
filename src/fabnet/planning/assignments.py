"""A plan of whole units on a model's arcs: its assignments (each line's share of a
merged demand's units, the day each ends, its cost parts) and its unmet units."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from fabnet.planning.arcs import Arcs, Floats
from fabnet.planning.network import Ints
from fabnet.planning.plan import Assignment, Plan, Unmet, gap_of
from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem, deadline_day
from fabnet.planning.time_model import TimeModel
from fabnet.planning.unmet import why_unmet


def assignments_of(
    model: TimeModel, arcs: Arcs, units: Ints, unit_cost: Floats
) -> list[Assignment]:
    """One assignment per (line, machine, day), with when its last unit ends."""
    used = np.flatnonzero(units > 0)
    arcs, units = arcs.take(used), units[used]
    parts = model.parts(arcs)
    due = model.due_day(arcs.a, arcs.m, parts["km"])
    finish = _finish_days(model, arcs, units)
    remaining = [list(members) for members in model.d.members]
    out: list[Assignment] = []
    for j in np.lexsort((arcs.d, arcs.m, arcs.a)).tolist():
        a, m, day = int(arcs.a[j]), int(arcs.m[j]), int(arcs.d[j])
        supply = model.supplies[m]
        for line, take in _split(remaining[a], int(units[j])):
            out.append(
                Assignment(
                    line_id=line.line_id,
                    machine_id=supply.machine_id,
                    producer_id=supply.producer_id,
                    units=take,
                    distance_km=float(parts["km"][j]),
                    finish_s=float(finish[j]) * SECONDS_PER_DAY,
                    late=bool(day > due[j]),
                    production=float(parts["production"][j]) * take,
                    transport=float(parts["transport"][j]) * take,
                    co2=float(parts["co2"][j]) * take,
                    lateness=float(parts["lateness"][j]) * take,
                    risk=float(parts["risk"][j]) * take,
                    day=day,
                    transit_days=int(parts["transit_days"][j]),
                )
            )
    return out


def _split(members: list[tuple[Demand, int]], units: int) -> list[tuple[Demand, int]]:
    taken = []
    while units > 0 and members:
        line, left = members[0]
        take = min(left, units)
        taken.append((line, take))
        units -= take
        if take == left:
            members.pop(0)
        else:
            members[0] = (line, left - take)
    return taken


def _finish_days(model: TimeModel, arcs: Arcs, units: Ints) -> Floats:
    """Earliest due day first on each machine: the (fractional) day each arc's last unit
    ends. The network's cumulative day capacities make this meet every arc's day."""
    finish = np.zeros(len(arcs), dtype=np.float64)
    need = units * model.d.ticks[arcs.a]
    caps = model.day_caps
    current, day, used = -1, 0, 0
    for i in np.lexsort((arcs.a, arcs.d, arcs.m)).tolist():
        m = int(arcs.m[i])
        if m != current:
            current, day, used = m, 0, 0
        left = int(need[i])
        while day < model.horizon:
            room = int(caps[m, day]) - used
            if left <= room:
                used += left
                break
            left -= max(room, 0)
            day, used = day + 1, 0
        last = min(day, model.horizon - 1)
        finish[i] = last + used / max(int(caps[m, last]), 1)
    return finish


def unmet_of(
    problem: Problem, demands: Sequence[Demand], got: Sequence[Assignment], horizon: int = 0
) -> list[Unmet]:
    placed: dict[str, int] = defaultdict(int)
    for a in got:
        placed[a.line_id] += a.units
    window = problem.costs.late_window_days
    out = []
    for dem in demands:
        left = dem.units - placed[dem.line_id]
        if left <= 0:
            continue
        if deadline_day(dem.due_s) == 0 and window == 0:
            reason = "the deadline is within the first day and no late window is allowed"
        else:
            reason = why_unmet(problem, dem)
        out.append(Unmet(dem.line_id, left, reason))
    return out


def plan_of(
    model: TimeModel,
    arcs: Arcs,
    units: Ints,
    cost: Floats,
    solver: str,
    started: float,
    demands: Sequence[Demand],
    bound: float,
) -> Plan:
    """The plan of whole ``units`` on ``arcs`` (``cost``: each arc's unit cost, no extra),
    its objective counted from its assignments and unmet units, its gap against ``bound``."""
    assignments = assignments_of(model, arcs, units, cost)
    unmet = unmet_of(model.problem, demands, assignments)
    objective = sum(a.cost for a in assignments) + sum(
        u.units * model.costs.unmet_per_unit * (1 + model.priority_of[u.line_id]) for u in unmet
    )
    gap = gap_of(objective, bound)
    return Plan(
        assignments=tuple(assignments),
        unmet=tuple(unmet),
        solver=solver,
        stats={
            "solve_s": time.perf_counter() - started,
            "objective": objective,
            "lp_bound": bound if math.isfinite(bound) else float("nan"),
            "gap": gap,
            "certified": float(gap == gap and gap <= model.options.gap_tolerance),
        },
    )

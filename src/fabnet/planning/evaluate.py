"""The objective of any plan under the flow planner's cost model, so that plans from
different solvers (greedy, restricted or priced flow, re-plans) compare on one scale."""

from __future__ import annotations

import math

from fabnet.planning.plan import Assignment, Plan
from fabnet.planning.problem import SECONDS_PER_DAY, Problem, deadline_day


def day_of(a: Assignment) -> int:
    """The day bucket (1 = the first day) by whose end the assignment's units are made."""
    return a.day or max(1, math.ceil(a.finish_s / SECONDS_PER_DAY - 1e-9))


def made_by(problem: Problem, due_s: float, transit: int = 0) -> int:
    """The last day a unit may be made to arrive by its deadline day after ``transit``
    days on the way; the horizon's last day at most (every day within it is on time)."""
    return min(max(1, int(problem.horizon_s // SECONDS_PER_DAY)), deadline_day(due_s) - transit)


def objective(problem: Problem, plan: Plan) -> float:
    """Computed from the problem and the plan's units and days alone (stated cost parts
        are not trusted): lateness is per unit and day bucket of arrival (the day made plus the
    days in transit) after the deadline day."""
    costs = problem.costs
    demands = {d.line_id: d for d in problem.demands}
    supplies = {s.machine_id: s for s in problem.supplies}
    total = 0.0
    for a in plan.assignments:
        d, s = demands[a.line_id], supplies[a.machine_id]
        co2 = costs.co2_per_km(d.unit_mass_g)
        km = d.destination.distance_km(s.place)
        per_unit = s.unit_price(d) + (1 - s.reliability) * costs.risk_per_unit
        total += a.units * (per_unit + costs.transport(km, d.unit_mass_g) + km * co2)
        transit = costs.transit_days(km)
        if transit is None:
            return math.inf  # a destination no transit band reaches
        days = max(0, day_of(a) - made_by(problem, d.due_s, transit))
        total += a.units * costs.late_per_unit_day * days * (1 + d.priority)
    for u in plan.unmet:
        total += u.units * costs.unmet_per_unit * (1 + demands[u.line_id].priority)
    if costs.fixed_per_pair:
        total += costs.fixed_per_pair * len({(a.line_id, a.machine_id) for a in plan.assignments})
    return total

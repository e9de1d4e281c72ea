"""The objective of any plan under the flow planner's cost model, so that plans from
different solvers (greedy, restricted or priced flow, re-plans) compare on one scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fabnet.planning.plan import Assignment, Plan
from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem, Supply, deadline_day

COST_PARTS = ("production", "transport", "co2", "lateness", "risk")


def day_of(a: Assignment) -> int:
    """The day bucket (1 = the first day) by whose end the assignment's units are made."""
    return a.day or max(1, math.ceil(a.finish_s / SECONDS_PER_DAY - 1e-9))


def made_by(problem: Problem, due_s: float, transit: int = 0) -> int:
    """The last day a unit may be made to arrive by its deadline day after ``transit``
    days on the way; the horizon's last day at most (every day within it is on time)."""
    return min(max(1, int(problem.horizon_s // SECONDS_PER_DAY)), deadline_day(due_s) - transit)


@dataclass(frozen=True)
class Parts:
    """What an assignment's units cost, part by part (minor units, all its units), by the
    problem's own rules; ``transit`` is None where no transit band reaches."""

    km: float
    transit: int | None
    production: float
    transport: float
    co2: float
    lateness: float
    risk: float

    @property
    def total(self) -> float:
        return self.production + self.transport + self.co2 + self.lateness + self.risk


def parts_of(problem: Problem, a: Assignment, d: Demand, s: Supply) -> Parts:
    """``a``'s cost parts (its line ``d``, its machine ``s``): lateness per unit and day
    bucket of arrival (the day made plus the days in transit) after the deadline day."""
    costs = problem.costs
    km = d.destination.distance_km(s.place)
    transit = costs.transit_days(km)
    late_days = 0 if transit is None else max(0, day_of(a) - made_by(problem, d.due_s, transit))
    return Parts(
        km=km,
        transit=transit,
        production=a.units * s.unit_price(d),
        transport=a.units * costs.transport(km, d.unit_mass_g),
        co2=a.units * km * costs.co2_per_km(d.unit_mass_g),
        lateness=a.units * costs.late_per_unit_day * late_days * (1 + d.priority),
        risk=a.units * (1 - s.reliability) * costs.risk_per_unit,
    )


def objective(problem: Problem, plan: Plan) -> float:
    """Computed from the problem and the plan's units and days alone (stated cost parts
    are not trusted): the assignments' ``parts_of``, the unmet units' cost and, where the
    problem has one, a parcel per (line, machine) pair."""
    costs = problem.costs
    demands = {d.line_id: d for d in problem.demands}
    supplies = {s.machine_id: s for s in problem.supplies}
    total = 0.0
    for a in plan.assignments:
        parts = parts_of(problem, a, demands[a.line_id], supplies[a.machine_id])
        if parts.transit is None:
            return math.inf  # a destination no transit band reaches
        total += parts.total
    for u in plan.unmet:
        total += u.units * costs.unmet_per_unit * (1 + demands[u.line_id].priority)
    if costs.fixed_per_pair:
        total += costs.fixed_per_pair * len({(a.line_id, a.machine_id) for a in plan.assignments})
    return total

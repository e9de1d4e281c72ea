"""Plans as JSON files (format ``fabnet-plan/1``) and a checker that verifies a plan
against its problem with nothing but the problem's own rules, so that a plan from any
solver (ours, another one, a person's) can be used and checked. docs/planning.md
documents the format.

The checker looks at: every assignment names a line and a machine of the problem, the
machine can make the line (process, material, size in some rotation, not excluded); units
are whole and positive; each line's assigned plus unmet units are its demand; in machine
time, no machine is promised more by the end of any day than it has by then (its seconds
per day times the load factor, less the time already busy); each assignment's day is
within the horizon, and one that ends after its line's deadline day (the last day bucket
that ends by the deadline) is flagged late; what each assignment states beside (its
producer, finish time, distance, cost parts) is the problem's; the stated objective is
the problem's cost of the plan (planning/evaluate.py); and the plan's claims about itself
(its units, a bound not above its cost, the gap between them) hold.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from fabnet.domain.errors import InvalidInput
from fabnet.planning.evaluate import COST_PARTS, Parts, day_of, made_by, objective, parts_of
from fabnet.planning.plan import Assignment, Plan, Unmet, gap_of
from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem, Supply
from fabnet.planning.steps import STEPS

FORMAT = "fabnet-plan/1"
# figures a plan file may state beside its assignments, checked against them
CLAIMS = ("lp_bound", "gap", "units_assigned", "units_unmet")


def plan_to_dict(problem: Problem, plan: Plan) -> dict[str, Any]:
    stats = plan.stats

    def number(key: str) -> float | None:
        value = stats.get(key)
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value

    cost = objective(problem, plan)
    bound, gap = number("lp_bound"), number("gap")
    certified = bool(stats.get("certified", 0.0))
    if bound is not None and gap is not None and cost > 0:
        # the gap of the objective printed: a splittable plan of a problem with parcels
        # states the gap of its model without them, against a cost that has them
        printed = max(0.0, (cost - bound) / cost)
        if printed > gap + 1e-9:
            gap, certified = printed, False
    return {
        "format": FORMAT,
        "solver": plan.solver,
        "objective": round(cost, 4),
        "lp_bound": bound,
        "gap": gap,
        "certified": certified,
        "units_assigned": plan.units_assigned,
        "units_unmet": plan.units_unmet,
        "assignments": _rows(problem, plan),
        "unmet": [{"line": u.line_id, "units": u.units, "reason": u.reason} for u in plan.unmet],
        "steps_s": {
            step: stats[f"{step}_s"] for step in STEPS if isinstance(stats.get(f"{step}_s"), float)
        },
    }


def _rows(problem: Problem, plan: Plan) -> list[dict[str, Any]]:
    """The assignments as the file states them, with their distance and cost parts by the
    problem's rules (``parts_of``), whatever the solver kept of them."""
    demands = {d.line_id: d for d in problem.demands}
    supplies = {s.machine_id: s for s in problem.supplies}
    rows = []
    for a in plan.assignments:
        parts = parts_of(problem, a, demands[a.line_id], supplies[a.machine_id])
        rows.append(
            {
                "line": a.line_id,
                "machine": a.machine_id,
                "producer": a.producer_id,
                "units": a.units,
                "day": day_of(a),
                "finish_s": round(a.finish_s, 3),
                "late": a.late,
                "transit_days": a.transit_days,
                "distance_km": round(parts.km, 4),
                "costs": {part: round(getattr(parts, part), 4) for part in COST_PARTS},
            }
        )
    return rows


def plan_from_dict(data: Any) -> Plan:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput("format", f"a plan file is an object with format {FORMAT!r}")
    rows, unmet_rows = data.get("assignments"), data.get("unmet", [])
    if not isinstance(rows, list) or not isinstance(unmet_rows, list):
        raise InvalidInput("assignments", "assignments and unmet must be lists")
    assignments = []
    for i, row in enumerate(rows):
        where = f"assignments[{i}]"
        if not isinstance(row, dict):
            raise InvalidInput(where, "must be an object")
        costs = row.get("costs", {})
        if not isinstance(costs, dict):
            raise InvalidInput(f"{where}.costs", "must be an object")
        day = _int(row, "day", where, lo=1)
        assignments.append(
            Assignment(
                line_id=_text(row, "line", where),
                machine_id=_text(row, "machine", where),
                producer_id=_text(row, "producer", where) if "producer" in row else "",
                units=_int(row, "units", where, lo=1),
                distance_km=_float(row, "distance_km", where, default=math.nan),
                finish_s=_float(row, "finish_s", where, default=day * SECONDS_PER_DAY),
                late=_bool(row, "late", where),
                day=day,
                transit_days=_int(row, "transit_days", where, lo=0) if "transit_days" in row else 0,
                **{
                    part: _float(costs, part, f"{where}.costs", default=math.nan)
                    for part in COST_PARTS
                },
            )
        )
    unmet = [
        Unmet(
            _text(row, "line", f"unmet[{i}]"),
            _int(row, "units", f"unmet[{i}]", lo=1),
            str(row.get("reason", "")),
        )
        for i, row in enumerate(unmet_rows)
        if isinstance(row, dict) or _bad(f"unmet[{i}]")
    ]
    stats = {
        key: _float(data, key, "", default=math.nan)
        for key in ("objective", *CLAIMS)
        if data.get(key) is not None
    }
    if data.get("certified") is not None:
        stats["certified"] = float(_bool(data, "certified", ""))
    solver = data.get("solver", "")
    if not isinstance(solver, str):
        raise InvalidInput("solver", "must be a string")
    return Plan(tuple(assignments), tuple(unmet), solver, stats)


def _bad(where: str) -> bool:
    raise InvalidInput(where, "must be an object")


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{where}.{key}", "must be a non-empty string")
    return value


def _int(row: dict[str, Any], key: str, where: str, *, lo: int) -> int:
    value = row.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < lo:
        raise InvalidInput(f"{where}.{key}", f"must be a whole number >= {lo}")
    return value


def _float(row: dict[str, Any], key: str, where: str, *, default: float) -> float:
    """The finite number ``row[key]``, or ``default`` where the key is absent."""
    if key not in row:
        return default
    value = row[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{where}.{key}" if where else key, "must be a finite number")
    return float(value)


def _bool(row: dict[str, Any], key: str, where: str) -> bool:
    value = row.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f"{where}.{key}" if where else key, "must be true or false")
    return value


@dataclass(frozen=True)
class Violation:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def check_plan(
    problem: Problem, plan: Plan, *, tolerance: float = 1e-6, claims: bool = False
) -> list[Violation]:
    """Every way ``plan`` breaks ``problem``'s rules (empty: the plan is valid); with
    ``claims``, also what a plan file states about itself (units, bound, gap,
    certificate: ``plan_from_dict`` reads them; a solver's own stats are its working
    figures, as a splittable plan's gap without the parcels its objective has)."""
    found: list[Violation] = []
    demands = {d.line_id: d for d in problem.demands}
    supplies = {s.machine_id: s for s in problem.supplies}
    placed: dict[str, int] = defaultdict(int)
    booked: dict[str, list[tuple[int, float]]] = defaultdict(list)  # machine -> (day, s)
    on_probation: dict[tuple[str, str], int] = defaultdict(int)
    for i, a in enumerate(plan.assignments):
        where = f"assignments[{i}]"
        d, s = demands.get(a.line_id), supplies.get(a.machine_id)
        if d is None:
            found.append(Violation(where, f"line {a.line_id!r} is not in the problem"))
            continue
        if s is None:
            found.append(Violation(where, f"machine {a.machine_id!r} is not in the problem"))
            continue
        parts = parts_of(problem, a, d, s)
        found.extend(_assignment_problems(problem, (a, d, s), parts.transit, where))
        found.extend(_stated((a, s), parts, where, tolerance))
        if s.on_probation:
            on_probation[(d.line_id, s.machine_id)] += a.units
        placed[d.line_id] += a.units
        booked[s.machine_id].append((day_of(a), a.units * d.unit_time_s / s.speed_factor))
    found.extend(_probation_jobs(supplies, on_probation))
    found.extend(_units_accounted(problem, plan, placed))
    found.extend(_machine_time(problem, supplies, booked, tolerance))
    found.extend(_objective_checked(problem, plan, tolerance, claims))
    return found


def _assignment_problems(
    problem: Problem, given: tuple[Assignment, Demand, Supply], transit: int | None, where: str
) -> list[Violation]:
    """What is wrong with one assignment on its own: capability, units, its day, transit
    (``transit``: the problem's days for its distance), whether it is late, a machine on
    probation's day."""
    a, d, s = given
    found: list[Violation] = []
    horizon_days = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    if not s.can_make(d):
        found.append(Violation(where, f"machine {s.machine_id} cannot make line {d.line_id}"))
    if a.units < 1:
        found.append(Violation(where, "units must be at least 1"))
    day = day_of(a)
    if day > horizon_days:
        found.append(Violation(where, f"day {day} is beyond the horizon ({horizon_days})"))
    if transit is None:
        found.append(Violation(where, f"machine {s.machine_id} is beyond every transit band"))
        transit = 0
    if a.transit_days != transit:
        found.append(Violation(where, f"{a.transit_days} days in transit stated, {transit} due"))
    due_day = made_by(problem, d.due_s, transit)
    if day > due_day and not a.late:
        why = f"ends on day {day}, after day {due_day} (to arrive on time), not late"
        found.append(Violation(where, why))
    if day <= due_day and a.late:
        found.append(Violation(where, f"flagged late, but day {day} is by day {due_day} (on time)"))
    first = max(1, due_day)  # probation: on time only
    if s.on_probation and day > first:
        why = f"machine {s.machine_id} is on probation: due by day {first}, not {day}"
        found.append(Violation(where, why))
    return found


def _stated(
    given: tuple[Assignment, Supply], parts: Parts, where: str, tolerance: float
) -> list[Violation]:
    """What one assignment states beside its units and day, against the problem's rules:
    its producer, when its last unit ends (by the end of its day), its distance and each
    cost part (``parts``: ``parts_of``; written to 4 decimals). A figure the file leaves
    out (nan here) is not checked."""
    a, s = given
    found: list[Violation] = []
    if a.producer_id and a.producer_id != s.producer_id:
        why = f"producer {a.producer_id!r} stated, machine {s.machine_id} is {s.producer_id!r}'s"
        found.append(Violation(where, why))
    end = day_of(a) * SECONDS_PER_DAY
    if not 0 <= a.finish_s <= end + 1e-3:
        why = f"finish_s {a.finish_s:.3f} is not within day {day_of(a)} or before (0 to {end:.0f})"
        found.append(Violation(where, why))
    for name, stated, due in (
        ("distance_km", a.distance_km, parts.km),
        *((f"costs.{part}", getattr(a, part), getattr(parts, part)) for part in COST_PARTS),
    ):
        if math.isfinite(stated) and abs(stated - due) > max(1e-3, tolerance * abs(due)):
            found.append(Violation(f"{where}.{name}", f"{stated:.4f} stated, {due:.4f} due"))
    return found


def _probation_jobs(
    supplies: dict[str, Supply], on_probation: dict[tuple[str, str], int]
) -> list[Violation]:
    """A machine on probation makes at most its job's units of a line."""
    found: list[Violation] = []
    for (line_id, machine_id), units in on_probation.items():
        cap = supplies[machine_id].job_units_max
        if units > cap:
            why = f"{units} units on machine {machine_id}, on probation: at most {cap} a job"
            found.append(Violation(f"line {line_id}", why))
    return found


def _units_accounted(problem: Problem, plan: Plan, placed: dict[str, int]) -> list[Violation]:
    """Every unit of every line assigned or stated unmet, once."""
    found: list[Violation] = []
    lines = {d.line_id for d in problem.demands}
    for u in plan.unmet:
        if u.line_id not in lines:
            found.append(Violation("unmet", f"line {u.line_id!r} is not in the problem"))
        placed[u.line_id] += u.units
    for d in problem.demands:
        if placed[d.line_id] != d.units:
            why = f"{placed[d.line_id]} units assigned or unmet, the line has {d.units}"
            found.append(Violation(f"line {d.line_id}", why))
    return found


def _machine_time(
    problem: Problem,
    supplies: dict[str, Supply],
    booked: dict[str, list[tuple[int, float]]],
    tolerance: float,
) -> list[Violation]:
    """No machine promised more time by any day than it has by then (the first day it
    is over, per machine)."""
    found: list[Violation] = []
    for machine_id, bookings in booked.items():
        s = supplies[machine_id]
        per_day = s.seconds_per_day * problem.load_factor
        used = 0.0
        for day in sorted({d for d, _ in bookings}):
            used += sum(sec for d, sec in bookings if d == day)
            have = day * per_day - s.busy_s
            if used > have * (1 + tolerance) + 1e-6:
                why = f"{used:.0f} s of machine time promised by day {day}, it has {have:.0f} s"
                found.append(Violation(f"machine {machine_id}", why))
                break
    return found


def _objective_checked(
    problem: Problem, plan: Plan, tolerance: float, claims: bool
) -> list[Violation]:
    """The stated objective against what the plan costs, and with ``claims`` the plan's
    other figures (``_claims``), where every line and machine it names is known."""
    stated = plan.stats.get("objective")
    if stated is None and not claims:
        return []
    lines = {d.line_id for d in problem.demands}
    machines = {s.machine_id for s in problem.supplies}
    known = all(a.line_id in lines and a.machine_id in machines for a in plan.assignments)
    if not known or not all(u.line_id in lines for u in plan.unmet):
        return [Violation("objective", "not checked: the plan names unknown lines or machines")]
    cost = objective(problem, plan)
    if stated is not None and abs(cost - stated) > tolerance * max(1.0, abs(cost)):
        return [Violation("objective", f"stated {stated:.4f}, the plan costs {cost:.4f}")]
    return _claims(plan, cost, tolerance) if claims else []


def _claims(plan: Plan, cost: float, tolerance: float) -> list[Violation]:
    """The figures a plan states about itself: its units, and a bound, gap and certificate
    that can hold. The bound itself is a solver's claim that only solving can confirm; a
    bound above what a valid plan costs is false, and the gap must be the one between the
    two (``gap_of``), never smaller."""
    found: list[Violation] = []
    stats = plan.stats
    for key, units in (("units_assigned", plan.units_assigned), ("units_unmet", plan.units_unmet)):
        if key in stats and stats[key] != units:
            found.append(Violation(key, f"{stats[key]:.0f} stated, the plan has {units}"))
    bound, gap = stats.get("lp_bound", math.nan), stats.get("gap", math.nan)
    if bound > cost + tolerance * max(1.0, abs(cost)):
        why = f"{bound:.4f} is above the plan's cost {cost:.4f}: not a lower bound"
        found.append(Violation("lp_bound", why))
    elif math.isfinite(bound) and gap < gap_of(cost, bound) - 1e-6:
        why = f"{gap:.6f} stated, the plan is {gap_of(cost, bound):.6f} above its bound"
        found.append(Violation("gap", why))
    if stats.get("certified") and not (math.isfinite(bound) and math.isfinite(gap)):
        found.append(Violation("certified", "true without a bound and a gap"))
    return found

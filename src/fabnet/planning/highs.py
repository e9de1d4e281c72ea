"""The planner's model written out plainly as an LP (or MIP) over every capable pair,
solved by HiGHS through SciPy: the independent answer the flow planner is checked and
benchmarked against. It shares no code with flow.py beyond the problem's own rules
(``Supply.can_make``, ``Supply.unit_price``, ``Place.distance_km``).

Variables: ``x[l, m, d]`` units of line l made on machine m by the end of day d, for every
capable pair and every day the line may use (its deadline day and the late window after
it, within the horizon); ``z[l]`` units left unmet. Rows: each line's units are made or
unmet; on each machine, the machine time of the units due by day k is at most what the
machine has by the end of day k (``max(0, k * seconds_per_day * load_factor - busy_s)``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from fabnet.planning.problem import SECONDS_PER_DAY, Problem, deadline_day


@dataclass(frozen=True)
class HighsResult:
    objective: float
    status: str
    seconds: float
    variables: int
    rows: int
    units: dict[tuple[str, str, int], float]  # (line, machine, day) -> units, where > 0


def _days(problem: Problem, due_s: float) -> tuple[int, range]:
    horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    deadline = min(horizon, deadline_day(due_s))
    last = min(deadline + problem.costs.late_window_days, horizon)
    return deadline, range(max(deadline, 1), last + 1)


def solve_highs(
    problem: Problem, *, integral: bool = False, time_limit_s: float | None = None
) -> HighsResult:
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp
    from scipy.sparse import coo_matrix

    started = time.perf_counter()
    costs = problem.costs
    horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    lines = [d for d in problem.demands if d.units > 0]
    machines = problem.supplies
    cols: list[tuple[int, int, int]] = []
    c: list[float] = []
    for i, d in enumerate(lines):
        deadline, days = _days(problem, d.due_s)
        transport, co2 = costs.per_km(d.unit_mass_g)
        late_rate = costs.late_per_unit_day * (1 + d.priority)
        for j, s in enumerate(machines):
            if not s.can_make(d):
                continue
            unit = (
                s.unit_price(d)
                + (1 - s.reliability) * costs.risk_per_unit
                + d.destination.distance_km(s.place) * (transport + co2)
            )
            for day in days:
                cols.append((i, j, day))
                c.append(unit + late_rate * (day - deadline))
    n_x = len(cols)
    c.extend(costs.unmet_per_unit * (1 + d.priority) for d in lines)
    rows_i: list[int] = []
    rows_j: list[int] = []
    vals: list[float] = []
    for col, (i, _, _) in enumerate(cols):
        rows_i.append(i)
        rows_j.append(col)
        vals.append(1.0)
    for i in range(len(lines)):
        rows_i.append(i)
        rows_j.append(n_x + i)
        vals.append(1.0)
    n_eq = len(lines)
    eq = coo_matrix((vals, (rows_i, rows_j)), shape=(n_eq, len(c))).tocsr()
    # capacity rows: machine j, day k, over the columns due by day k
    ub_i: list[int] = []
    ub_j: list[int] = []
    ub_v: list[float] = []
    rhs: list[float] = []
    row_of: dict[tuple[int, int], int] = {}
    for j, s in enumerate(machines):
        per_day = s.seconds_per_day * problem.load_factor
        for k in range(1, horizon + 1):
            row_of[(j, k)] = len(rhs)
            rhs.append(max(0.0, k * per_day - s.busy_s))
    for col, (i, j, day) in enumerate(cols):
        seconds = lines[i].unit_time_s / machines[j].speed_factor
        for k in range(day, horizon + 1):
            ub_i.append(row_of[(j, k)])
            ub_j.append(col)
            ub_v.append(seconds)
    ub = coo_matrix((ub_v, (ub_i, ub_j)), shape=(len(rhs), len(c))).tocsr()
    units = np.array([d.units for d in lines], dtype=np.float64)
    options = {"time_limit": time_limit_s} if time_limit_s else {}
    if integral:
        result = milp(
            np.array(c),
            constraints=[
                LinearConstraint(eq, units, units),
                LinearConstraint(ub, -np.inf, np.array(rhs)),
            ],
            integrality=np.ones(len(c)),
            bounds=Bounds(0, np.inf),
            options={**options, "mip_rel_gap": 1e-9},
        )
        x, fun, ok = result.x, result.fun, result.status == 0
    else:
        result = linprog(
            np.array(c),
            A_ub=ub if rhs else None,
            b_ub=np.array(rhs) if rhs else None,
            A_eq=eq,
            b_eq=units,
            bounds=(0, None),
            method="highs",
            options=options,
        )
        x, fun, ok = result.x, result.fun, result.status == 0
    found: dict[tuple[str, str, int], float] = {}
    if ok and x is not None:
        for col in np.flatnonzero(x[:n_x] > 1e-9).tolist():
            i, j, day = cols[col]
            found[(lines[i].line_id, machines[j].machine_id, day)] = float(x[col])
    return HighsResult(
        objective=float(fun) if ok else math.nan,
        status="optimal" if ok else str(result.message),
        seconds=time.perf_counter() - started,
        variables=len(c),
        rows=n_eq + len(rhs),
        units=found,
    )

"""The planner's model written out plainly as an LP (or MIP) over every capable pair,
solved by HiGHS through SciPy: the independent answer the flow planner is checked and
benchmarked against. It shares no code with flow.py beyond the problem's own rules
(``Supply.can_make``, ``Supply.unit_price``, ``Place.distance_km``).

Variables: ``x[l, m, d]`` units of line l made on machine m by the end of day d, for every
capable pair and every day the line may use (its deadline day and the late window after
it, within the horizon); ``z[l]`` units left unmet. Rows: each line's units are made or
unmet; on each machine, the machine time of the units due by day k is at most what the
machine has by the end of day k (``max(0, k * seconds_per_day * load_factor - busy_s)``).
A machine on probation (``job_units_max`` n > 0) has one column per line, on the line's
first usable day, bounded by n. As a MIP with ``costs.fixed_per_pair`` > 0, each capable
pair has a 0/1 column ``y[l, m]`` that pays one parcel and that the pair's columns need
(``sum over d of x[l, m, d] <= units of l * y[l, m]``): the fixed-charge model.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem, deadline_day

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class HighsResult:
    objective: float
    status: str
    seconds: float
    variables: int
    rows: int
    units: dict[tuple[str, str, int], float]  # (line, machine, day) -> units, where > 0
    # a MIP stopped by its time limit: the best plan it found and its proven lower bound
    incumbent: float = math.nan
    dual_bound: float = math.nan


def _days(problem: Problem, due_s: float, transit: int = 0) -> tuple[int, range]:
    """The day a unit must be made by to arrive on time (``transit`` days on the way),
    and the days it may be made: that day (at least day 1) to the end of the late window."""
    horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    deadline = min(horizon, deadline_day(due_s) - transit)
    last = min(deadline + problem.costs.late_window_days, horizon)
    return deadline, range(max(deadline, 1), last + 1)


def solve_highs(
    problem: Problem, *, integral: bool = False, time_limit_s: float | None = None
) -> HighsResult:
    started = time.perf_counter()
    costs = problem.costs
    lines = [d for d in problem.demands if d.units > 0]
    machines = problem.supplies
    cols, c = _columns(problem, lines)
    n_x = len(cols)
    c.extend(costs.unmet_per_unit * (1 + d.priority) for d in lines)
    units = np.array([d.units for d in lines], dtype=np.float64)
    # fixed charge (MIP only): a 0/1 column per pair paying one parcel, which every column
    # of the pair needs: sum over days of x[i, j, d] <= units of line i * y[i, j]
    pairs = sorted({(i, j) for i, j, _ in cols}) if integral and costs.fixed_per_pair else []
    c.extend(costs.fixed_per_pair for _ in pairs)
    upper = np.full(len(c), np.inf)
    for col, (_, j, _) in enumerate(cols):
        if machines[j].on_probation:
            upper[col] = machines[j].job_units_max
    upper[len(c) - len(pairs) :] = 1.0
    eq = _demand_rows(len(lines), cols, len(c))
    ub, rhs = _time_rows(problem, lines, cols, len(c))
    link = _pair_links(cols, pairs, units, len(c))
    result, incumbent, dual_bound = _solved(
        np.array(c), (eq, units), (ub, np.array(rhs)), link, upper, integral, time_limit_s
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
        rows=len(lines) + len(rhs),
        units=found,
        incumbent=incumbent,
        dual_bound=dual_bound,
    )


def _columns(
    problem: Problem, lines: list[Demand]
) -> tuple[list[tuple[int, int, int]], list[float]]:
    """(line, machine, day) of every column ``x`` and its cost per unit: every capable
    pair that can reach the line, every day it may use (one, on probation)."""
    costs = problem.costs
    cols: list[tuple[int, int, int]] = []
    c: list[float] = []
    for i, d in enumerate(lines):
        co2 = costs.co2_per_km(d.unit_mass_g)
        late_rate = costs.late_per_unit_day * (1 + d.priority)
        for j, s in enumerate(problem.supplies):
            if not s.can_make(d):
                continue
            km = d.destination.distance_km(s.place)
            transit = costs.transit_days(km)
            if transit is None:
                continue  # beyond the farthest transit band: cannot reach it
            deadline, days = _days(problem, d.due_s, transit)
            unit = (
                s.unit_price(d)
                + (1 - s.reliability) * costs.risk_per_unit
                + costs.transport(km, d.unit_mass_g)
                + km * co2
            )
            for day in days[:1] if s.on_probation else days:
                cols.append((i, j, day))
                c.append(unit + late_rate * (day - deadline))
    return cols, c


def _demand_rows(n_lines: int, cols: list[tuple[int, int, int]], n: int) -> Any:
    """Each line's units made or unmet (its unmet column follows the ``x`` columns)."""
    from scipy.sparse import coo_matrix

    n_x = len(cols)
    rows = [i for i, _, _ in cols] + list(range(n_lines))
    at = list(range(n_x)) + [n_x + i for i in range(n_lines)]
    return coo_matrix(([1.0] * len(rows), (rows, at)), shape=(n_lines, n)).tocsr()


def _time_rows(
    problem: Problem, lines: list[Demand], cols: list[tuple[int, int, int]], n: int
) -> tuple[Any, list[float]]:
    """Machine j's time by day k over the columns due by day k, and what it has then."""
    from scipy.sparse import coo_matrix

    horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    machines = problem.supplies
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
    return coo_matrix((ub_v, (ub_i, ub_j)), shape=(len(rhs), n)).tocsr(), rhs


def _pair_links(
    cols: list[tuple[int, int, int]], pairs: list[tuple[int, int]], units: Any, n: int
) -> Any:
    """Each pair's columns at most the line's units times its 0/1 column (the last
    ``len(pairs)`` of the ``n``)."""
    from scipy.sparse import coo_matrix

    pair_row = {pair: r for r, pair in enumerate(pairs)}
    link_rows = [pair_row[(i, j)] for i, j, _ in cols] if pairs else []
    y0 = n - len(pairs)
    return coo_matrix(
        (
            [1.0] * len(link_rows) + [-units[i] for i, _ in pairs],
            (
                link_rows + list(range(len(pairs))),
                list(range(len(link_rows))) + [y0 + r for r in range(len(pairs))],
            ),
        ),
        shape=(len(pairs), n),
    ).tocsr()


def _solved(
    c: Any,
    demand: tuple[Any, Any],
    time_rows: tuple[Any, Any],
    link: Any,
    upper: Any,
    integral: bool,
    time_limit_s: float | None,
) -> tuple[Any, float, float]:
    """HiGHS's result (``milp`` where ``integral``, else ``linprog``), and a MIP's best
    plan and proven lower bound (nan for an LP)."""
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    from fabnet.planning.quiet import stdout_to_stderr

    (eq, units), (ub, rhs) = demand, time_rows
    options = {"time_limit": time_limit_s} if time_limit_s else {}
    if not integral:
        result = linprog(
            c,
            A_ub=ub if rhs.size else None,
            b_ub=rhs if rhs.size else None,
            A_eq=eq,
            b_eq=units,
            bounds=np.column_stack([np.zeros(c.size), upper]),
            method="highs",
            options=options,
        )
        return result, math.nan, math.nan
    with stdout_to_stderr():
        result = milp(
            c,
            constraints=[
                LinearConstraint(eq, units, units),
                LinearConstraint(ub, -np.inf, rhs),
                *([LinearConstraint(link, -np.inf, 0.0)] if link.shape[0] else []),
            ],
            integrality=np.ones(c.size),
            bounds=Bounds(0, upper),
            options={**options, "mip_rel_gap": 1e-9},
        )
    incumbent = float(result.fun) if result.x is not None else math.nan
    dual = getattr(result, "mip_dual_bound", None)
    return result, incumbent, float(dual) if dual is not None else math.nan

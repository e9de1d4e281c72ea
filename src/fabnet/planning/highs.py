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

from fabnet.domain.units import EARTH_RADIUS_KM
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


def solve_highs_lp(problem: Problem, *, time_limit_s: float | None = None) -> HighsResult:
    """The same LP as ``solve_highs``, built with arrays for problems of millions of
    columns (``lp_arrays``). Units per column are not returned."""
    from scipy.optimize import linprog

    started = time.perf_counter()
    lp = lp_arrays(problem)
    options = {"time_limit": time_limit_s} if time_limit_s else {}
    result = linprog(
        lp.cost,
        A_ub=lp.time_rows,
        b_ub=lp.time,
        A_eq=lp.demand_rows,
        b_eq=lp.units,
        bounds=np.column_stack([np.zeros(lp.cost.size), lp.upper]),
        method="highs",
        options=options,
    )
    ok = result.status == 0
    return HighsResult(
        objective=float(result.fun) if ok else math.nan,
        status="optimal" if ok else str(result.message),
        seconds=time.perf_counter() - started,
        variables=int(lp.cost.size),
        rows=lp.units.size + lp.time.size,
        units={},
    )


@dataclass(frozen=True)
class LpArrays:
    """``solve_highs``'s LP as arrays: ``demand_rows @ x == units``, ``time_rows @ x <=
    time``, ``0 <= x <= upper``, minimise ``cost @ x``. Capacity is one row per machine and
    day with carry-over columns (work due on day k done on day k-1), the cumulative rows'
    equivalent with one entry per column; the columns are the (line, machine, day) ones,
    then each line's unmet units, then the carries."""

    cost: Floats
    upper: Floats  # inf where unbounded
    demand_rows: Any  # scipy.sparse CSR
    units: Floats
    time_rows: Any  # scipy.sparse CSR
    time: Floats


def lp_arrays(problem: Problem) -> LpArrays:
    """The LP of ``problem`` over every capable (line, machine, day) column, as arrays."""
    from scipy.sparse import csr_matrix

    costs = problem.costs
    horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    lines = [d for d in problem.demands if d.units > 0]
    machines = problem.supplies
    n_l, n_m = len(lines), len(machines)
    line_of, mach_of, day_of, cost = _array_columns(problem, lines)
    n_x = line_of.size
    n_carry = n_m * max(horizon - 1, 0)
    unmet = np.array([costs.unmet_per_unit * (1 + d.priority) for d in lines])
    c = np.concatenate([cost, unmet, np.zeros(n_carry)])
    eq = csr_matrix(
        (np.ones(n_x + n_l), (np.concatenate([line_of, np.arange(n_l)]), np.arange(n_x + n_l))),
        shape=(n_l, c.size),
    )
    ub, cap = _carried_time_rows(problem, lines, (line_of, mach_of, day_of), n_x + n_l, c.size)
    job_cap = np.array([s.job_units_max for s in machines], dtype=np.float64).reshape(n_m)
    upper = np.full(c.size, np.inf)
    upper[:n_x] = np.where(job_cap[mach_of] > 0, job_cap[mach_of], np.inf)
    units = np.array([d.units for d in lines], dtype=np.float64)
    return LpArrays(c, upper, eq, units, ub, cap)


def _array_columns(problem: Problem, lines: list[Demand]) -> tuple[Ints, Ints, Ints, Floats]:
    """``_columns`` as arrays (line, machine, day, cost per unit), each line's capable
    machines found once per capability group."""
    machines = problem.supplies
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, d in enumerate(lines):
        groups.setdefault((d.process, d.material, d.size, d.excluded_machines), []).append(i)
    parts: list[tuple[Ints, Ints, Ints, Floats]] = []
    machine_costs = _MachineCosts(problem)
    for members in groups.values():
        sample = lines[members[0]]
        capable = np.array([j for j, s in enumerate(machines) if s.can_make(sample)], np.int64)
        if capable.size:
            parts.extend(machine_costs.line_columns(i, lines[i], capable) for i in members)
    if not parts:
        empty = np.empty(0, np.int64)
        return empty, empty, empty, np.empty(0)
    line_of, mach_of, day_of, cost = (np.concatenate([q[k] for q in parts]) for k in range(4))
    return line_of, mach_of, day_of, cost


class _MachineCosts:
    """The machines' places and cost rates as arrays, for ``line_columns``."""

    def __init__(self, problem: Problem) -> None:
        machines = problem.supplies
        self.problem = problem
        self.horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
        self.lat = np.radians(np.array([s.place.lat for s in machines], dtype=np.float64))
        self.lon = np.radians(np.array([s.place.lon for s in machines], dtype=np.float64))
        speed = np.array([s.speed_factor for s in machines], dtype=np.float64)
        risk = problem.costs.risk_per_unit
        self.fixed = np.array([s.price_per_unit + (1 - s.reliability) * risk for s in machines])
        self.per_s = np.array([s.machine_per_s for s in machines]) / speed
        self.per_g = np.array([s.material_per_g for s in machines])
        self.job_cap = np.array([s.job_units_max for s in machines], dtype=np.float64)

    def line_columns(self, i: int, d: Demand, capable: Ints) -> tuple[Ints, Ints, Ints, Floats]:
        """Line i's columns on its ``capable`` machines, each usable day, with their costs."""
        costs, horizon = self.problem.costs, self.horizon
        la, lo = math.radians(d.destination.lat), math.radians(d.destination.lon)
        h = (
            np.sin((self.lat[capable] - la) / 2) ** 2
            + math.cos(la) * np.cos(self.lat[capable]) * np.sin((self.lon[capable] - lo) / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        unit = (
            self.fixed[capable]
            + self.per_s[capable] * d.unit_time_s
            + self.per_g[capable] * d.unit_mass_g
            + costs.transport(km, d.unit_mass_g)
            + km * costs.co2_per_km(d.unit_mass_g)
        )
        late_rate = costs.late_per_unit_day * (1 + d.priority)
        transit = np.array(
            [t if (t := costs.transit_days(k)) is not None else 1 << 30 for k in km.tolist()],
            dtype=np.int64,
        )
        due = np.minimum(horizon, deadline_day(d.due_s) - transit)  # made by, to be on time
        first = np.maximum(due, 1)
        last = np.minimum(due + costs.late_window_days, horizon)
        days = np.arange(1, horizon + 1)
        on = (first[:, None] <= days) & (days <= last[:, None])
        on &= (days == first[:, None]) | (self.job_cap[capable] == 0)[:, None]
        # by day, then machine, as the columns were always listed
        day_at, at = np.nonzero(on.T)
        return (
            np.full(at.size, i, np.int64),
            capable[at],
            days[day_at],
            unit[at] + late_rate * (days[day_at] - due[at]),
        )


def _carried_time_rows(
    problem: Problem,
    lines: list[Demand],
    where: tuple[Ints, Ints, Ints],
    first_carry: int,
    n: int,
) -> tuple[Any, Floats]:
    """Rows (machine j, day k): the seconds of day k's columns (``where``: their line,
    machine and day) + carry(j, k+1) - carry(j, k) <= the time j has on day k; the carry columns
    from ``first_carry`` on, carry(j, k) moving work due on day k to day k-1."""
    from scipy.sparse import csr_matrix

    machines = problem.supplies
    n_m = len(machines)
    horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    line_of, mach_of, day_of = where
    unit_s = np.array([d.unit_time_s for d in lines])
    speed = np.array([s.speed_factor for s in machines], dtype=np.float64)
    n_carry = n_m * max(horizon - 1, 0)
    seconds = unit_s[line_of] / speed[mach_of]
    row_x = mach_of * horizon + (day_of - 1)
    carry_j = np.repeat(np.arange(n_m), max(horizon - 1, 0))
    carry_k = np.tile(np.arange(2, horizon + 1), n_m)
    carry_col = first_carry + np.arange(n_carry)
    rows = np.concatenate(
        [row_x, carry_j * horizon + (carry_k - 2), carry_j * horizon + (carry_k - 1)]
    )
    cols = np.concatenate([np.arange(mach_of.size), carry_col, carry_col])
    vals = np.concatenate([seconds, np.ones(n_carry), -np.ones(n_carry)])
    ub = csr_matrix((vals, (rows, cols)), shape=(n_m * horizon, n))
    per_day = np.array([s.seconds_per_day for s in machines]) * problem.load_factor
    busy = np.array([s.busy_s for s in machines])
    cum = np.maximum(0.0, np.outer(per_day, np.arange(0, horizon + 1)) - busy[:, None])
    cap: Floats = np.diff(cum, axis=1).ravel()
    return ub, cap

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

import numpy as np

from fabnet.domain.units import EARTH_RADIUS_KM
from fabnet.planning.problem import SECONDS_PER_DAY, Problem, deadline_day


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
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp
    from scipy.sparse import coo_matrix

    from fabnet.planning.quiet import stdout_to_stderr

    started = time.perf_counter()
    costs = problem.costs
    horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    lines = [d for d in problem.demands if d.units > 0]
    machines = problem.supplies
    cols: list[tuple[int, int, int]] = []
    c: list[float] = []
    for i, d in enumerate(lines):
        co2 = costs.co2_per_km(d.unit_mass_g)
        late_rate = costs.late_per_unit_day * (1 + d.priority)
        for j, s in enumerate(machines):
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
    n_x = len(cols)
    upper = np.full(n_x + len(lines), np.inf)
    for col, (_, j, _) in enumerate(cols):
        if machines[j].on_probation:
            upper[col] = machines[j].job_units_max
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
    units = np.array([d.units for d in lines], dtype=np.float64)
    # fixed charge (MIP only): a 0/1 column per pair paying one parcel, which every column
    # of the pair needs: sum over days of x[i, j, d] <= units of line i * y[i, j]
    pairs = sorted({(i, j) for i, j, _ in cols}) if integral and costs.fixed_per_pair else []
    pair_row = {pair: n for n, pair in enumerate(pairs)}
    y0 = len(c)
    c.extend(costs.fixed_per_pair for _ in pairs)
    link_rows = [pair_row[(i, j)] for i, j, _ in cols] if pairs else []
    link = coo_matrix(
        (
            [1.0] * len(link_rows) + [-units[i] for i, _ in pairs],
            (
                link_rows + list(range(len(pairs))),
                list(range(len(link_rows))) + [y0 + n for n in range(len(pairs))],
            ),
        ),
        shape=(len(pairs), len(c)),
    ).tocsr()
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
    upper = np.concatenate([upper, np.ones(len(pairs))])
    options = {"time_limit": time_limit_s} if time_limit_s else {}
    if integral:
        with stdout_to_stderr():
            result = milp(
                np.array(c),
                constraints=[
                    LinearConstraint(eq, units, units),
                    LinearConstraint(ub, -np.inf, np.array(rhs)),
                    *([LinearConstraint(link, -np.inf, 0.0)] if pairs else []),
                ],
                integrality=np.ones(len(c)),
                bounds=Bounds(0, upper),
                options={**options, "mip_rel_gap": 1e-9},
            )
        x, fun, ok = result.x, result.fun, result.status == 0
        incumbent = float(result.fun) if result.x is not None else math.nan
        dual = getattr(result, "mip_dual_bound", None)
        dual_bound = float(dual) if dual is not None else math.nan
    else:
        incumbent = dual_bound = math.nan
        result = linprog(
            np.array(c),
            A_ub=ub if rhs else None,
            b_ub=np.array(rhs) if rhs else None,
            A_eq=eq,
            b_eq=units,
            bounds=np.column_stack([np.zeros(len(c)), upper]),
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
        incumbent=incumbent,
        dual_bound=dual_bound,
    )


def solve_highs_lp(problem: Problem, *, time_limit_s: float | None = None) -> HighsResult:
    """The same LP as ``solve_highs``, built with arrays for problems of millions of
    columns: capacity as one row per machine and day with carry-over columns (work due on
    day k done on day k-1), which is the cumulative rows' equivalent with one entry per
    column. Units per column are not returned."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    started = time.perf_counter()
    costs = problem.costs
    horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
    lines = [d for d in problem.demands if d.units > 0]
    machines = problem.supplies
    n_l, n_m = len(lines), len(machines)
    rad = np.radians
    m_lat = rad(np.array([s.place.lat for s in machines], dtype=np.float64))
    m_lon = rad(np.array([s.place.lon for s in machines], dtype=np.float64))
    speed = np.array([s.speed_factor for s in machines], dtype=np.float64)
    fixed = np.array(
        [s.price_per_unit + (1 - s.reliability) * costs.risk_per_unit for s in machines]
    )
    per_s = np.array([s.machine_per_s for s in machines]) / speed
    per_g = np.array([s.material_per_g for s in machines])
    job_cap = np.array([s.job_units_max for s in machines], dtype=np.float64).reshape(n_m)
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, d in enumerate(lines):
        groups.setdefault((d.process, d.material, d.size, d.excluded_machines), []).append(i)
    col_line: list[np.ndarray] = []
    col_machine: list[np.ndarray] = []
    col_day: list[np.ndarray] = []
    col_cost: list[np.ndarray] = []
    for members in groups.values():
        sample = lines[members[0]]
        capable = np.array([j for j, s in enumerate(machines) if s.can_make(sample)], np.int64)
        if capable.size == 0:
            continue
        for i in members:
            d = lines[i]
            la, lo = math.radians(d.destination.lat), math.radians(d.destination.lon)
            h = (
                np.sin((m_lat[capable] - la) / 2) ** 2
                + math.cos(la) * np.cos(m_lat[capable]) * np.sin((m_lon[capable] - lo) / 2) ** 2
            )
            km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
            co2 = costs.co2_per_km(d.unit_mass_g)
            unit = (
                fixed[capable]
                + per_s[capable] * d.unit_time_s
                + per_g[capable] * d.unit_mass_g
                + costs.transport(km, d.unit_mass_g)
                + km * co2
            )
            late_rate = costs.late_per_unit_day * (1 + d.priority)
            transit = np.array(
                [t if (t := costs.transit_days(k)) is not None else 1 << 30 for k in km.tolist()],
                dtype=np.int64,
            )
            due = np.minimum(horizon, deadline_day(d.due_s) - transit)  # made by, to be on time
            first = np.maximum(due, 1)
            last = np.minimum(due + costs.late_window_days, horizon)
            for day in range(1, horizon + 1):
                on = (first <= day) & (day <= last) & ((day == first) | (job_cap[capable] == 0))
                if not on.any():
                    continue
                col_line.append(np.full(int(on.sum()), i, np.int64))
                col_machine.append(capable[on])
                col_day.append(np.full(int(on.sum()), day, np.int64))
                col_cost.append(unit[on] + late_rate * (day - due[on]))
    line_of = np.concatenate(col_line) if col_line else np.empty(0, np.int64)
    mach_of = np.concatenate(col_machine) if col_machine else np.empty(0, np.int64)
    day_of = np.concatenate(col_day) if col_day else np.empty(0, np.int64)
    cost = np.concatenate(col_cost) if col_cost else np.empty(0)
    n_x = line_of.size
    n_carry = n_m * max(horizon - 1, 0)
    unmet = np.array([costs.unmet_per_unit * (1 + d.priority) for d in lines])
    c = np.concatenate([cost, unmet, np.zeros(n_carry)])
    eq = csr_matrix(
        (np.ones(n_x + n_l), (np.concatenate([line_of, np.arange(n_l)]), np.arange(n_x + n_l))),
        shape=(n_l, c.size),
    )
    # row (machine j, day k): sum of day-k columns' seconds + carry(j, k+1) - carry(j, k) <= cap
    seconds = np.array([lines[i].unit_time_s for i in range(n_l)])[line_of] / speed[mach_of]
    row_x = mach_of * horizon + (day_of - 1)
    carry_j = np.repeat(np.arange(n_m), max(horizon - 1, 0))
    carry_k = np.tile(np.arange(2, horizon + 1), n_m)  # carry(j, k): moved from k to k-1
    carry_col = n_x + n_l + np.arange(n_carry)
    rows = np.concatenate(
        [row_x, carry_j * horizon + (carry_k - 2), carry_j * horizon + (carry_k - 1)]
    )
    cols = np.concatenate([np.arange(n_x), carry_col, carry_col])
    vals = np.concatenate([seconds, np.ones(n_carry), -np.ones(n_carry)])
    ub = csr_matrix((vals, (rows, cols)), shape=(n_m * horizon, c.size))
    upper = np.full(c.size, np.inf)
    upper[:n_x] = np.where(job_cap[mach_of] > 0, job_cap[mach_of], np.inf)
    per_day = np.array([s.seconds_per_day for s in machines]) * problem.load_factor
    busy = np.array([s.busy_s for s in machines])
    k = np.arange(0, horizon + 1)
    cum = np.maximum(0.0, np.outer(per_day, k) - busy[:, None])
    cap = np.diff(cum, axis=1).ravel()
    options = {"time_limit": time_limit_s} if time_limit_s else {}
    result = linprog(
        c,
        A_ub=ub,
        b_ub=cap,
        A_eq=eq,
        b_eq=np.array([d.units for d in lines], dtype=np.float64),
        bounds=np.column_stack([np.zeros(c.size), upper]),
        method="highs",
        options=options,
    )
    ok = result.status == 0
    return HighsResult(
        objective=float(result.fun) if ok else math.nan,
        status="optimal" if ok else str(result.message),
        seconds=time.perf_counter() - started,
        variables=int(c.size),
        rows=n_l + n_m * horizon,
        units={},
    )

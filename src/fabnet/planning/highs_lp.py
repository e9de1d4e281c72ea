"""``solve_highs``'s LP built with arrays, for problems of millions of columns: the same
model (highs.py's docstring), with capacity as one row per machine and day and carry-over
columns instead of cumulative rows. The benchmarks' "HiGHS LP over all capable pairs" and
the tests that check the flow planner's LP to the cent use it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from fabnet.domain.units import EARTH_RADIUS_KM
from fabnet.planning.highs import Floats, HighsResult, Ints
from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem, deadline_day


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

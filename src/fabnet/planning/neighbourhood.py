"""Whole units re-planned a neighbourhood at a time, exactly, by HiGHS's MIP.

Rounding a fractional plan to whole units goes a class of print times at a time, longest
first; the remainders of the longer classes, placed whole, take time that the shorter
parts needed by their deadlines, and slivers of time too small for a unit are left on
many machines. In one medium benchmark plan 37 units were left unmet that way (31 of the
24-minute part, 6 of the 80-minute one), each costing ``unmet_per_unit``. Room for them
exists when the units around them move: the few machines nearest such a line, with
every unit planned on them, are planned again by HiGHS's MIP (whole units, every usable
day, the time the rest of the plan leaves each machine by each day), the line's unmet
units included; the new plan of the neighbourhood is kept when it costs less. Only units
already on those machines move, and only among them.

Then the lines whose whole units cost most above what the LP paid for them, the dearest
first: their neighbourhood is the machines where the LP made more of the line than the
plan does (where its units were pushed out) and those where the plan makes more than the
LP did (where they went instead), so that a move of the line back, and of what took its
place, is in one MIP. At medium this took the gap from 1.24% to 1.04% in 60 s; the
nearest machines instead (ADR 0019) had gained 0.03%.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from fabnet.planning.flow import Arcs, Floats, Stop, TimeModel
from fabnet.planning.network import Ints

log = logging.getLogger(__name__)

# a neighbourhood of the second phase has this share of a first one's time: more of them
# are tried (medium, 60 s in all: 0.3 s each 1.04%, 1 s each 1.08%, 0.2 s each 1.12%)
EXCESS_TIME = 0.3


def day_work(model: TimeModel, m: Ints, day: Ints, ticks: Ints) -> Ints:
    """Ticks of work due by each day on each machine, cumulative (machines x horizon)."""
    work = np.zeros((model.layout.n_machines, model.horizon), dtype=np.int64)
    np.add.at(work, (m, day - 1), ticks)
    out: Ints = np.cumsum(work, axis=1)
    return out


def improve(
    model: TimeModel,
    arcs: Arcs,
    units: Ints,
    lp_unmet: Floats,
    *,
    machines: int = 4,
    time_per_s: float = 1.0,
    budget_s: float = 60.0,
    stop: Stop = lambda: False,
    lp: tuple[Arcs, Floats] | None = None,
    enough: float = -math.inf,
    above_lp_s: float = math.inf,
) -> tuple[Arcs, Ints]:
    """Whole ``units`` on ``arcs`` (the model's cost, no extra charge), cheaper where a
    neighbourhood planned again finds a cheaper plan for it; at most ``budget_s`` seconds
    in all, and none once the plan costs at most ``enough``. First the lines that rounding
    left with more units unmet than the fractional plan (``lp_unmet`` per demand), each
    with its ``machines`` nearest machines: where the LP itself leaves units unmade, time
    is short, not cut. Then, given the LP's ``lp`` (arcs, fractional units), the lines
    whose units cost more than the LP's by more than their share of the gap ``enough``
    allows, the dearest first, each with the machines where the plan and the LP differ
    most for it (at most ``machines - 1`` of each kind), for at most ``above_lp_s`` of
    what is left of the budget."""
    d = model.d
    if budget_s <= 0:
        return arcs, units
    state = _State(model, arcs, units)
    deadline = time.perf_counter() + budget_s

    def out_of_time() -> bool:
        return stop() or time.perf_counter() > deadline or state.objective() <= enough

    need = np.ceil(lp_unmet - 1e-6).astype(np.int64)  # units the LP leaves unmet, whole
    lost = state.left - need
    urgent = sorted(np.flatnonzero(lost > 0).tolist(), key=lambda i: (-d.unmet[i], -lost[i]))
    for a in urgent:
        if out_of_time():
            return state.arcs_units(arcs, units)
        if state.left[a] <= need[a]:
            continue  # placed meanwhile, in another line's neighbourhood
        group = model.group_machines[d.group[a]]
        if group.size == 0:
            continue
        near = group[model.group_index[d.group[a]].nearest(d.xyz[a : a + 1], machines)[0]]
        state.replan(a, np.unique(near), time_per_s)
    if lp is None:
        return state.arcs_units(arcs, units)
    lp_arcs, lp_units = lp
    lp_made = np.bincount(
        lp_arcs.a, weights=lp_units * model.unit_cost(lp_arcs), minlength=d.quantity.size
    ).astype(np.float64)
    lp_cost = lp_made + np.maximum(lp_unmet, 0.0) * d.unmet
    excess = state.line_costs() - lp_cost
    # a line is worth a neighbourhood when it is above the LP by more than its share of
    # the gap that would still be certified
    gap = state.objective() - enough if math.isfinite(enough) else 0.0
    share = max(0.0, gap) / max(1, d.quantity.size)
    dear = np.flatnonzero(excess > max(share, 1e-9))
    deadline = min(deadline, time.perf_counter() + above_lp_s)
    by_line = np.argsort(lp_arcs.a, kind="stable")
    starts = np.searchsorted(lp_arcs.a[by_line], np.arange(d.quantity.size + 1))
    for a in dear[np.argsort(-excess[dear], kind="stable")].tolist():
        if out_of_time():
            break
        rows = by_line[starts[a] : starts[a + 1]]
        near = state.differ(a, lp_arcs.m[rows], lp_units[rows], max(1, machines - 1))
        if near.size:
            state.replan(a, near, EXCESS_TIME * time_per_s)
    return state.arcs_units(arcs, units)


class _State:
    """The plan as neighbourhoods change it: rows of (line, machine, day, units), the time
    each machine has left by each day, the units each line still lacks."""

    def __init__(self, model: TimeModel, arcs: Arcs, units: Ints) -> None:
        d = model.d
        self.model = model
        self.a, self.m, self.day, self.units = arcs.a, arcs.m, arcs.d, units
        made = np.bincount(arcs.a, weights=units, minlength=d.quantity.size).astype(np.int64)
        self.left = d.quantity - made
        self.slack = model.cum_ticks[:, 1:] - day_work(
            model, arcs.m, arcs.d, units * d.ticks[arcs.a]
        )
        self.changed = False
        self._objective = model.objective_of(arcs, units)

    def objective(self) -> float:
        return self._objective

    def line_costs(self) -> Floats:
        d = self.model.d
        cost = self.model.unit_cost(Arcs(self.a, self.m, self.day))
        made = np.bincount(self.a, weights=self.units * cost, minlength=d.quantity.size)
        out: Floats = made.astype(np.float64) + self.left * d.unmet
        return out

    def arcs_units(self, arcs: Arcs, units: Ints) -> tuple[Arcs, Ints]:
        if not self.changed:  # no neighbourhood was kept: the plan as it came
            return arcs, units
        return self.model.summed(Arcs(self.a, self.m, self.day), self.units)

    def differ(self, a: int, lp_m: Ints, lp_units: Floats, most: int) -> Ints:
        """Machines where line ``a``'s LP units (``lp_m``, ``lp_units``) exceed its
        planned units most, and those where they fall short most, ``most`` of each."""
        mine = (self.a == a) & (self.units > 0)
        m = np.concatenate([lp_m, self.m[mine]])
        if m.size == 0:
            return m
        w = np.concatenate([lp_units, -self.units[mine].astype(np.float64)])
        machines, at = np.unique(m, return_inverse=True)
        diff = np.bincount(at, weights=w, minlength=machines.size)
        order = np.argsort(-diff, kind="stable")
        pushed_out = machines[order[:most]][diff[order[:most]] > 1e-9]
        went = machines[order[::-1][:most]][diff[order[::-1][:most]] < -1e-9]
        return np.unique(np.concatenate([pushed_out, went]))

    def replan(self, a: int, near: Ints, time_s: float) -> bool:
        """Every unit planned on the machines ``near``, and the units line ``a`` and the
        lines there lack, planned again by HiGHS; kept when cheaper. True when kept."""
        model, d = self.model, self.model.d
        rows = np.flatnonzero((self.units > 0) & np.isin(self.m, near))
        lines = np.union1d(np.unique(self.a[rows]), [a])
        # every line on these machines: its units there, and its unmet units, to place
        target = np.bincount(self.a[rows], weights=self.units[rows], minlength=d.quantity.size)
        target = target[lines].astype(np.int64) + self.left[lines]
        old_cost = model.unit_cost(Arcs(self.a[rows], self.m[rows], self.day[rows]))
        current = float(
            (self.units[rows] * old_cost).sum() + (self.left[lines] * d.unmet[lines]).sum()
        )
        freed = day_work(
            model, self.m[rows], self.day[rows], self.units[rows] * d.ticks[self.a[rows]]
        )
        room = self.slack + freed
        groups = d.group[lines]
        can = {g: np.isin(near, model.group_machines[g]) for g in np.unique(groups).tolist()}
        capable = np.concatenate([can[g] for g in groups.tolist()])
        cand, cost = model.pair_arcs(
            np.repeat(lines, near.size)[capable], np.tile(near, lines.size)[capable]
        )
        found = _solve(model, cand, cost, lines, target, room, near, time_s)
        if found is None:
            return False
        x, unmet = found
        total = float((x * cost).sum() + (unmet * d.unmet[lines]).sum())
        if total >= current - 1e-6 * max(1.0, abs(current)):
            return False
        got = x > 0
        used = day_work(model, cand.m[got], cand.d[got], x[got] * d.ticks[cand.a[got]])
        if (room[near] - used[near] < 0).any():
            return False  # a rounded value pushed a machine over: keep what was there
        log.debug(
            "neighbourhood of line %d: %d lines, %d arcs, unmet %d -> %d, cost %.2f -> %.2f",
            a,
            lines.size,
            len(cand),
            int(self.left[lines].sum()),
            int(unmet.sum()),
            current,
            total,
        )
        self.slack = room - used
        units = self.units.copy()
        units[rows] = 0
        self.a = np.concatenate([self.a, cand.a[got]])
        self.m = np.concatenate([self.m, cand.m[got]])
        self.day = np.concatenate([self.day, cand.d[got]])
        self.units = np.concatenate([units, x[got]])
        self.left[lines] = unmet
        self._objective += total - current
        self.changed = True
        return True


def _solve(
    model: TimeModel,
    arcs: Arcs,
    cost: Floats,
    lines: Ints,
    target: Ints,
    room: Ints,
    near: Ints,
    time_s: float,
) -> tuple[Ints, Ints] | None:
    """HiGHS's MIP over ``arcs``: each line's ``target`` units made or unmet, on each
    machine of ``near`` the work due by each day within ``room`` (cumulative ticks).
    Whole units per arc and unmet units per line, or None."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    from fabnet.planning.quiet import stdout_to_stderr

    d, horizon = model.d, model.horizon
    n_x, n_l = len(arcs), lines.size
    if n_x == 0:
        return None
    n = n_x + n_l
    line_pos = np.searchsorted(lines, arcs.a)
    job = model.job_cap[arcs.m]
    most = np.where(job > 0, np.minimum(job, target[line_pos]), target[line_pos])
    upper = np.concatenate([most, target]).astype(np.float64)
    c = np.concatenate([cost, d.unmet[lines]])
    eq = coo_matrix(
        (np.ones(n), (np.concatenate([line_pos, np.arange(n_l)]), np.arange(n))), shape=(n_l, n)
    )
    # on machine j by day k: the work of the arcs of j due by day k
    pos = np.full(model.layout.n_machines, -1, dtype=np.int64)
    pos[near] = np.arange(near.size)
    span = horizon - arcs.d + 1
    rep = np.repeat(np.arange(n_x), span)
    day = arcs.d[rep] + np.arange(rep.size) - np.repeat(np.cumsum(span) - span, span)
    by_day = coo_matrix(
        (d.ticks[arcs.a[rep]].astype(np.float64), (pos[arcs.m[rep]] * horizon + day - 1, rep)),
        shape=(near.size * horizon, n),
    )
    wanted = target.astype(np.float64)
    with stdout_to_stderr():
        result = milp(
            c,
            constraints=[
                LinearConstraint(eq.tocsr(), wanted, wanted),
                LinearConstraint(by_day.tocsr(), -np.inf, room[near].ravel().astype(np.float64)),
            ],
            integrality=np.ones(n),
            bounds=Bounds(0, upper),
            options={"time_limit": time_s, "mip_rel_gap": 1e-3},
        )
    if result.x is None:
        return None
    x = np.rint(result.x).astype(np.int64)
    units, unmet = x[:n_x], x[n_x:]
    made = np.bincount(line_pos, weights=units, minlength=n_l).astype(np.int64)
    if (made + unmet != target).any() or (units < 0).any() or (unmet < 0).any():
        return None
    return units, unmet

"""Units left unmet after rounding, placed by re-planning a neighbourhood exactly.

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
"""

from __future__ import annotations

import logging
import time

import numpy as np

from fabnet.planning.flow import Arcs, Floats, Stop, TimeModel
from fabnet.planning.network import Ints

log = logging.getLogger(__name__)


def day_work(model: TimeModel, m: Ints, day: Ints, ticks: Ints) -> Ints:
    """Ticks of work due by each day on each machine, cumulative (machines x horizon)."""
    work = np.zeros((model.layout.n_machines, model.horizon), dtype=np.int64)
    np.add.at(work, (m, day - 1), ticks)
    out: Ints = np.cumsum(work, axis=1)
    return out


def fill_unmet(
    model: TimeModel,
    arcs: Arcs,
    units: Ints,
    lp_unmet: Floats,
    *,
    machines: int = 4,
    time_per_s: float = 1.0,
    budget_s: float = 60.0,
    stop: Stop = lambda: False,
) -> tuple[Arcs, Ints]:
    """Whole ``units`` on ``arcs`` (the model's cost, no extra charge) with fewer units
    unmet where a neighbourhood of ``machines`` nearest machines, planned again, finds a
    cheaper plan for them; at most ``budget_s`` seconds in all. Only the lines that
    rounding left with more units unmet than the fractional plan (``lp_unmet`` per
    demand) are tried: where the LP itself leaves units unmade, time is short, not cut."""
    d = model.d
    made = np.bincount(arcs.a, weights=units, minlength=d.quantity.size).astype(np.int64)
    left = d.quantity - made
    if not left.any() or budget_s <= 0:
        return arcs, units
    deadline = time.perf_counter() + budget_s
    slack = model.cum_ticks[:, 1:] - day_work(model, arcs.m, arcs.d, units * d.ticks[arcs.a])
    a_of, m_of, day_of = arcs.a, arcs.m, arcs.d
    need = np.ceil(lp_unmet - 1e-6).astype(np.int64)  # units the LP leaves unmet, whole
    lost = left - need
    urgent = sorted(np.flatnonzero(lost > 0).tolist(), key=lambda i: (-d.unmet[i], -lost[i]))
    for a in urgent:
        if stop() or time.perf_counter() > deadline:
            break
        if left[a] <= need[a]:
            continue  # placed meanwhile, in another line's neighbourhood
        group = model.group_machines[d.group[a]]
        if group.size == 0:
            continue
        near = group[model.group_index[d.group[a]].nearest(d.xyz[a : a + 1], machines)[0]]
        near = np.unique(near)
        rows = np.flatnonzero((units > 0) & np.isin(m_of, near))
        lines = np.union1d(np.unique(a_of[rows]), [a])
        # every line on these machines: its units there, and its unmet units, to place
        target = np.bincount(a_of[rows], weights=units[rows], minlength=d.quantity.size)
        target = target[lines].astype(np.int64) + left[lines]
        old_cost = model.unit_cost(Arcs(a_of[rows], m_of[rows], day_of[rows]))
        current = float((units[rows] * old_cost).sum() + (left[lines] * d.unmet[lines]).sum())
        freed = day_work(model, m_of[rows], day_of[rows], units[rows] * d.ticks[a_of[rows]])
        room = slack + freed
        groups = d.group[lines]
        can = {g: np.isin(near, model.group_machines[g]) for g in np.unique(groups).tolist()}
        capable = np.concatenate([can[g] for g in groups.tolist()])
        cand, cost = model.pair_arcs(
            np.repeat(lines, near.size)[capable], np.tile(near, lines.size)[capable]
        )
        found = _solve(model, cand, cost, lines, target, room, near, time_per_s)
        if found is None:
            continue
        x, unmet = found
        total = float((x * cost).sum() + (unmet * d.unmet[lines]).sum())
        if total >= current - 1e-6 * max(1.0, abs(current)):
            continue
        got = x > 0
        used = day_work(model, cand.m[got], cand.d[got], x[got] * d.ticks[cand.a[got]])
        if (room[near] - used[near] < 0).any():
            continue  # a rounded value pushed a machine over: keep what was there
        log.debug(
            "neighbourhood of line %d: %d lines, %d arcs, unmet %d -> %d, cost %.2f -> %.2f",
            a,
            lines.size,
            len(cand),
            int(left[lines].sum()),
            int(unmet.sum()),
            current,
            total,
        )
        slack = room - used
        units = units.copy()
        units[rows] = 0
        a_of = np.concatenate([a_of, cand.a[got]])
        m_of = np.concatenate([m_of, cand.m[got]])
        day_of = np.concatenate([day_of, cand.d[got]])
        units = np.concatenate([units, x[got]])
        left[lines] = unmet
    if a_of is arcs.a:  # no neighbourhood was kept: the plan as it came
        return arcs, units
    return model.summed(Arcs(a_of, m_of, day_of), units)


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

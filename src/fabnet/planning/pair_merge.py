"""The fixed-charge model's merge step (fixed_charge.py): on whole units, a line made on
several machines gives up its smallest pair where the line's other machines have the
time, or leaves the pair's units unmade where they cost less than its parcel."""

from __future__ import annotations

import math

import numpy as np

from fabnet.planning.arcs import Arcs
from fabnet.planning.assignments import plan_of
from fabnet.planning.hood_state import day_work
from fabnet.planning.network import Ints
from fabnet.planning.plan import Plan
from fabnet.planning.problem import Demand
from fabnet.planning.time_model import TimeModel


def merge_pairs(
    model: TimeModel,
    plan: Plan,
    fixed: float,
    started: float,
    demands: list[Demand],
    passes: int = 10,
) -> Plan:
    """Local search on whole units: a line made on several machines gives up the machine
    that makes the fewest of its units when its other machines have the time for them by
    their days and the move costs less than the parcel it saves; or a pair's units are
    left unmade when they cost less unmade than the parcel (a parcel dearer than the
    units it carries). Otherwise a pair is closed only when all its units found room."""
    model.extra = None
    work = plan_work(model, plan)
    if work is None:
        return plan
    a_of, m_of, day_of, units, slack = work
    changed = False
    for _ in range(passes):
        added, closed = merge_pass(model, Arcs(a_of, m_of, day_of), units, slack, fixed)
        if not closed:
            break
        extra = np.array(added, dtype=np.int64).reshape(-1, 4)
        arcs = Arcs(
            np.concatenate([a_of, extra[:, 0]]),
            np.concatenate([m_of, extra[:, 1]]),
            np.concatenate([day_of, extra[:, 2]]),
        )
        arcs, units = model.summed(arcs, np.concatenate([units, extra[:, 3]]))
        a_of, m_of, day_of = arcs.a, arcs.m, arcs.d
        changed = True
    if not changed:
        return plan
    arcs = Arcs(a_of, m_of, day_of)
    return plan_of(
        model, arcs, units, model.unit_cost(arcs), "fixed_charge", started, demands, math.nan
    )


Move = tuple[int, int, int, int]  # (line, machine, day, units) moved in


def merge_pass(
    model: TimeModel, arcs: Arcs, units: Ints, slack: Ints, fixed: float
) -> tuple[list[Move], int]:
    """One pass of ``merge_pairs`` over the pairs, fewest units first: the units of each
    pair it closes set to 0 and ``slack`` kept up to date (both in place); the units
    moved in and the number of pairs closed."""
    cost = model.unit_cost(arcs)
    pair_units: dict[tuple[int, int], int] = {}
    pair_rows: dict[tuple[int, int], list[int]] = {}
    for r in np.flatnonzero(units > 0).tolist():
        key = (int(arcs.a[r]), int(arcs.m[r]))
        pair_units[key] = pair_units.get(key, 0) + int(units[r])
        pair_rows.setdefault(key, []).append(r)
    machines_of: dict[int, list[int]] = {}
    for a, m in pair_units:
        machines_of.setdefault(a, []).append(m)
    added: list[Move] = []
    received: set[tuple[int, int]] = set()  # pairs that took units in this pass
    closed = 0
    for (a, m), n in sorted(pair_units.items(), key=lambda kv: kv[1]):
        if (a, m) in received:
            continue
        others = np.array(
            [o for o in machines_of[a] if o != m and model.job_cap[o] == 0], dtype=np.int64
        )
        mine = pair_rows[(a, m)]
        ticks = int(model.d.ticks[a])
        saved = 0.0
        for r in mine:  # the pair's time freed while its units look for room
            slack[m, arcs.d[r] - 1 :] += units[r] * ticks
            saved += units[r] * cost[r]
        moves, spent, left = _moves(model, a, others, n, slack)
        # what closing the pair gains: moving its units, or leaving them unmade (where
        # a parcel costs more than the units are worth unmade)
        moved = fixed - (spent - saved) if left == 0 else -math.inf
        dropped = fixed + saved - n * float(model.d.unmet[a])
        keep_moves = max(moved, dropped) > 1e-6 and moved >= dropped
        if not keep_moves:
            for _a, o, day, take in moves:  # undo
                slack[o, day - 1 :] += take * ticks
        if max(moved, dropped) <= 1e-6:  # kept open: its time booked again
            for r in mine:
                slack[m, arcs.d[r] - 1 :] -= units[r] * ticks
            continue
        for r in mine:
            units[r] = 0
        machines_of[a].remove(m)
        closed += 1
        if keep_moves:
            added.extend(moves)
            received.update((a, o) for _a, o, _d, _t in moves)
    return added, closed


def _moves(
    model: TimeModel, a: int, others: Ints, n: int, slack: Ints
) -> tuple[list[Move], float, int]:
    """Up to ``n`` units of line ``a`` placed on the ``others`` (machines already making
    it), cheapest arc first, where their time by the arc's day allows (``slack`` taken in
    place); the moves, what they cost and the units left without room."""
    ticks = int(model.d.ticks[a])
    cand, cand_cost = model.pair_arcs(np.full(others.size, a), others)
    moves: list[Move] = []
    spent = 0.0
    left = n
    for j in np.argsort(cand_cost, kind="stable").tolist():
        o, day = int(cand.m[j]), int(cand.d[j])
        take = min(left, int(slack[o, day - 1 :].min()) // ticks)
        if take > 0:
            slack[o, day - 1 :] -= take * ticks
            moves.append((a, o, day, take))
            spent += take * float(cand_cost[j])
            left -= take
            if left == 0:
                break
    return moves, spent, left


def plan_work(model: TimeModel, plan: Plan) -> tuple[Ints, Ints, Ints, Ints, Ints] | None:
    """A plan's whole units as arrays (line, machine, day, units) of the model, and the
    time (ticks) each machine has left by each day, cumulative (machines x horizon)."""
    line_index = {dem.line_id: a for a, g in enumerate(model.d.members) for dem, _ in g}
    machine_index = {s.machine_id: i for i, s in enumerate(model.supplies)}
    rows = [
        (line_index[x.line_id], machine_index[x.machine_id], x.day, x.units)
        for x in plan.assignments
    ]
    if not rows:
        return None
    table = np.array(rows, dtype=np.int64)
    a_of, m_of, day_of, units = table[:, 0], table[:, 1], table[:, 2], table[:, 3].copy()
    slack = model.cum_ticks[:, 1:] - day_work(model, m_of, day_of, units * model.d.ticks[a_of])
    return a_of, m_of, day_of, units, slack

"""A stronger lower bound: the demand rows relaxed instead of the time rows.

With each demand's unit priced at ``v_a`` (at most its unmet cost), every plan costs at
least

    sum_a U_a v_a - sum_m P_m(v),

where ``P_m(v)`` is the most machine m could earn making whole units at ``v_a - c(a, m,
d)`` each within its time by each day: a knapsack with deadlines, one per machine
(Lagrangian relaxation of the demand rows; for the generalized assignment problem this
is Ross and Soland's bound, and Fisher, Jaikumar and Van Wassenhove's). Units are whole
in the knapsack, which is what the LP bound lacks: six hours by day 1 hold 4.5 LP units
of an 80-minute part and 4 whole ones. With ``v`` the least each demand's unit is worth
over every capable (machine, day) under machine-time prices ``M``, the knapsack's LP
relaxation earns at most ``sum_d time(m, d) M[m, d]``, so each machine's ``P_m`` is the
smaller of the two (either is valid) and the bound is never below the LP bound. A job on
probation is capped (a row of the LP): it does not set its demand's ``v``, and it earns
its machine's LP figure what it is below ``v``, up to its cap (``_rents``).

Each knapsack is solved exactly by dynamic programming over the machine's time in steps
(the print times' common divisor, or ``STEPS`` of them over the horizon): print times and
the time by each day rounded down to steps, which lets every plan still fit (the bound
stays a bound). Machines are solved
in order of what their time earns in the LP, for at most ``budget_s``; the rest keep
their LP figure.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from fabnet.planning.arcs import Arcs, Floats
from fabnet.planning.network import Ints
from fabnet.planning.pricing import ball_pairs, values
from fabnet.planning.reach import cheapest_first
from fabnet.planning.time_model import TimeModel

log = logging.getLogger(__name__)

# a machine's knapsack has at most this many steps of time over the horizon where the
# print times have no common divisor to step by (a week in steps of 18.5 s)
STEPS = 32_768
# at most this many items (demand, machine, day) are gathered, about 100 MB: the medium
# size (1,000 machines, 10,000 orders) has 7.5 million, 425,000 once pruned, and its
# knapsacks take 2 minutes for 0.07% of bound; the large size has about 10 times as many
ITEMS = 2_000_000


def knapsack_bound(
    model: TimeModel,
    prices: Floats,
    best: Floats,
    fractional: Ints,
    *,
    slack: float,
    budget_s: float,
) -> tuple[float, Floats]:
    """The bound above, and ``v``, with ``v`` the demands' least value over every capable (machine,
    day) under ``prices``, searched within the distance balls of ``best`` (each demand's
    price in the restricted network, or more). nan where the model has an extra charge
    (no distance ball holds then) or the balls hold more than ``pricing_pairs`` pairs.

    Only the machines in ``fractional`` are solved (those where the LP makes a fraction
    of a unit: where it makes whole units only, they earn the LP's figure as whole units
    too), and of their items only those whose reduced cost ``c + t M - v`` is below
    ``slack`` (the plan's gap in money): a unit of any other loses at least that against
    the LP's figure, so the machine earns at most the larger of its knapsack over the
    rest and its LP figure less ``slack``."""
    least = np.minimum(best, model.d.unmet)
    if fractional.size == 0 or not worth_seeking(model):
        return math.nan, least
    started = time.perf_counter()
    items = _items(model, prices, least, np.unique(fractional), slack, started + budget_s)
    if items is None:
        return math.nan, least
    least, a, m, day, gain, rents = items
    finite = np.where(np.isfinite(prices), prices, 0.0)
    # each machine's LP bound on P_m: its time at the prices, and a machine on probation's
    # jobs below ``v`` (each job's cap is a row of its LP too)
    lp_earns = (model.day_s * finite).sum(axis=1) + rents
    earns = lp_earns.copy()
    _, m, day, gain, caps, weight, room, starts, ends = prepared(model, a, m, day, gain)
    solved = 0
    for i in np.argsort(-lp_earns[m[starts]], kind="stable"):
        lo, hi = int(starts[i]), int(ends[i])
        machine = int(m[lo])
        if lp_earns[machine] <= 0.0 or time.perf_counter() - started > budget_s:
            break  # a machine's time that earns nothing in the LP earns nothing here
        got = machine_knapsack(room[machine], weight[lo:hi], day[lo:hi], gain[lo:hi], caps[lo:hi])
        earns[machine] = min(earns[machine], max(got, lp_earns[machine] - slack))
        solved += 1
    log.debug(
        "knapsack bound: %d items, %d of %d machines solved in %.2f s, gain %.2f",
        m.size,
        solved,
        starts.size,
        time.perf_counter() - started,
        lp_earns.sum() - earns.sum(),
    )
    return float((model.d.quantity * least).sum() - earns.sum()), least


def network_prices(model: TimeModel, arcs: Arcs, prices: Floats) -> Floats:
    """Each demand's price in a restricted network (``arcs``, its machines' time at
    ``prices``): its least over the arcs, at most its unmet cost. A job on probation
    does not set it: the job's cap is a row of the LP, and the demand pays for its
    other units on its other arcs (pricing.py)."""
    best = model.d.unmet.copy()
    free = model.job_cap[arcs.m] == 0
    val = values(model, arcs, model.unit_cost(arcs), prices)
    np.minimum.at(best, arcs.a[free], val[free])
    return best


def worth_seeking(model: TimeModel) -> bool:
    """False where the bound cannot be had: an extra charge (no distance ball holds), or
    more pairs in the last pricing round's balls than ``ITEMS`` (the items, a day or more
    of each pair below its price, would most likely be more). Checked before the prices
    are worked out again."""
    if model.extra is not None:
        return False
    if model.ball_pairs > ITEMS:
        log.debug("knapsack bound: not sought (%d pairs in pricing's balls)", model.ball_pairs)
        return False
    return True


def prepared(
    model: TimeModel, a: Ints, m: Ints, day: Ints, gain: Floats
) -> tuple[Ints, Ints, Ints, Floats, Ints, Ints, Ints, Ints, Ints]:
    """Items as the knapsacks take them: those some best choice needs, each machine's
    together by day, with their caps and weights in steps; each machine's room by day in
    steps; where each machine's items start and end."""
    step = _steps(model.cum_s[:, -1], model.d.unit_s[a])
    weight = np.floor(model.d.unit_s[a] / step[m] + 1e-9).astype(np.int64)
    room = np.floor(model.cum_s / step[:, None] + 1e-9).astype(np.int64)
    caps = np.minimum(
        model.arc_whole_units(Arcs(a, m, day), job_per_line=True), model.d.quantity[a]
    )
    keep = _useful(m, day, weight, gain, caps, room)
    at = keep[np.lexsort((day[keep], m[keep]))]  # each machine's items, by day
    starts = np.r_[0, np.flatnonzero(np.diff(m[at])) + 1] if at.size else np.empty(0, np.int64)
    ends = np.r_[starts[1:], at.size].astype(np.int64) if at.size else starts
    return a[at], m[at], day[at], gain[at], caps[at], weight[at], room, starts, ends


def _steps(total_s: Floats, unit_s: Floats) -> Floats:
    """Each machine's step of time: ``STEPS`` over its horizon, or where every print time
    is a whole number of seconds, their greatest common divisor if that makes at most 4
    times as many steps (no print time is then rounded at all: 120 s for the instances'
    parts of 24 minutes to 4.6 hours, a week in 5,040 steps)."""
    step = np.maximum(1.0, total_s / STEPS)
    whole = np.rint(unit_s)
    if unit_s.size and whole.min() >= 1 and np.allclose(unit_s, whole, rtol=0, atol=1e-9):
        common = float(np.gcd.reduce(whole.astype(np.int64)))
        step = np.where(total_s / common <= 4 * STEPS, common, step)
    return step


def _items(
    model: TimeModel, prices: Floats, least: Floats, machines: Ints, slack: float, until: float
) -> tuple[Floats, Ints, Ints, Ints, Floats, Floats] | None:
    """Each demand's least value (``least`` lowered to it) and the (demand, machine, day)
    of ``machines`` below it by less than ``slack`` under the prices, with what a unit
    gains there; each machine's rent of its jobs on probation (``_rents``); None when the
    balls are too wide, the items more than ``ITEMS`` or the time is past ``until``.

    A job on probation does not lower ``least``: its cap is a row of the LP, so the
    demand's price is that of its other arcs (pricing.py), and the job earns its machine
    the difference up to its cap."""
    found: list[tuple[Ints, Ints, Ints, Floats, Floats]] = []
    jobs: list[tuple[Ints, Ints, Floats]] = []
    pairs = items = 0
    wanted = np.zeros(len(model.supplies), dtype=bool)
    wanted[machines] = True
    for pa, pm in ball_pairs(model, least):
        pairs += pa.size
        if pairs > model.options.pricing_pairs:
            return None
        cand, cost = model.pair_arcs(pa, pm)
        val = values(model, cand, cost, prices)
        on = model.job_cap[cand.m] > 0
        np.minimum.at(least, cand.a[~on], val[~on])
        on &= val < least[cand.a]
        jobs.append((cand.a[on], cand.m[on], val[on]))
        # ``least`` only falls: what is out now is out at the end
        keep = wanted[cand.m] & (cost < least[cand.a]) & (val - least[cand.a] < slack)
        items += int(keep.sum())
        if items > ITEMS or time.perf_counter() > until:
            return None
        found.append((cand.a[keep], cand.m[keep], cand.d[keep], cost[keep], val[keep]))
    rents = _rents(model, jobs, least)
    empty = np.empty(0, dtype=np.int64)
    if not found:
        return least, empty, empty, empty, np.empty(0), rents
    a, m, day = (np.concatenate([f[i] for f in found]) for i in range(3))
    cost, val = (np.concatenate([f[i] for f in found]) for i in (3, 4))
    gain = least[a] - cost  # ``least`` is final now
    keep = (gain > 0) & (val - least[a] < slack)
    return least, a[keep], m[keep], day[keep], gain[keep], rents


def _rents(model: TimeModel, jobs: list[tuple[Ints, Ints, Floats]], least: Floats) -> Floats:
    """What each machine's jobs on probation earn in the LP beyond its time's worth: each
    job's cap (a job per line) times what it is below its demand's price. A demand whose
    jobs below ``least`` could make all its units is priced (lowered in ``least``) at the
    job that makes its last one, where its part of the bound, ``U v`` less its jobs'
    rents, is highest (higher up, each cent more of ``v`` pays more rent than ``U``).
    Every job arc below the final price was below it when it was seen (prices only fall)."""
    rents = np.zeros(len(model.supplies))
    if not jobs:
        return rents
    a, m, val = (np.concatenate([j[i] for j in jobs]) for i in range(3))
    keep = val < least[a]
    a, m, val = a[keep], m[keep], val[keep]
    cap = model.job_units(a, m).astype(np.float64)
    order, before = cheapest_first(a, val, cap)
    a, m, val, cap = a[order], m[order], val[order], cap[order]
    full = before + cap >= model.d.quantity[a]  # the job that makes its last unit, on
    np.minimum.at(least, a[full], val[full])
    np.add.at(rents, m, np.maximum(least[a] - val, 0.0) * cap)
    return rents


def _useful(m: Ints, day: Ints, weight: Ints, gain: Floats, caps: Ints, room: Ints) -> Ints:
    """Items some best choice of their machine takes. Of items of one weight on one
    machine, in order of gain: where those before an item that are due no earlier could
    fill the machine's whole time, that item is never needed (a best choice that took a
    unit of it leaves room in one of those, which gains no less and is due no earlier).
    Items lighter than a step are all kept."""
    order = np.lexsort((-gain, weight, m))
    m, day, weight, caps = m[order], day[order], weight[order], caps[order]
    group = m * (int(weight.max(initial=0)) + 1) + weight
    first = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    start = np.repeat(first, np.diff(np.r_[first, order.size]))
    fits = room[m, -1] // np.maximum(weight, 1)
    keep = weight == 0
    for d in np.unique(day).tolist():
        take = np.where(day >= d, caps, 0)
        run = np.cumsum(take) - take
        before = run - run[start]  # units of the group's earlier items due by d or later
        keep |= (day == d) & (before < fits)
    out: Ints = np.sort(order[keep])
    return out


def machine_knapsack(room: Ints, weight: Ints, day: Ints, gain: Floats, caps: Ints) -> float:
    """The most a machine with ``room[k]`` steps of time by the end of day k earns making
    whole units of items (each made by its ``day``, ``weight`` steps and ``gain`` a unit,
    at most ``caps`` units), items in order of day."""
    return machine_choice(room, weight, day, gain, caps, choose=False)[0]


def machine_choice(
    room: Ints, weight: Ints, day: Ints, gain: Floats, caps: Ints, *, choose: bool = True
) -> tuple[float, Ints]:
    """``machine_knapsack``'s most and, with ``choose``, units of each item that earn it
    (else zeros)."""
    units = np.zeros(day.size, dtype=np.int64)
    last = int(room[int(day.max())]) if day.size else 0
    if last <= 0:
        return 0.0, units
    best = np.zeros(last + 1)  # best[c]: the most with at most c steps used
    free = 0.0  # items lighter than a step: every unit fits
    trail: list[tuple[int, int, int, np.ndarray | None]] = []  # to trace the choice back
    for i in range(day.size):
        w, g, n = int(weight[i]), float(gain[i]), int(caps[i])
        if w == 0:
            free, units[i] = free + n * g, n
        n = min(n, last // w) if w else 0
        k = 1
        while n > 0:  # binary pieces: 1, 2, 4, ... units, then the rest
            take = min(k, n)
            shift = take * w
            with_it = best[:-shift] + take * g
            better = with_it > best[shift:]
            best[shift:][better] = with_it[better]
            if choose:
                trail.append((i, take, shift, better))
            n -= take
            k *= 2
        if i + 1 == day.size or day[i + 1] != day[i]:
            cap = int(room[int(day[i])])  # what is made by this day fits its time
            if cap < last:
                best[cap + 1 :] = best[max(cap, 0)]
                trail.append((-1, cap, 0, None))
    c = last
    for i, take, shift, better in reversed(trail if choose else []):
        if better is None:
            c = min(c, take)  # a day's end: what came before fits its time
        elif c >= shift and better[c - shift]:
            units[i] += take
            c -= shift
    return float(best[-1] + free), units

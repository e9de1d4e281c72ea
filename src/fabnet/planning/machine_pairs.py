"""Neighbourhoods of two machines for the fixed-charge plan.

A line split over two machines pays two parcels; the merge step closes the smaller pair
only when the other machine has the time. Where both machines are full, the time can
still be found by trading: another line split over the same two machines gives up its
units on the first and takes the freed time on the second. Every unit the plan makes on
two machines that share split lines is planned again on those two by HiGHS's MIP, a 0/1
column paying one parcel per (line, machine) pair, whole units, each machine's time by
each day in the network's ticks; the result is kept only where it costs less. Pairs of
machines whose shared lines have the fewest units on one of the two go first, within a
time budget.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import Counter, defaultdict
from collections.abc import Hashable

import numpy as np

from fabnet.planning.arcs import Arcs, Floats, Stop
from fabnet.planning.mip_pool import Job, Runner
from fabnet.planning.network import Ints
from fabnet.planning.time_model import TimeModel

log = logging.getLogger(__name__)

# (line, day) -> units, for one machine
Work = dict[tuple[int, int], int]
# a line on more machines than this is a surge (thousands of units whose parcels pay for
# themselves): its units stay where they are and take their time out of the MIP's
SURGE = 8
MIP_GAP = 1e-6
# a pool of worker processes takes about a second to start: below this many machine pairs
# the MIPs run one after another
POOL_MIN_PAIRS = 100


def machine_pairs(
    model: TimeModel,
    work: dict[int, Work],
    fixed: float,
    stop: Stop,
    budget_s: float,
    mip_s: float = 0.5,
    surge: int = SURGE,
    enough: float = math.inf,
    workers: int = 1,
) -> int:
    """Re-plan ``work`` (machine -> its units by line and day, changed in place) two
    machines at a time, until the budget is spent or the plan is ``enough`` cheaper; the
    number of neighbourhoods that gained. With ``workers`` > 1 (and enough pairs to pay
    for starting them) that many MIPs run at once, each in its own process, on two
    machines no other running MIP has."""
    spread = _machines_of(work)
    held = {a for a, machines in spread.items() if len(machines) > surge}
    order = _sharing(spread, surge)
    trades = _Trades(work, fixed, mip_s, stop, budget_s, enough)
    with Runner[tuple[int, int]]((model, held), workers, "fixed-charge trades") as runner:
        if len(order) >= POOL_MIN_PAIRS:
            runner.start()
        runner.run(order, trades)
    return trades.gained


class _Trades:
    """Machine pairs as neighbourhoods (``mip_pool``): each holds its two machines."""

    def __init__(
        self,
        work: dict[int, Work],
        fixed: float,
        mip_s: float,
        stop: Stop,
        budget_s: float,
        enough: float,
    ) -> None:
        self.work, self.fixed, self.mip_s = work, fixed, mip_s
        self.stop, self.enough = stop, enough
        self.deadline = time.perf_counter() + budget_s
        self.gained = 0  # trades that gained
        self.saved = 0.0  # what they saved

    def over(self) -> bool:
        return self.stop() or time.perf_counter() > self.deadline or self.saved >= self.enough

    def holds(self, pair: tuple[int, int]) -> frozenset[Hashable] | None:
        m1, m2 = pair
        if not {a for a, _ in self.work[m1]} & {a for a, _ in self.work[m2]}:
            return None  # an earlier trade left them no line in common
        return frozenset(pair)

    def job(self, pair: tuple[int, int]) -> Job:
        m1, m2 = pair
        return Job(_trade, (m1, m2, self.work[m1], self.work[m2], self.fixed, self.mip_s))

    def apply(self, pair: tuple[int, int], found: tuple[dict[int, Work], float] | None) -> None:
        if found is not None:
            new, gain = found
            for m in pair:
                self.work[m] = new[m]
            self.gained += 1
            self.saved += gain


def _trade(
    shared: tuple[TimeModel, set[int]],
    m1: int,
    m2: int,
    w1: Work,
    w2: Work,
    fixed: float,
    mip_s: float,
) -> tuple[dict[int, Work], float] | None:
    model, held = shared
    return _replan(model, {m1: w1, m2: w2}, fixed, mip_s, held)


def _machines_of(work: dict[int, Work]) -> dict[int, Counter[int]]:
    """Each line's units by machine."""
    on: dict[int, Counter[int]] = defaultdict(Counter)
    for m, rows in work.items():
        for (a, _day), n in rows.items():
            on[a][m] += n
    return on


def _sharing(spread: dict[int, Counter[int]], surge: int) -> list[tuple[int, int]]:
    """Pairs of machines that share lines split between them, those whose shared lines
    have the fewest units on one of the two first (a parcel for one unit is the one most
    worth saving): each shared line counts 1 / its units on the machine with fewer."""
    shared: dict[tuple[int, int], float] = defaultdict(float)
    for machines in spread.values():
        if 1 < len(machines) <= surge:
            for m1, m2 in itertools.combinations(sorted(machines), 2):
                shared[(m1, m2)] += 1.0 / min(machines[m1], machines[m2])
    return sorted(shared, key=lambda pair: -shared[pair])


def _cost(model: TimeModel, work: dict[int, Work], fixed: float) -> float:
    rows = [(a, m, day, n) for m, w in work.items() for (a, day), n in w.items() if n > 0]
    if not rows:
        return 0.0
    t = np.array(rows, dtype=np.int64)
    unit = model.unit_cost(Arcs(t[:, 0], t[:, 1], t[:, 2]))
    return float((unit * t[:, 3]).sum()) + fixed * len({(a, m) for a, m, _, _ in rows})


def _replan(
    model: TimeModel, work: dict[int, Work], fixed: float, mip_s: float, held: set[int]
) -> tuple[dict[int, Work], float] | None:
    """The units on these machines planned again on them (those of ``held`` lines where
    they are) and what that saves, or None where nothing is cheaper (or HiGHS found no
    plan in time)."""
    d = model.d
    machines = np.array(sorted(work), dtype=np.int64)
    need: Counter[int] = Counter()
    kept = np.zeros((machines.size, model.horizon + 1), dtype=np.int64)  # held, by day
    for i, m in enumerate(machines.tolist()):
        for (a, day), n in work[m].items():
            if a in held:
                kept[i, day] += n * int(d.ticks[a])
            else:
                need[a] += n
    if not need:
        return None
    lines = np.array(sorted(need), dtype=np.int64)
    pa, pm = np.repeat(lines, machines.size), np.tile(machines, lines.size)
    capable = {int(g): set(model.group_machines[g].tolist()) for g in np.unique(d.group[lines])}
    able = np.array([m in capable[d.group[a]] for a, m in zip(pa, pm, strict=True)], dtype=bool)
    pa, pm = pa[able], pm[able]
    arcs, cost = model.pair_arcs(pa, pm)
    if not len(arcs):
        return None
    units = np.array([need[a] for a in lines.tolist()], dtype=np.float64)
    time_left = model.cum_ticks[machines, 1:] - np.cumsum(kept, axis=1)[:, 1:]
    x = _mip(model, arcs, cost, (pa, pm), (lines, units), (machines, time_left), fixed, mip_s)
    if x is None:
        return None
    made = np.rint(x[: len(arcs)]).astype(np.int64)
    out: dict[int, Work] = {
        m: {key: n for key, n in work[m].items() if key[0] in held} for m in work
    }
    for j in np.flatnonzero(made > 0).tolist():
        key = (int(arcs.a[j]), int(arcs.d[j]))
        out[int(arcs.m[j])][key] = out[int(arcs.m[j])].get(key, 0) + int(made[j])
    left = np.rint(x[len(arcs) + pa.size :])
    before = _cost(model, work, fixed)
    after = _cost(model, out, fixed) + float((left * d.unmet[lines]).sum())
    return (out, before - after) if after < before - 1e-6 else None


def _mip(
    model: TimeModel,
    arcs: Arcs,
    cost: Floats,
    pairs: tuple[Ints, Ints],
    lines: tuple[Ints, Floats],
    machines: tuple[Ints, Ints],
    fixed: float,
    mip_s: float,
) -> Floats | None:
    """HiGHS's values of the columns x (units per arc), y (a parcel per pair), s (units
    left unmade per line), or None where it found no plan in time. ``lines``: the lines
    and their units; ``machines``: the machines and their time left by each day."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    from fabnet.planning.quiet import stdout_to_stderr

    d, h = model.d, model.horizon
    (pa, pm), (line_ids, units), (ms, time_left) = pairs, lines, machines
    n_x, n_p, n_l = len(arcs), pa.size, line_ids.size
    wide = int(ms.max()) + 1
    pair_of = np.searchsorted(pa * wide + pm, arcs.a * wide + arcs.m)
    line_of = np.searchsorted(line_ids, arcs.a)
    room = units[np.searchsorted(line_ids, pa)]
    room = np.where(model.job_cap[pm] > 0, np.minimum(room, model.job_cap[pm]), room)
    c = np.concatenate([cost, np.full(n_p, fixed), d.unmet[line_ids]])
    x, y, s = np.arange(n_x), n_x + np.arange(n_p), n_x + n_p + np.arange(n_l)
    eq = coo_matrix(
        (np.ones(n_x + n_l), (np.concatenate([line_of, np.arange(n_l)]), np.concatenate([x, s]))),
        shape=(n_l, c.size),
    )
    link = coo_matrix(
        (
            np.concatenate([np.ones(n_x), -room]),
            (np.concatenate([pair_of, np.arange(n_p)]), np.concatenate([x, y])),
        ),
        shape=(n_p, c.size),
    )
    # cumulative time: arc j counts in its machine's rows for days d_j..horizon
    span = h - arcs.d + 1
    rep = np.repeat(x, span)
    days = arcs.d[rep] + (np.arange(rep.size) - np.repeat(np.cumsum(span) - span, span))
    row = np.searchsorted(ms, arcs.m[rep]) * h + (days - 1)
    time_rows = coo_matrix(
        (d.ticks[arcs.a][rep].astype(np.float64), (row, rep)), shape=(ms.size * h, c.size)
    )
    with stdout_to_stderr():
        result = milp(
            c,
            constraints=[
                LinearConstraint(eq.tocsr(), units, units),
                LinearConstraint(link.tocsr(), -np.inf, 0.0),
                LinearConstraint(time_rows.tocsr(), -np.inf, time_left.ravel()),
            ],
            integrality=np.ones(c.size),
            bounds=Bounds(0, np.concatenate([room[pair_of], np.ones(n_p), units])),
            options={"time_limit": mip_s, "mip_rel_gap": MIP_GAP},
        )
    return None if result.x is None else np.asarray(result.x, dtype=np.float64)


def work_of(a_of: Ints, m_of: Ints, day_of: Ints, units: Ints) -> dict[int, Work]:
    """A plan's units by machine, line and day."""
    out: dict[int, Work] = defaultdict(dict)
    for a, m, day, n in zip(
        a_of.tolist(), m_of.tolist(), day_of.tolist(), units.tolist(), strict=True
    ):
        if n > 0:
            out[m][(a, day)] = out[m].get((a, day), 0) + n
    return dict(out)


def arrays_of(work: dict[int, Work]) -> tuple[Arcs, Ints]:
    """``work`` as arcs and their units."""
    rows = [(a, m, day, n) for m, w in work.items() for (a, day), n in w.items() if n > 0]
    t = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return Arcs(t[:, 0], t[:, 1], t[:, 2]), t[:, 3]

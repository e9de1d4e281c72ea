"""Step 4 of flow.py: prices of machine time from a restricted network's optimum, the
Lagrangian lower bound over every capable machine, and the arcs that price out."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator

import numpy as np

from fabnet.planning.arcs import EMPTY, Arcs, Bools, Floats, sorted_find
from fabnet.planning.candidates import SphereIndex
from fabnet.planning.network import Ints, Network
from fabnet.planning.reach import cheapest_first, demands_least, jobs_bound
from fabnet.planning.residual import potentials
from fabnet.planning.time_model import TimeModel

log = logging.getLogger(__name__)
# whole-unit bound: arcs kept from pricing's chunks before those that take no units go
FILL_KEEP = 2_000_000
# the bound is also taken at the prices times each of these (the best is kept): a
# restricted network of the first rounds prices machine time far above what it is worth
# (medium, round 1, every pair costed: -52M at the prices, 166M at half of them; round 2:
# 215M, 238M at 0.8; large, round 3: under 772M, 1,310.5M at 0.25)
SCALES = (0.0, 0.1, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95)


def day_prices(model: TimeModel, net: Network, flows: Ints) -> Floats:
    """Money per reference second of each machine's time by each day (>= 0, and never
    rising from one day to the next, as the bound requires)."""
    dist = potentials(net.n_nodes, net.tails, net.heads, net.caps, net.costs, flows)
    lay = model.layout
    sink = net.n_nodes - 1
    # a unit of each demand is worth this under the same prices (at most its unmet
    # cost); with whole-unit arcs a demand's cheapest arcs may be full below it
    worth = (dist[sink] - dist[: lay.n_demands]) * model.d.ticks / model.scale
    model.worth = np.minimum(np.maximum(worth, 0.0), model.d.unmet)
    node_price = np.maximum(0.0, dist[sink] - dist[lay.n_demands : sink]) / model.scale
    # each node's price is that of every day it holds; the days no node holds (after a
    # machine's last, and every day of a machine no arc reaches) have time no arc can
    # use: price 0, as the sink's own arc of such a day would give
    prices = np.zeros((lay.n_machines, lay.horizon))
    span = net.node_day - net.node_after
    days = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
    prices[np.repeat(net.node_machine, span), np.repeat(net.node_after, span) + days] = np.repeat(
        node_price, span
    )
    out: Floats = np.maximum.accumulate(prices[:, ::-1], axis=1)[:, ::-1]
    # a machine with no time at all by day d (busy, or full of a re-plan's kept work)
    # has nothing to price by then: any price is valid there, and an infinite one keeps
    # the arcs due by then out of pricing (they could carry nothing) and off the bound's
    # minimum. Time by day never falls, so these days come first: still non-increasing
    out[model.cum_s[:, 1:] <= 0.0] = np.inf
    return out


def time_value(model: TimeModel, prices: Floats) -> float:
    """sum over (machine, day) of the day's time times its price (the bound's second
    term); days priced infinite have no time."""
    finite = np.isfinite(prices)
    return float((model.day_s[finite] * prices[finite]).sum())


def values(model: TimeModel, arcs: Arcs, unit_cost: Floats, prices: Floats) -> Floats:
    """An arc's cost per unit with the machine time it takes priced in."""
    out: Floats = unit_cost + model.d.unit_s[arcs.a] * prices[arcs.m, arcs.d - 1]
    return out


def price_out(
    model: TimeModel,
    arcs: Arcs,
    unit_cost: Floats,
    prices: Floats,
    *,
    exact: bool = False,
    by_worth: bool = False,
    shares: bool = True,
) -> tuple[Arcs, float]:
    """Arcs that price out (the most negative few per demand) and the lower bound.

    A demand priced near its unmet cost (at half of it or more: some of its units are
    left unmade) may be below that on every capable machine (its ball is the whole
    group); when such demands would make more than ``options.pricing_pairs`` pairs
    and not ``exact``, they are offered their nearest machines with time to spare
    instead, and the round gives no bound (nan). With ``shares``, the bound is the best
    at the prices and at each share of them in ``SCALES``."""
    d = model.d
    best = d.unmet.copy()  # v_a: the demand's price under the restricted network
    # machines on probation: their arcs are capped jobs, so the price is that of the
    # other arcs, and the jobs below it fill cheapest first for the bound (reach.py)
    jobs = model.any_cap and not by_worth and not model.options.whole_unit_arcs
    on_job: tuple[Ints, Floats, Ints] | None = None
    if by_worth:  # with whole-unit arcs: its cheapest arcs may be full below it
        best = model.worth.copy()
    elif len(arcs):
        val = values(model, arcs, unit_cost, prices)
        if jobs:
            on = model.job_cap[arcs.m] > 0
            np.minimum.at(best, arcs.a[~on], val[~on])
            on &= val < best[arcs.a]
            on_job = (arcs.a[on], val[on], model.job_units(arcs.a[on], arcs.m[on]))
        else:
            np.minimum.at(best, arcs.a, val)
    starved = best >= 0.5 * d.unmet  # its last unit is worth about what leaving it is
    sizes = np.array([g.size for g in model.group_machines] or [0], dtype=np.int64)
    skip = None
    if not exact and float(sizes[d.group[starved]].sum()) > model.options.pricing_pairs:
        skip = starved
    candidates = ball_pairs(model, best, skip=skip)
    # a round that gives no bound (skip) works none out at shares of its prices either
    scaled = None
    if shares and SCALES and not by_worth and skip is None:
        scaled = _Scaled(model, prices, arcs, unit_cost)
    if skip is not None:
        candidates = itertools.chain(candidates, [_spare_time(model, skip, prices)])
    search = _Search(model, prices, best, np.sort(model.key(arcs)), scaled)
    if jobs:
        search.jobs = [on_job] if on_job is not None else []
    for pa, pm in candidates:
        search.chunk(pa, pm)
    log.debug(
        "pricing: %d pairs in the balls, %d below their price before distance",
        search.searched,
        search.kept,
    )
    model.ball_pairs = search.searched
    # (the starved demands' minimum was not searched in full where they were skipped)
    return search.new_arcs(), search.bound() if skip is None else math.nan


class _Search:
    """One pricing search over chunks of candidate pairs (a demand's pairs all in one
    chunk): each demand's least value over every arc seen, and (with whole-unit arcs)
    the arcs under its price with their caps, for the bound; the most negative few new
    arcs of each demand; the bound at shares of the prices (``scaled``)."""

    def __init__(
        self,
        model: TimeModel,
        prices: Floats,
        best: Floats,
        have: Ints,
        scaled: _Scaled | None,
    ) -> None:
        """``best``: each demand's price (its least over the network's arcs, ``have``:
        their sorted keys)."""
        self.model, self.prices, self.best = model, prices, best
        self.have, self.scaled = have, scaled
        self.capped = model.options.whole_unit_arcs
        self.least = best.copy()  # min over every capable (m, d) (and unmet)
        self.below: list[tuple[Ints, Floats, Ints]] = []  # capped: arcs under v_a, caps
        self.found: list[tuple[Arcs, Floats]] = []
        # machines on probation (price_out): the job arcs under each demand's price, with
        # their caps; ``least`` is then over the other arcs only
        self.jobs: list[tuple[Ints, Floats, Ints]] | None = None
        self.searched = self.kept = 0
        # the least a unit of a demand can cost on a machine, distance and lateness
        # aside, its time priced at the demand's last usable day (prices never rise with
        # the day; transit only brings that day earlier)
        self.last = np.maximum(model.d.hi, 1) - 1

    def chunk(self, pa: Ints, pm: Ints) -> None:
        """The pairs (``pa``, ``pm``): pruned where no day of theirs can be below the
        demand's price, their arcs' values taken in."""
        model, prices, best, scaled = self.model, self.prices, self.best, self.scaled
        d = model.d
        unpriced = (
            model.price[pm]
            + model.risk[pm]
            + model.per_ref_s[pm] * d.unit_s[pa]
            + model.material_per_g[pm] * d.mass_g[pa]
        )
        timed = prices[pm, self.last[pa]] * d.unit_s[pa]
        limit = None
        if model.extra is None:  # (an extra charge may be negative: no pruning then)
            room = unpriced + timed < best[pa] - 1e-9 * (1.0 + np.abs(best[pa]))
            self.searched, self.kept = self.searched + pa.size, self.kept + int(room.sum())
            if scaled is not None:  # below every arc of the pair at each share
                scaled.add(pa[~room], unpriced[~room], timed[~room])
            pa, pm, timed = pa[room], pm[room], timed[room]
            # ... and with distance: the pairs whose days could be below the price (a
            # third of those left at large, round 1, are not)
            limit = best[pa] - timed
        cand, cost, near, base = model.pair_arcs_below(pa, pm, limit)
        if scaled is not None and not near.all():
            scaled.add(pa[~near], base[~near], timed[~near])
        val = values(model, cand, cost, prices)
        if self.jobs is None:
            np.minimum.at(self.least, cand.a, val)
        else:
            on = model.job_cap[cand.m] > 0
            np.minimum.at(self.least, cand.a[~on], val[~on])
            on &= val < best[cand.a]
            # the network's own job arcs came in with it (price_out): counted twice, their
            # caps let twice the units through (tiny, half on jobs of 5: 3.8M for 61.9M)
            on[on] = ~sorted_find(self.have, model.key(cand.take(on)))[1]
            self.jobs.append((cand.a[on], val[on], model.job_units(cand.a[on], cand.m[on])))
            if sum(j[0].size for j in self.jobs) > FILL_KEEP:  # memory stays flat
                self.jobs = [_fill(model, self.jobs)]
        if scaled is not None:
            scaled.add_arcs(cand, cost)
        if self.capped:
            under = val < best[cand.a]
            under_arcs = cand.take(under)
            self.below.append(
                (under_arcs.a, val[under], model.arc_whole_units(under_arcs, job_per_line=True))
            )
            if sum(b[0].size for b in self.below) > FILL_KEEP:  # memory stays flat
                self.below = [_fill(model, self.below)]
        neg = val < best[cand.a] - 1e-9 * (1.0 + np.abs(best[cand.a]))
        if neg.any():  # each chunk keeps only what could make each demand's few
            part, rc = cand.take(neg), (val - best[cand.a])[neg]
            # an arc of the network is never below ``best`` (its least), except below a
            # unit's worth (``by_worth``): looked up among these few only
            unseen = ~sorted_find(self.have, model.key(part))[1]
            part, rc = part.take(unseen), rc[unseen]
            keep = _most_negative(model, part.a, part.m, rc)
            self.found.append((part.take(keep), rc[keep]))

    def bound(self) -> float:
        """The Lagrangian bound at the prices (and the best at their shares)."""
        model = self.model
        if self.capped:
            bound = _capped_demand_bound(model, self.below, self.best)
        elif self.jobs is not None:
            bound = jobs_bound(model, self.jobs, self.least)
        else:
            bound = demands_least(model, self.least)
        bound -= time_value(model, self.prices)
        if self.scaled is not None:
            bound = max(bound, self.scaled.bound())
        return bound

    def new_arcs(self) -> Arcs:
        """The arcs that price out: each pair once, the most negative few per demand."""
        if not self.found:
            return Arcs.empty()
        new = Arcs(
            np.concatenate([part.a for part, _ in self.found]),
            np.concatenate([part.m for part, _ in self.found]),
            np.concatenate([part.d for part, _ in self.found]),
        )
        rc = np.concatenate([r for _, r in self.found])
        keep = _most_negative(self.model, new.a, new.m, rc)
        return self.model.dedupe(new.take(keep))


class _Scaled:
    """The bound at the prices times each of ``SCALES``: each demand's least value over
    the arcs seen. Every such price is valid (>= 0, not rising with the day), and the
    distance balls of the prices themselves hold every arc that could be a demand's
    least at a lower price too: an arc outside costs more than the demand's price in
    the restricted network, which is at least its value there at a lower price. A pair
    pruned at the prices themselves counts at its floor (below each of its arcs at any
    share: its machine time priced at its last usable day, distance and lateness left
    out), so the shares cost pricing no more pairs."""

    def __init__(self, model: TimeModel, prices: Floats, arcs: Arcs, unit_cost: Floats) -> None:
        self.model, self.prices = model, prices
        self.least = np.repeat(model.d.unmet[:, None], len(SCALES), axis=1)
        if len(arcs):
            self.add_arcs(arcs, unit_cost)

    def add_arcs(self, arcs: Arcs, unit_cost: Floats) -> None:
        """Arcs with their unit costs."""
        self.add(arcs.a, unit_cost, self.model.d.unit_s[arcs.a] * self.prices[arcs.m, arcs.d - 1])

    def add(self, a: Ints, base: Floats, timed: Floats) -> None:
        """Values ``base + share * timed`` for demands ``a`` (within a chunk of pricing
        they come by demand)."""
        if a.size == 0:
            return
        none = ~np.isfinite(timed)  # a day without time stays out at every share
        base = np.where(none, np.inf, base)
        timed = np.where(none, 0.0, timed)
        if a.size > 1 and bool((a[1:] < a[:-1]).any()):
            order = np.argsort(a, kind="stable")
            a, timed, base = a[order], timed[order], base[order]
        starts = np.r_[0, np.flatnonzero(a[1:] != a[:-1]) + 1]
        rows = a[starts]
        for k, scale in enumerate(SCALES):
            least = np.minimum.reduceat(base + scale * timed, starts)
            self.least[rows, k] = np.minimum(self.least[rows, k], least)

    def bound(self) -> float:
        """The best of the bounds at the scaled prices."""
        worth = np.array([demands_least(self.model, self.least[:, k]) for k in range(len(SCALES))])
        spent = np.asarray(SCALES) * time_value(self.model, self.prices)
        return float((worth - spent).max())


def _capped_demand_bound(
    model: TimeModel, below: list[tuple[Ints, Floats, Ints]], worth: Floats
) -> float:
    """sum over demands of the least its units can cost under the prices, each arc
    taking at most its whole units (``TimeModel.arc_whole_units``): the arcs under ``worth`` filled
    cheapest first, every unit beyond them at ``worth`` at least (every other arc, and
    leaving it unmade, is worth that or more: pricing searched all that might not be)."""
    d = model.d
    a, val, take = _fill(model, below)
    taken = np.bincount(a, weights=take, minlength=d.quantity.size)
    return float((take * val).sum() + ((d.quantity - taken) * worth).sum())


def _fill(model: TimeModel, below: list[tuple[Ints, Floats, Ints]]) -> tuple[Ints, Floats, Ints]:
    """(demand, value, units taken) of the arcs that take any, each demand's units
    placed on its cheapest arcs first, each arc at most its cap. An arc that takes none
    never will once more arcs are found: pricing keeps only these between chunks."""
    if not below:
        return EMPTY, np.empty(0), EMPTY
    a = np.concatenate([b[0] for b in below])
    val = np.concatenate([b[1] for b in below])
    cap = np.concatenate([b[2] for b in below])
    order, before = cheapest_first(a, val, cap)
    a, val, cap = a[order], val[order], cap[order]
    take = np.clip(model.d.quantity[a] - before, 0, cap)
    used = take > 0
    return a[used], val[used], take[used]


def _most_negative(model: TimeModel, a: Ints, m: Ints, rc: Floats) -> Ints:
    """Indexes of each demand's most negative reduced costs, one day per machine (so
    that a round reaches more machines): ``max_new_per_demand``, or more where
    demands are few (``new_arcs_per_round`` shared among them). Each pair comes once,
    its days side by side (as ``pair_arcs`` gives them)."""
    opts = model.options
    per = max(opts.max_new_per_demand, opts.new_arcs_per_round // max(1, model.d.quantity.size))
    if rc.size == 0:
        return EMPTY
    days = _best_days(a * max(1, len(model.supplies)) + m, rc)
    order = days[np.lexsort((rc[days], a[days]))]
    first = np.r_[0, np.flatnonzero(np.diff(a[order])) + 1]
    rank = np.arange(order.size) - np.repeat(first, np.diff(np.r_[first, order.size]))
    out: Ints = order[rank < per]
    return out


def _best_days(pair: Ints, rc: Floats) -> Ints:
    """Index of each pair's least ``rc`` (the first such, where days tie), each pair's
    days side by side: by segments, without sorting the arcs (large, round 1: sorting
    every arc below its price took 102 s of a 250 s search)."""
    starts = np.r_[0, np.flatnonzero(pair[1:] != pair[:-1]) + 1]
    least = np.minimum.reduceat(rc, starts)
    seg = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, rc.size]))
    at = np.flatnonzero(rc == least[seg])
    out: Ints = at[np.r_[True, seg[at][1:] != seg[at][:-1]]]
    return out


def _spare_time(model: TimeModel, rows: Bools, prices: Floats, k: int = 16) -> tuple[Ints, Ints]:
    """Each of ``rows``'s nearest ``k`` capable machines with time to spare (unpriced)
    by its last usable day."""
    d = model.d
    pairs_a: list[Ints] = []
    pairs_m: list[Ints] = []
    for g, machines in enumerate(model.group_machines):
        for day in np.unique(d.hi[rows & (d.group == g)]).tolist():
            these = np.flatnonzero(rows & (d.group == g) & (d.hi == day))
            free = machines[prices[machines, max(day, 1) - 1] <= 0.0]
            if free.size == 0 or these.size == 0:
                continue
            near = free[SphereIndex(model.m_xyz[free]).nearest(d.xyz[these], k)]
            pairs_a.append(np.repeat(these, near.shape[1]))
            pairs_m.append(near.ravel())
    if not pairs_a:
        return EMPTY, EMPTY
    return np.concatenate(pairs_a), np.concatenate(pairs_m)


def ball_pairs(
    model: TimeModel, best: Floats, budget: int = 500_000, skip: Bools | None = None
) -> Iterator[tuple[Ints, Ints]]:
    """Every (demand, machine) pair that might be worth less than the demand's price
    on some day, in chunks of about ``budget`` pairs (memory stays flat however wide the
    balls are). A machine farther than (price - least cost of a unit) / cost per km
    cannot be, whatever its time is worth. Demands in ``skip`` are left out."""
    d = model.d
    for g, index in enumerate(model.group_index):
        mask = (d.group == g) & (d.lo <= d.hi)
        rows = np.flatnonzero(mask if skip is None else mask & ~skip)
        machines = model.group_machines[g]
        if rows.size == 0 or machines.size == 0:
            continue
        fixed, per_s, per_g = model.group_floor[g]
        floor = fixed + per_s * d.unit_s[rows] + per_g * d.mass_g[rows]
        floor = floor + d.late_rate[rows] * (d.lo[rows] - d.on_day[rows])
        slack = best[rows] - floor
        rows, slack = rows[slack > 0], slack[slack > 0]
        per_km = d.per_km[rows]
        radius = np.where(per_km > 0, slack / np.maximum(per_km, 1e-300), np.inf)
        step = max(1, budget // max(1, machines.size))
        for lo in range(0, rows.size, step):
            chunk = rows[lo : lo + step]
            hits = index.within_many(d.xyz[chunk], radius[lo : lo + step])
            lengths = np.array([len(f) for f in hits], dtype=np.int64)
            if lengths.sum() == 0:
                continue
            flat = np.concatenate([np.asarray(f, np.int64) for f in hits])
            yield np.repeat(chunk, lengths), machines[flat]

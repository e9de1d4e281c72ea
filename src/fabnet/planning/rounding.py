"""Step 5 of flow.py: whole units from the LP's flow, class of print times after class,
each class planned again on the time the others leave, and HiGHS's MIP where the arcs
are few."""

from __future__ import annotations

import numpy as np

from fabnet.planning.arcs import EMPTY, Arcs, Bools, Floats, Solution
from fabnet.planning.network import FlowSolver, Ints, build
from fabnet.planning.time_model import COST_LIMIT, TimeModel

# print times within this ratio round as one class where there are many (size_classes)
BAND = 1.05
MOST_BANDS = 24
# near_the_flow: a unit rounded up costs its cost times 1 + this times what the flow's
# fraction lacks of the unit (medium, one LP: 5 and 20 gave the same plan)
ROUND_UP_PREMIUM = 10.0


def size_classes(model: TimeModel, most: int = 6) -> list[Bools]:
    """Demands by print time, longest first: one class per print time where there are
    at most ``most``; else bands of print times within ``BAND`` of each other (wider
    where more than ``MOST_BANDS`` bands would hold demands), each rounded by its
    network in units at its longest print time, so that little time is lost to the
    spread. (Medium with 4,236 print times: 6 classes by quantiles, the last only by
    its network, 4.6% above the bound; bands of 5%, 3.1%.)"""
    ticks = model.d.ticks
    distinct = np.unique(ticks)[::-1]
    if distinct.size <= most:
        return [ticks == t for t in distinct]
    ratio = BAND
    while True:
        label = np.floor(np.log(ticks) / np.log(ratio)).astype(np.int64)
        bands = np.unique(label)[::-1]
        if bands.size <= MOST_BANDS:
            return [label == b for b in bands]
        ratio = ratio**1.5


def whole_units(
    model: TimeModel,
    sol: Solution,
    unit_cost: Floats,
    solver: FlowSolver | None = None,
    *,
    longest_first: bool = False,
) -> tuple[Arcs, Ints, Ints]:
    """Whole units: arcs with their units, and the units left unmet per demand.

    With ``solver``, a class of print times at a time, the shortest parts first: the
    class's network in units near its flow (``near_the_flow``, each unit at the class's
    longest print time), its remainders placed where a whole unit still fits (its own
    arcs, then its nearest capable machines), and then the network solved again for the
    classes not yet fixed on the time that is left; the longest parts come last and take
    that time as they like (``one_time``). Without, each arc's units rounded down and the
    remainders placed so. The shortest parts first: their units are small, so rounding
    them near their flow takes little more time than the flow did, where the longest
    first rounded up by up to 4.6 hours a machine and left the short parts no room by
    their deadlines (the OKW sample's facilities, benchmarks/plan_okw.py, seeds 1 and 2,
    rounded and swept: 37.3% and 33.2% above the bound longest first, 19.3% and 4.6%
    shortest first; medium, one LP: 1.007% and 0.341%). ``longest_first``: the other way
    round, which packs whole long parts into the room a re-plan's kept work leaves
    (``flow._rounded`` tries it where the others leave units unmet that the LP made)."""
    d, arcs = model.d, sol.arcs
    flow = sol.arc_ticks
    classes = [np.ones(d.ticks.size, bool)]
    if solver is not None:
        classes = size_classes(model) if longest_first else size_classes(model)[::-1]
    used = np.zeros_like(model.day_caps)
    done = np.zeros(d.ticks.size, dtype=bool)
    out_arcs, out_units = Arcs.empty(), EMPTY
    left = np.zeros(d.ticks.size, dtype=np.int64)
    for c, members in enumerate(classes):
        on = members[arcs.a]
        sub, cost = arcs.take(on), unit_cost[on]
        last = c + 1 == len(classes)
        if solver is not None:
            # a network in units is integral: exact for one print time, within every
            # machine's time for a band of several (each unit at the longest). The last
            # class takes the rest as it likes; an earlier one keeps to the arcs the
            # flow gave it, each at most the flow's units there rounded up, so that it
            # takes little more than its share of the time the longer parts still need
            if last:
                units = one_time(model, sub, cost, used, members, solver)
            else:
                units = near_the_flow(model, sub, cost, flow[on], used, members, solver)
        else:
            units = flow[on] // d.ticks[sub.a]
        np.add.at(used, (sub.m, sub.d - 1), units * d.ticks[sub.a])
        placed = np.zeros(d.quantity.size, dtype=np.int64)
        np.add.at(placed, sub.a, units)
        # the remainders the flow made, rounded: what the flow left unmet stays unmet
        made = np.zeros(d.quantity.size)
        np.add.at(made, sub.a, flow[on] / d.ticks[sub.a])
        target = np.minimum(np.floor(made + 0.5).astype(np.int64), d.quantity)
        left_c = np.where(members, np.maximum(target - placed, 0), 0)
        slack = model.cum_ticks[:, 1:] - np.cumsum(used, axis=1)
        sub, units = repair(model, sub, cost, units, left_c, slack)
        left_c = np.where(
            members,
            d.quantity
            - np.bincount(sub.a, weights=units, minlength=d.quantity.size).astype(np.int64),
            0,
        )
        used = np.zeros_like(model.day_caps)
        out_arcs, out_units = out_arcs.plus(sub), np.concatenate([out_units, units])
        np.add.at(used, (out_arcs.m, out_arcs.d - 1), out_units * d.ticks[out_arcs.a])
        left = left + left_c
        done |= members
        if c + 1 < len(classes) and solver is not None:
            flow = _resolve(model, arcs, unit_cost, used, ~done, solver)
    if left.any():  # time still free: more whole units, the shortest parts first
        slack = model.cum_ticks[:, 1:] - np.cumsum(used, axis=1)
        cost = model.unit_cost(out_arcs)
        out_arcs, out_units = repair(model, out_arcs, cost, out_units, left, slack, short=True)
    return out_arcs, out_units, left


def sweep_classes(
    model: TimeModel, priced: Arcs, arcs: Arcs, units: Ints, solver: FlowSolver
) -> tuple[Arcs, Ints, float]:
    """Each class of one print time planned again, exactly, on the time the other
    classes' units leave (its network in units over its ``priced`` arcs and its arcs in
    the plan), kept where the whole plan is then cheaper; the longest parts first, as
    they were rounded. The class's own units are a flow of that network, so its
    optimum is never dearer: coordinate descent over the classes. Rounding fixes the
    longer parts first, and they take time the shorter ones wanted; given the rest, each
    class finds its best. (Medium, one saved LP: 1.71% -> 1.48% above the bound in 3.3 s;
    a second sweep gained 0.004 points more.) Returns the arcs, units and objective."""
    d = model.d
    best = model.objective_of(arcs, units)
    for members in size_classes(model):
        if np.unique(d.ticks[members]).size != 1:
            continue  # several print times: no network in units is exact for them
        mine = members[arcs.a]
        others = ~mine
        used = np.zeros_like(model.day_caps)
        np.add.at(
            used, (arcs.m[others], arcs.d[others] - 1), units[others] * d.ticks[arcs.a[others]]
        )
        pool = model.dedupe(priced.take(members[priced.a]).plus(arcs.take(mine)))
        cost = model.unit_cost(pool)
        keep = cost < d.unmet[pool.a]
        pool, cost = pool.take(keep), cost[keep]
        got = one_time(model, pool, cost, used, members, solver)
        new_arcs, new_units = model.summed(
            arcs.take(others).plus(pool), np.concatenate([units[others], got])
        )
        total = model.objective_of(new_arcs, new_units)
        if total < best - 1e-9 * max(1.0, abs(best)):
            arcs, units, best = new_arcs, new_units, total
    return arcs, units, best


def day_room(model: TimeModel, used: Ints, unit: int = 1) -> Ints:
    """What later work may still use of each machine's day, as day capacities: by day k,
    the least time left (``used`` per day taken from each machine's cumulative time) on
    any day from k on, counted in whole ``unit``s, less what the days before already
    allow."""
    slack = model.cum_ticks[:, 1:] - np.cumsum(used, axis=1)
    room = np.maximum(np.minimum.accumulate(slack[:, ::-1], axis=1)[:, ::-1], 0) // unit
    caps: Ints = np.diff(np.concatenate([np.zeros((room.shape[0], 1), np.int64), room], axis=1))
    return caps


def one_time(
    model: TimeModel,
    arcs: Arcs,
    unit_cost: Floats,
    used: Ints,
    members: Bools,
    solver: FlowSolver,
    limit: Ints | None = None,
) -> Ints:
    """Whole units of one print time on the time ``used`` leaves: a min-cost flow in
    units, whose capacities (whole units by each day) make it integral and exact;
    ``limit`` bounds each arc's units. With several print times each unit counts at
    the longest: never over a machine's time, not exact (the last class of a hub
    where every design has its own print time, the medium instance with 4,255 print
    times: 318 units unmet and a gap of 11.5% when it was rounded down, 20 and 4.8%
    so; size_classes has the benchmark's figures with every class so)."""
    caps = day_room(model, used, int(model.d.ticks[members].max()))
    nodes = float(model.layout.n_nodes + 1)
    scale = min(model.scale, COST_LIMIT / (nodes * float(model.d.unmet.max()) + 1.0))
    bounds = model.arc_caps(arcs, 1)
    if limit is not None:
        bounds = limit if bounds is None else np.minimum(bounds, limit)
    net = build(
        model.layout,
        supply=np.where(members, model.d.quantity, 0),
        arc_demand=arcs.a,
        arc_machine=arcs.m,
        arc_day=arcs.d,
        arc_cost=np.rint(unit_cost * scale).astype(np.int64),
        unmet_cost=np.rint(model.d.unmet * scale).astype(np.int64),
        day_caps=caps,
        arc_caps=bounds,
    )
    return net.arc_flows(net.solve(solver).flows)


def near_the_flow(
    model: TimeModel,
    arcs: Arcs,
    unit_cost: Floats,
    flow: Ints,
    used: Ints,
    members: Bools,
    solver: FlowSolver,
) -> Ints:
    """Whole units of a class that longer parts will follow, near its (fractional) flow
    in ticks: each arc takes the flow's units rounded down at its cost and one more (where
    the flow has a fraction there) at a premium, ``ROUND_UP_PREMIUM`` times its cost
    times what the fraction lacks of a unit, so that a line's units go up where its flow
    was nearly a unit more, not where its machines are cheapest (never as dear as leaving
    the unit unmade). Rounding up where the cost is least takes the near machines' time
    from the parts that follow, whose LP needed it. Its optimum is never dearer than the
    flow rounded down: that takes no premium. (Rounding longest first, medium, one LP, the
    whole plan: 0.88-0.90% above the bound with the round-ups where cheapest; premium
    0.1: 0.79%, 0.5: 0.66%, 2: 0.51%, 5 and 20: 0.47%.)"""
    d = model.d
    ticks = d.ticks[arcs.a]
    base, rest = flow // ticks, flow % ticks
    up = (rest > 0).astype(np.int64)
    short = 1.0 - rest / ticks  # what the fraction lacks of a unit
    dearer = unit_cost * (1.0 + ROUND_UP_PREMIUM * short)
    dearer = np.minimum(dearer, 0.5 * (unit_cost + d.unmet[arcs.a]))
    n = len(arcs)
    got = one_time(
        model,
        arcs.plus(arcs),
        np.concatenate([unit_cost, np.maximum(dearer, unit_cost)]),
        used,
        members,
        solver,
        np.concatenate([base, up]),
    )
    out: Ints = got[:n] + got[n:]
    return out


def _resolve(
    model: TimeModel, arcs: Arcs, unit_cost: Floats, used: Ints, open_: Bools, solver: FlowSolver
) -> Ints:
    """The network again, for the ``open_`` demands only, on the time ``used`` leaves
    (their arcs only: the fixed demands' would carry nothing); the flow on every arc."""
    keep = open_[arcs.a]
    arcs, unit_cost = arcs.take(keep), unit_cost[keep]
    caps = day_room(model, used)
    ticks = model.d.ticks
    net = build(
        model.layout,
        supply=np.where(open_, model.d.quantity, 0) * ticks,
        arc_demand=arcs.a,
        arc_machine=arcs.m,
        arc_day=arcs.d,
        arc_cost=np.rint(unit_cost * model.scale / ticks[arcs.a]).astype(np.int64),
        unmet_cost=np.rint(model.d.unmet * model.scale / ticks).astype(np.int64),
        day_caps=caps,
        arc_caps=model.arc_caps(arcs, ticks[arcs.a]),
    )
    out = np.zeros(keep.size, dtype=np.int64)
    out[keep] = net.arc_flows(net.solve(solver).flows)
    return out


def repair(
    model: TimeModel,
    arcs: Arcs,
    unit_cost: Floats,
    units: Ints,
    left: Ints,
    slack: Ints,
    *,
    short: bool = False,
) -> tuple[Arcs, Ints]:
    """Place the ``left`` units whole where time is left (``slack``, cumulative):
    the most urgent first, on the demand's own arcs, then on its nearest capable
    machines. ``left`` and ``slack`` are updated; returns the arcs with units."""
    d = model.d
    if not left.any():
        return arcs, units
    # units a machine on probation may still take of each demand, by pair
    n_m = max(1, model.layout.n_machines)
    cap_left: dict[int, int] = {}
    if model.any_cap:
        capped = model.job_cap[arcs.m] > 0
        pair = arcs.a[capped] * n_m + arcs.m[capped]
        room = model.job_room(arcs.a[capped], arcs.m[capped])
        for key, u, cap in zip(pair.tolist(), units[capped].tolist(), room.tolist(), strict=True):
            cap_left[key] = cap_left.get(key, cap) - u
    order = np.lexsort((unit_cost, arcs.a))
    starts = np.searchsorted(arcs.a[order], np.arange(d.quantity.size + 1))
    size = 1 if short else -1  # among equals: shortest first (more units an hour) or longest
    urgent = sorted(np.flatnonzero(left).tolist(), key=lambda i: (-d.unmet[i], size * d.ticks[i]))
    for a in urgent:
        picks = order[starts[a] : starts[a + 1]]
        _place(model, a, arcs.take(picks), unit_cost[picks], left, slack, units, picks, cap_left)
    extra: list[tuple[Arcs, Ints]] = []
    for a in [i for i in urgent if left[i] > 0]:
        machines, index = model.group_machines[d.group[a]], model.group_index[d.group[a]]
        k = 16
        while left[a] > 0 and index.size:
            k = min(k, index.size)
            near = machines[index.nearest(d.xyz[a : a + 1], k)[0]]
            # room for a unit by the demand's last usable day (earlier days may be
            # full: that is no reason to pass a machine by)
            near = near[slack[near, max(int(d.hi[a]), 1) - 1 :].min(axis=1) >= d.ticks[a]]
            cand = model.arcs_of_pairs(np.full(near.size, a), near, every_day=True)
            cost = model.unit_cost(cand)
            rank = np.argsort(cost, kind="stable")
            got = np.zeros(len(cand), dtype=np.int64)
            _place(model, a, cand.take(rank), cost[rank], left, slack, got, None, cap_left)
            if got.any():
                extra.append((cand.take(rank).take(got > 0), got[got > 0]))
            if k >= index.size:
                break
            k *= 4
    for more, got in extra:
        arcs = arcs.plus(more)
        units = np.concatenate([units, got])
    return model.summed(arcs, units)


def _place(
    model: TimeModel,
    a: int,
    arcs: Arcs,
    cost: Floats,
    left: Ints,
    slack: Ints,
    units: Ints,
    where: Ints | None,
    cap_left: dict[int, int],
) -> None:
    """Whole units of demand ``a`` on ``arcs`` (cheapest first) where time is left;
    ``units[where[j]]`` (or ``units[j]``) counts what arc j gets; ``cap_left``: the units
    a machine on probation may still take of each demand, by pair (updated)."""
    ticks = int(model.d.ticks[a])
    for j in range(len(arcs)):
        if left[a] == 0 or cost[j] >= model.d.unmet[a]:
            break
        m, day = int(arcs.m[j]), int(arcs.d[j])
        room = int(slack[m, day - 1 :].min()) // ticks
        take = min(room, int(left[a]))
        if model.job_cap[m] > 0:  # on probation: a bounded job per demand
            key = a * max(1, model.layout.n_machines) + m
            if key not in cap_left:
                cap_left[key] = int(model.job_room(np.array([a]), np.array([m]))[0])
            take = min(take, cap_left[key])
            if take > 0:
                cap_left[key] -= take
        if take > 0:
            slack[m, day - 1 :] -= take * ticks
            units[j if where is None else int(where[j])] += take
            left[a] -= take


def polish(model: TimeModel, arcs: Arcs, unit_cost: Floats) -> tuple[Ints, Ints] | None:
    """Whole units over ``arcs`` by HiGHS's MIP (same time rows, in the network's
    ticks): (units per arc, unmet per demand), or None when it found nothing."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    from fabnet.planning.quiet import stdout_to_stderr

    d, n, n_d = model.d, len(arcs), model.d.quantity.size
    if n == 0:
        return None
    c = np.concatenate([unit_cost, d.unmet])
    cols = np.arange(n + n_d)
    eq = coo_matrix(
        (np.ones(n + n_d), (np.concatenate([arcs.a, np.arange(n_d)]), cols)),
        shape=(n_d, n + n_d),
    )
    # cumulative rows: arc j counts in machine m's rows for days d_j..horizon
    h = model.horizon
    span = h - arcs.d + 1
    rep = np.repeat(np.arange(n), span)
    day = arcs.d[rep] + (np.arange(rep.size) - np.repeat(np.cumsum(span) - span, span))
    row = arcs.m[rep] * h + (day - 1)
    ub = coo_matrix(
        (d.ticks[arcs.a][rep].astype(np.float64), (row, rep)),
        shape=(model.layout.n_machines * h, n + n_d),
    )
    with stdout_to_stderr():
        result = milp(
            c,
            constraints=[
                LinearConstraint(eq.tocsr(), d.quantity, d.quantity),
                LinearConstraint(ub.tocsr(), -np.inf, model.cum_ticks[:, 1:].ravel()),
            ],
            integrality=np.ones(n + n_d),
            bounds=Bounds(0, np.concatenate([model.arc_units(arcs), d.quantity])),
            options={"time_limit": model.options.polish_time_s, "mip_rel_gap": 1e-7},
        )
    if result.x is None:
        return None
    x = np.rint(result.x).astype(np.int64)
    return x[:n], x[n:]

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
nearest machines instead (ADR 0019) had gained 0.03%. With 6 + 6 machines and 3 s a MIP,
in worker processes (ADR 0024), the medium benchmark went from 1.20% to 0.95%.

A neighbourhood may also be a set of lines: those due by one day, every unit of them on
every machine of their arcs (day_groups.py, ADR 0030). Before the dear lines, the days of
lines still short; after them, the days of the dear lines.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from fabnet.planning.arcs import Arcs, Floats, Stop
from fabnet.planning.day_groups import lines_by_day
from fabnet.planning.hood_mip import Sizes, solve_hood
from fabnet.planning.hood_state import PlanState, Ready
from fabnet.planning.mip_pool import Job, Runner
from fabnet.planning.network import Ints
from fabnet.planning.time_model import TimeModel

# the second phase: each line's neighbourhood has at most this many machines of each
# kind (where the LP made more of it, where the plan makes more), each MIP this long.
# Medium, one saved plan, 60 s in one process: 3 + 3 machines at 0.3 s saved 104K in 134
# MIPs, at 3 s 300K in 20; 6 + 6 at 3 s 1.19M in 16 (benchmarks/RESULTS.md)
ABOVE_LP_MACHINES = 6
ABOVE_LP_MIP_S = 3.0
# the lines due by one day, together (day_groups.py): each MIP this long
DAY_MIP_S = 5.0
# a pool of worker processes takes about a second to start: only when the MIPs, one
# after another, could take this long
POOL_MIN_S = 10.0


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
    workers: int = 1,
    by_day: bool = True,
) -> tuple[Arcs, Ints]:
    """Whole ``units`` on ``arcs`` (the model's cost, no extra charge), cheaper where a
    neighbourhood planned again finds a cheaper plan for it; at most ``budget_s`` seconds
    in all, and none once the plan costs at most ``enough``. First the lines that rounding
    left with more units unmet than the fractional plan (``lp_unmet`` per demand), each
    with its ``machines`` nearest machines (``time_per_s`` a MIP): where the LP itself
    leaves units unmade, time is short, not cut. Then, given the LP's ``lp`` (arcs,
    fractional units), for at most ``above_lp_s`` of what is left of the budget: the lines
    due by the days of those still short, together (``by_day``; day_groups.py); the
    lines whose units cost more than the LP's by more than their share of the gap
    ``enough`` allows, the dearest first, each with the machines where the plan and the
    LP differ most for it; then the lines due by the days of those (``by_day``). With
    ``workers`` > 1 (and MIPs enough to pay for starting them) that many MIPs run at once,
    each in its own process, on machines and lines no other holds."""
    if budget_s <= 0:
        return arcs, units
    state = PlanState(model, arcs, units)
    hoods = _Hoods(state, stop, time.perf_counter() + budget_s, enough)
    need = np.ceil(lp_unmet - 1e-6).astype(np.int64)  # units the LP leaves unmet, whole
    lost = state.left - need
    urgent = sorted(np.flatnonzero(lost > 0).tolist(), key=lambda i: (-model.d.unmet[i], -lost[i]))
    with Runner[_Hood](Sizes.of(model), workers, "neighbourhoods") as runner:
        if min(len(urgent) * time_per_s, budget_s) >= POOL_MIN_S:
            runner.start()
        runner.run((_Hood(a, time_per_s, machines, need=int(need[a])) for a in urgent), hoods)
        if lp is None or hoods.over():
            return state.arcs_units(arcs, units)
        hoods.deadline = min(hoods.deadline, time.perf_counter() + above_lp_s)
        hoods.use_pool(lp[0])
        _above_the_lp(state, hoods, runner, (lp, lp_unmet), by_day=by_day)
    return state.arcs_units(arcs, units)


def _above_the_lp(
    state: PlanState,
    hoods: _Hoods,
    runner: Runner[_Hood],
    lp: tuple[tuple[Arcs, Floats], Floats],
    *,
    by_day: bool,
) -> None:
    """The phases of ``improve`` that follow the LP (``lp``: its arcs and units, and its
    units unmet by demand): the days of lines still short; then the dear lines and their
    days (those not just done), again while a round gains and time is left."""
    model, d = state.model, state.model.d
    lp_arcs, lp_unmet = lp[0][0], lp[1]
    paid = _lp_paid(model, lp[0], lp_unmet)
    short = np.flatnonzero(state.left > np.ceil(lp_unmet - 1e-6))
    first = lines_by_day(model, state.line_costs() - paid, lp_arcs, short) if by_day else []
    serial_s = len(first) * DAY_MIP_S + len(_above_lp(state, paid, hoods.enough)) * ABOVE_LP_MIP_S
    if min(serial_s, hoods.deadline - time.perf_counter()) >= POOL_MIN_S:
        runner.start()
    runner.run((_Hood(int(ls[0]), DAY_MIP_S, 0, lines=ls) for ls in first), hoods)
    done = np.unique(d.lo[short])  # days planned just now
    while not hoods.over():
        before = state.objective()
        _dear_lines(hoods, runner, lp[0], _above_lp(state, paid, hoods.enough))
        if by_day and not hoods.over():
            dear = _above_lp(state, paid, hoods.enough)
            dear = dear[~np.isin(d.lo[dear], done)]
            then = lines_by_day(model, state.line_costs() - paid, lp_arcs, dear)
            runner.run((_Hood(int(ls[0]), DAY_MIP_S, 0, lines=ls) for ls in then), hoods)
        done = np.empty(0, dtype=np.int64)
        if state.objective() >= before - 1e-9 * max(1.0, abs(before)):
            return  # a round that gains nothing: the next would find the same


def _dear_lines(hoods: _Hoods, runner: Runner[_Hood], lp: tuple[Arcs, Floats], dear: Ints) -> None:
    """Each line of ``dear`` (the dearest first) with the machines where the plan and the
    LP (``lp``: arcs and units, the arcs those of ``hoods.use_pool``) differ most for it."""
    lp_arcs, lp_units = lp
    runner.run(
        (
            _Hood(a, ABOVE_LP_MIP_S, ABOVE_LP_MACHINES, lp=(lp_arcs.m[rows], lp_units[rows]))
            for a in dear
            for rows in (hoods.rows_of(int(a)),)
        ),
        hoods,
    )


def _lp_paid(model: TimeModel, lp: tuple[Arcs, Floats], lp_unmet: Floats) -> Floats:
    """What the LP (arcs and units, and units unmet by demand) paid for each line's units:
    worked out once, over every arc of the LP."""
    lp_arcs, lp_units = lp
    made = np.bincount(
        lp_arcs.a, weights=lp_units * model.unit_cost(lp_arcs), minlength=model.d.quantity.size
    ).astype(np.float64)
    out: Floats = made + np.maximum(lp_unmet, 0.0) * model.d.unmet
    return out


def _above_lp(state: PlanState, paid: Floats, enough: float) -> Ints:
    """Lines whose units cost more than the LP paid for them (``paid``), by more than their
    share of the gap that would still be certified, the dearest first."""
    excess = state.line_costs() - paid
    gap = state.objective() - enough if math.isfinite(enough) else 0.0
    share = max(0.0, gap) / max(1, excess.size)
    dear = np.flatnonzero(excess > max(share, 1e-9))
    out: Ints = dear[np.argsort(-excess[dear], kind="stable")]
    return out


@dataclass(frozen=True, eq=False)
class _Hood:
    """A line's neighbourhood: its nearest machines (``lp`` None: the line was left short
    of ``need`` units), or where the LP's units of it (machines, units) and the plan's
    differ most; or ``lines`` (sorted, ``a`` the first), every unit of them on every
    machine of their arcs in the LP or the plan."""

    a: int
    time_s: float
    machines: int
    need: int = 0
    lp: tuple[Ints, Floats] | None = None
    lines: Ints | None = None


class _Hoods:
    """The neighbourhoods of one plan for ``mip_pool``: each holds its machines and the
    lines on them (the line's units left unmet are placed by at most one)."""

    def __init__(self, state: PlanState, stop: Stop, deadline: float, enough: float) -> None:
        self.state, self.stop, self.deadline, self.enough = state, stop, deadline, enough
        self.pool = Arcs.empty()  # the LP's arcs, where lines' neighbourhoods find theirs
        self._pool_order = self._pool_starts = np.zeros(1, dtype=np.int64)
        self._ready: dict[_Hood, Ready] = {}

    def use_pool(self, arcs: Arcs) -> None:
        """The LP's ``arcs``, indexed by line: a neighbourhood waiting for a running one is
        looked at again each time a MIP ends (medium, every machine on probation: 2,198
        looks, 26 s of the 60 when each searched all the LP's arcs)."""
        self.pool = arcs
        self._pool_order = np.argsort(arcs.a, kind="stable")
        n = self.state.model.d.quantity.size
        self._pool_starts = np.searchsorted(arcs.a[self._pool_order], np.arange(n + 1))

    def rows_of(self, a: int) -> Ints:
        """The rows of the LP's arcs (``use_pool``) of line ``a``."""
        out: Ints = self._pool_order[self._pool_starts[a] : self._pool_starts[a + 1]]
        return out

    def pool_of(self, lines: Ints) -> Arcs:
        """The LP's arcs of ``lines``."""
        return self.pool.take(np.concatenate([self.rows_of(a) for a in lines.tolist()]))

    def over(self) -> bool:
        return (
            self.stop()
            or time.perf_counter() > self.deadline
            or self.state.objective() <= self.enough
        )

    def holds(self, hood: _Hood) -> frozenset[Hashable] | None:
        state, model = self.state, self.state.model
        a = hood.a
        if time.perf_counter() + hood.time_s > self.deadline:
            return None  # its MIP could not end by the deadline (medium, every machine on
            # probation: the neighbourhoods took 72 s of their 60 when started anyway)
        if hood.lines is not None:
            ready = state.ready_lines(hood.lines, self.pool_of(hood.lines))
            if not len(ready.cand):
                return None
            near = ready.near
        elif hood.lp is None:
            if state.left[a] <= hood.need:
                return None  # placed meanwhile, in another line's neighbourhood
            group = model.group_machines[model.d.group[a]]
            if group.size == 0:
                return None
            index = model.group_index[model.d.group[a]]
            near = np.unique(group[index.nearest(model.d.xyz[a : a + 1], hood.machines)[0]])
        else:
            near = state.differ(a, *hood.lp, hood.machines)
            if near.size == 0:
                return None
        if hood.lines is None:
            ready = state.ready(a, near)
        self._ready[hood] = ready
        return frozenset(
            [("m", m) for m in near.tolist()] + [("l", line) for line in ready.lines.tolist()]
        )

    def job(self, hood: _Hood) -> Job | None:
        ready = self._ready[hood]
        if not len(ready.cand):
            ready.cand, ready.cost = self.state.candidates(ready)
        if not len(ready.cand):
            return None
        return Job(
            solve_hood,
            (
                ready.cand,
                ready.cost,
                ready.lines,
                ready.target,
                ready.near,
                ready.room,
                hood.time_s,
            ),
        )

    def apply(self, hood: _Hood, found: tuple[Ints, Ints] | None) -> None:
        ready = self._ready.pop(hood)
        if found is not None:
            self.state.apply(hood.a, ready, found)

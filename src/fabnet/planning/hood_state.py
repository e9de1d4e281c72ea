"""A whole-unit plan as its neighbourhoods (neighbourhood.py) change it: its rows, each
machine's time left by each day, each line's units still unmet; and a neighbourhood made
ready for its MIP (``Ready``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from fabnet.planning.arcs import Arcs, Floats
from fabnet.planning.network import Ints
from fabnet.planning.time_model import TimeModel

log = logging.getLogger("fabnet.planning.neighbourhood")


def day_work(model: TimeModel, m: Ints, day: Ints, ticks: Ints) -> Ints:
    """Ticks of work due by each day on each machine, cumulative (machines x horizon)."""
    work = np.zeros((model.layout.n_machines, model.horizon), dtype=np.int64)
    np.add.at(work, (m, day - 1), ticks)
    out: Ints = np.cumsum(work, axis=1)
    return out


@dataclass
class Ready:
    """A neighbourhood ready for its MIP: its machines, the plan's rows it frees, its lines
    and the units each must make or leave unmet, what those cost now."""

    near: Ints
    rows: Ints
    lines: Ints
    target: Ints
    current: float
    room: Ints  # the neighbourhood's machines' time by day, their units taken out
    cand: Arcs = field(default_factory=Arcs.empty)  # the MIP's arcs
    cost: Floats = field(default_factory=lambda: np.empty(0))  # and their unit costs


class PlanState:
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

    def ready(self, a: int, near: Ints) -> Ready:
        """Every unit planned on the machines ``near``, the lines they belong to (and
        ``a``), each line's units there and unmet, what they cost, the machines' time."""
        model, d = self.model, self.model.d
        rows = np.flatnonzero((self.units > 0) & np.isin(self.m, near))
        lines = np.union1d(np.unique(self.a[rows]), [a])
        target = np.bincount(self.a[rows], weights=self.units[rows], minlength=d.quantity.size)
        target = target[lines].astype(np.int64) + self.left[lines]
        old_cost = model.unit_cost(Arcs(self.a[rows], self.m[rows], self.day[rows]))
        current = float(
            (self.units[rows] * old_cost).sum() + (self.left[lines] * d.unmet[lines]).sum()
        )
        freed = day_work(
            model, self.m[rows], self.day[rows], self.units[rows] * d.ticks[self.a[rows]]
        )
        room = (self.slack + freed)[near]
        return Ready(near, rows, lines, target, current, room)

    def ready_lines(self, lines: Ints, theirs: Arcs) -> Ready:
        """Every unit of ``lines`` (sorted), with their arcs ``theirs`` and in the plan
        (those cheaper than leaving a unit unmet) and the machines of those arcs."""
        model, d = self.model, self.model.d
        rows = np.flatnonzero((self.units > 0) & np.isin(self.a, lines))
        here = Arcs(self.a[rows], self.m[rows], self.day[rows])
        cand = model.dedupe(theirs.plus(here))
        cost = model.unit_cost(cand)
        keep = cost < d.unmet[cand.a]
        cand, cost = cand.take(keep), cost[keep]
        near = np.union1d(cand.m, here.m)
        made = np.bincount(here.a, weights=self.units[rows], minlength=d.quantity.size)
        target = made[lines].astype(np.int64) + self.left[lines]
        current = float(
            (self.units[rows] * model.unit_cost(here)).sum()
            + (self.left[lines] * d.unmet[lines]).sum()
        )
        freed = day_work(model, here.m, here.d, self.units[rows] * d.ticks[here.a])
        room = (self.slack + freed)[near]
        return Ready(near, rows, lines, target, current, room, cand, cost)

    def candidates(self, ready: Ready) -> tuple[Arcs, Floats]:
        """Every capable (line, machine, day) of the neighbourhood and its unit cost."""
        model, d = self.model, self.model.d
        near, lines = ready.near, ready.lines
        groups = d.group[lines]
        can = {g: np.isin(near, model.group_machines[g]) for g in np.unique(groups).tolist()}
        capable = np.concatenate([can[g] for g in groups.tolist()])
        return model.pair_arcs(
            np.repeat(lines, near.size)[capable], np.tile(near, lines.size)[capable]
        )

    def apply(self, a: int, ready: Ready, found: tuple[Ints, Ints]) -> bool:
        """The neighbourhood's new plan ``found`` (units per candidate arc, unmet units
        per line) in place of its units, when cheaper. True when kept."""
        d = self.model.d
        x, unmet = found
        cand, lines, near = ready.cand, ready.lines, ready.near
        total = float((x * ready.cost).sum() + (unmet * d.unmet[lines]).sum())
        current = ready.current
        if total >= current - 1e-6 * max(1.0, abs(current)):
            return False
        got = x > 0
        used = day_work(self.model, cand.m[got], cand.d[got], x[got] * d.ticks[cand.a[got]])
        if (ready.room - used[near] < 0).any():
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
        self.slack[near] = ready.room - used[near]
        units = self.units.copy()
        units[ready.rows] = 0
        self.a = np.concatenate([self.a, cand.a[got]])
        self.m = np.concatenate([self.m, cand.m[got]])
        self.day = np.concatenate([self.day, cand.d[got]])
        self.units = np.concatenate([units, x[got]])
        self.left[lines] = unmet
        self._objective += total - current
        self.changed = True
        return True

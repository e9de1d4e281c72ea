"""All demand of a problem against all machines, in machine time (flow.py's model):
merged demand, machines' time by day, unit costs, transit and usable days, the network
of a set of arcs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from fabnet.domain.errors import InvalidInput
from fabnet.planning.arcs import EMPTY, Arcs, Bools, Extra, Floats, job_room
from fabnet.planning.candidates import SphereIndex, great_circle_km, unit_vectors
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.merged import merge
from fabnet.planning.network import Ints, Layout, Network, build
from fabnet.planning.plan import Assignment
from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem

UNREACHABLE = 1 << 30  # transit days of a pair beyond the farthest band
# int64 head room: OR-Tools scales costs by the node count (BAD_COST_RANGE beyond)
COST_LIMIT = float(1 << 60)
# integer steps per tick, at least, in the least a unit can cost where int64 allows: a
# relative rounding of an arc's cost of 1/6,000 at worst, well inside the gap tolerance
# (the large benchmark had 3,379 when this was set, medium 36,420, small 414,500)
COST_STEPS = 3_000.0


class TimeModel:
    """All demand of a problem against all machines, in machine time."""

    def __init__(
        self,
        problem: Problem,
        demands: Sequence[Demand],
        options: FlowOptions,
        booked_s: Floats | None = None,
        held: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        """``booked_s``: reference seconds already promised on each machine (rows in the
        problem's order) by each day (columns 1 to the horizon), e.g. the assignments a
        re-plan keeps: that time is taken by its own day, not from the start. ``held``:
        units of a line a machine on probation already has (line id, machine id), e.g. a
        re-plan's kept work: its job of that line has that much less room."""
        self.problem = problem
        self.options = options
        self.costs = problem.costs
        self.horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
        self.supplies = problem.supplies
        n_m = len(self.supplies)
        arr = self._machine_array
        self.m_xyz = unit_vectors(arr("lat"), arr("lon")) if n_m else np.empty((0, 3))
        speed = np.maximum(arr("speed_factor"), 1e-9)
        busy = arr("busy_s")
        per_day = arr("seconds_per_day") * speed * problem.load_factor
        days = np.arange(0, self.horizon + 1, dtype=np.float64)
        # reference seconds a machine has by the end of each day, from the start
        self.cum_s = np.maximum(0.0, np.outer(per_day, days) - (busy * speed)[:, None])
        if booked_s is not None:
            if booked_s.shape != (n_m, self.horizon):
                raise InvalidInput(
                    "booked_s",
                    f"must be {n_m} machines x {self.horizon} days, not {booked_s.shape}",
                )
            # what is left by day k is what is left by every later day at most: new work
            # done by day k is done by each day after it, beside what is booked by then
            left = self.cum_s[:, 1:] - np.cumsum(booked_s, axis=1)
            left = np.minimum.accumulate(left[:, ::-1], axis=1)[:, ::-1]
            self.cum_s[:, 1:] = np.maximum(left, 0.0)
        self.cum_ticks = np.floor(self.cum_s + 1e-6).astype(np.int64)
        self.day_caps = np.diff(self.cum_ticks, axis=1)  # (machines, horizon), ticks
        self.day_s = np.diff(self.cum_s, axis=1)  # the same, exact
        self.price = arr("price_per_unit")
        self.per_ref_s = arr("machine_per_s") / speed  # money per reference second
        self.material_per_g = arr("material_per_g")
        self.risk = (1.0 - arr("reliability")) * self.costs.risk_per_unit
        # units of a demand a machine on probation may take (0: no limit)
        self.job_cap = arr("job_units_max").astype(np.int64)
        # transit bands: a pair's days on the way, by its distance (UNREACHABLE beyond)
        bands = self.costs.transit
        self.band_km = np.array([km for km, _ in bands], dtype=np.float64)
        self.band_days = np.array([days for _, days in bands] + [UNREACHABLE], dtype=np.int64)
        self.any_cap = bool(self.job_cap.any())
        self._groups(demands)
        self.d = merge(
            demands, self.group_of, self.costs, self.horizon, aggregate=options.aggregate
        )
        self.worth = self.d.unmet.copy()  # a unit of each demand under the last prices
        self.ball_pairs = 0  # (demand, machine) pairs in the last pricing round's balls
        self.most_made: Floats | None = None  # reach.most_made, once worked out
        self.lines = np.array([len(g) for g in self.d.members], dtype=np.int64)  # by demand
        self.held_keys, self.held_units = self._held(held or {})
        self.layout = Layout(len(self.d.quantity), n_m, self.horizon)
        self.extra: Extra | None = None  # per-unit cost added to a pair (fixed charge)
        self.scale = self._scale()
        self.priority_of = {dem.line_id: dem.priority for dem in demands}

    def _held(self, held: Mapping[tuple[str, str], int]) -> tuple[Ints, Ints]:
        """Sorted (demand, machine) keys and the most units any line of the demand holds
        on the machine on probation: a merged demand's job (its lines share one) then
        leaves every line within its own."""
        most: dict[int, int] = {}
        if held:
            machine_of = {s.machine_id: i for i, s in enumerate(self.supplies)}
            demand_of = {dem.line_id: a for a, g in enumerate(self.d.members) for dem, _ in g}
            n_m = max(1, len(self.supplies))
            for (line_id, machine_id), units in held.items():
                a, m = demand_of.get(line_id), machine_of.get(machine_id)
                if a is not None and m is not None and units > 0 and self.job_cap[m] > 0:
                    key = a * n_m + m
                    most[key] = max(most.get(key, 0), units)
        keys = np.array(sorted(most), dtype=np.int64)
        return keys, np.array([most[int(k)] for k in keys], dtype=np.int64)

    def job_room(self, a: Ints, m: Ints) -> Ints:
        """The units demand ``a`` may still take on machine ``m`` on probation: its job,
        less what a line of it already holds there (``held``)."""
        return job_room(self.job_cap, (self.held_keys, self.held_units), a, m)

    def _machine_array(self, name: str) -> Floats:
        if name in ("lat", "lon"):
            values = [getattr(s.place, name) for s in self.supplies]
        else:
            values = [getattr(s, name) for s in self.supplies]
        return np.array(values, dtype=np.float64).reshape(len(self.supplies))

    # -- demand and capability groups ------------------------------------------------
    def _groups(self, demands: Sequence[Demand]) -> None:
        keys: dict[tuple[object, ...], int] = {}
        self.group_of: dict[str, int] = {}
        self.group_machines: list[Ints] = []
        self.group_index: list[SphereIndex] = []
        has_time = self.cum_ticks[:, -1] > 0 if len(self.supplies) else np.zeros(0, bool)
        for dem in demands:
            key = (dem.process, dem.material, dem.size, dem.excluded_machines)
            if key not in keys:
                keys[key] = len(keys)
                members = np.array(
                    [i for i, s in enumerate(self.supplies) if s.can_make(dem) and has_time[i]],
                    dtype=np.int64,
                )
                self.group_machines.append(members)
                self.group_index.append(SphereIndex(self.m_xyz[members]))
            self.group_of[dem.line_id] = keys[key]
        # per group, the least a machine adds to a unit's cost (for the pricing balls)
        self.group_floor = [
            (
                float((self.price[g] + self.risk[g]).min()) if g.size else 0.0,
                float(self.per_ref_s[g].min()) if g.size else 0.0,
                float(self.material_per_g[g].min()) if g.size else 0.0,
            )
            for g in self.group_machines
        ]

    def _scale(self) -> float:
        """Money -> integer cost per tick: the costs of all units (left unmet) within int64
        where that keeps ``COST_STEPS`` steps per tick in the least a unit can cost, finer
        where the total allows (at most 1e9); never so fine that the dearest cost per tick
        times the node count leaves int64 (OR-Tools' range). The total alone once set it:
        with ``unmet_per_unit`` 1e12 on the tiny benchmark problem every arc's cost fell
        under one step, the restricted LP stopped 4.7% above its bound and the plan was not
        certified (its flows are all the planner reads: OR-Tools' own total saturates)."""
        d = self.d
        if d.quantity.size == 0:
            return 1.0
        total = float((d.quantity * d.unmet).sum()) + 1.0
        per_tick = float((d.unmet / d.ticks).max()) + 1e-9
        nodes = float(self.layout.n_nodes + 1)
        # the least a unit of each demand that some machine can make costs, per tick
        fixed, per_s, per_g = (np.array(f) for f in zip(*self.group_floor, strict=True))
        served = np.array([g.size > 0 for g in self.group_machines])[d.group]
        g = d.group[served]
        floor = fixed[g] + per_s[g] * d.unit_s[served] + per_g[g] * d.mass_g[served]
        least = float((floor / d.ticks[served]).min()) if g.size else np.inf
        steps = COST_STEPS / least if least > 0 else np.inf
        return float(min(1e9, COST_LIMIT / (nodes * per_tick), max(COST_LIMIT / total, steps)))

    # -- costs ---------------------------------------------------------------------------
    def _pair_parts(self, a: Ints, m: Ints, km: Floats) -> dict[str, Floats]:
        """The parts of a unit's cost of demand a on machine m that no day changes."""
        return {
            "production": self.price[m]
            + self.per_ref_s[m] * self.d.unit_s[a]
            + self.material_per_g[m] * self.d.mass_g[a],
            "transport": self.costs.transport(km, self.d.mass_g[a]),
            "co2": km * self.d.co2_per_km[a],
            "risk": self.risk[m],
        }

    def _pair_cost(self, a: Ints, m: Ints, km: Floats) -> Floats:
        p = self._pair_parts(a, m, km)
        out: Floats = p["production"] + p["transport"] + p["co2"] + p["risk"]
        return out

    def parts(self, arcs: Arcs) -> dict[str, Floats]:
        """Per unit on each arc: distance and the cost parts."""
        a, m = arcs.a, arcs.m
        km = great_circle_km(self.d.xyz[a], self.m_xyz[m])
        return {
            "km": km,
            **self._pair_parts(a, m, km),
            "lateness": self.d.late_rate[a] * (arcs.d - self.due_day(a, m, km)),
            "transit_days": self.transit(a, m, km).astype(np.float64),
        }

    def unit_cost(self, arcs: Arcs) -> Floats:
        a, m = arcs.a, arcs.m
        km = great_circle_km(self.d.xyz[a], self.m_xyz[m])
        cost = self._pair_cost(a, m, km) + self.d.late_rate[a] * (arcs.d - self.due_day(a, m, km))
        if self.extra is not None:
            cost = cost + self.extra(a, m)
        return np.asarray(cost, dtype=np.float64)

    def pair_arcs(self, pa: Ints, pm: Ints) -> tuple[Arcs, Floats]:
        """Every usable day of each (demand, machine) pair, and each arc's unit cost
        (``unit_cost`` of the same arcs, with the distance and the day-free parts worked
        out once per pair rather than once per day)."""
        arcs, cost, _, _ = self.pair_arcs_below(pa, pm, None)
        return arcs, cost

    def pair_arcs_below(
        self, pa: Ints, pm: Ints, below: Floats | None
    ) -> tuple[Arcs, Floats, Bools, Floats]:
        """``pair_arcs`` of the pairs whose day-free cost is below ``below`` (per pair;
        lateness only adds to it: the others have no arc below it), the mask of those
        pairs, and every pair's day-free cost."""
        km = great_circle_km(self.d.xyz[pa], self.m_xyz[pm])
        base = self._pair_cost(pa, pm, km)
        if self.extra is not None:
            base = base + self.extra(pa, pm)
        every, kept = base, np.ones(pa.size, dtype=bool) if below is None else base < below
        if not kept.all():
            pa, pm, km, base = pa[kept], pm[kept], km[kept], base[kept]
        due = self.due_day(pa, pm, km)
        arcs, rep = self._days(pa, pm, due, every_day=True)
        cost: Floats = base[rep] + self.d.late_rate[arcs.a] * (arcs.d - due[rep])
        return arcs, cost, kept, every

    def arc_caps(self, arcs: Arcs, per_unit: Ints | int) -> Ints | None:
        """Bounds of the arcs on machines on probation (the job size), in ``per_unit`` of a
        unit; None when no machine is on it."""
        if not self.any_cap:
            return None
        cap = self.job_cap[arcs.m]
        room = np.where(cap > 0, self.job_room(arcs.a, arcs.m), self.d.quantity[arcs.a])
        out: Ints = (room * per_unit).astype(np.int64)
        return out

    def arc_units(self, arcs: Arcs) -> Ints:
        caps = self.arc_caps(arcs, 1)
        return self.d.quantity[arcs.a] if caps is None else caps

    def network(self, arcs: Arcs, unit_cost: Floats) -> Network:
        ticks = self.d.ticks
        return build(
            self.layout,
            supply=self.d.quantity * ticks,
            arc_demand=arcs.a,
            arc_machine=arcs.m,
            arc_day=arcs.d,
            arc_cost=np.rint(unit_cost * self.scale / ticks[arcs.a]).astype(np.int64),
            unmet_cost=np.rint(self.d.unmet * self.scale / ticks).astype(np.int64),
            day_caps=self.day_caps,
            arc_caps=self._network_caps(arcs),
        )

    def _network_caps(self, arcs: Arcs) -> Ints | None:
        """The arcs' bounds in ticks: a job on probation, and with ``whole_unit_arcs`` the
        whole units of the arc's demand its machine has the time for by the arc's day."""
        ticks = self.d.ticks[arcs.a]
        if not self.options.whole_unit_arcs:
            return self.arc_caps(arcs, ticks)
        out: Ints = self.arc_whole_units(arcs) * ticks
        return out

    def flow_cost(self, arcs: Arcs, unit_cost: Floats, flows: Ints, net: Network) -> float:
        """The true cost of a flow, fractional units included."""
        d = self.d
        units = net.arc_flows(flows) / d.ticks[arcs.a]
        unmet = net.unmet_flows(flows) / d.ticks
        return float((units * unit_cost).sum() + (unmet * d.unmet).sum())

    # -- candidates ------------------------------------------------------------------------
    def transit(self, a: Ints, m: Ints, km: Floats | None = None) -> Ints:
        """Whole days on the way from machine m to demand a's destination."""
        if not self.band_km.size:
            return np.zeros(a.size, dtype=np.int64)
        if km is None:
            km = great_circle_km(self.d.xyz[a], self.m_xyz[m])
        out: Ints = self.band_days[np.searchsorted(self.band_km, km - 1e-9, side="left")]
        return out

    def due_day(self, a: Ints, m: Ints, km: Floats | None = None) -> Ints:
        """The last day a unit may be made and still arrive by the deadline day (the
        horizon's last day at most: every day within it is then on time)."""
        if not self.band_km.size:
            return self.d.on_day[a]
        out: Ints = np.minimum(self.d.raw_day[a] - self.transit(a, m, km), self.horizon)
        return out

    def last_day(self, pa: Ints, pm: Ints) -> Ints:
        """The last day each pair may use (0 where it may use none): its due day plus the
        late window, within the horizon."""
        if self.band_km.size:
            due = self.due_day(pa, pm)
            lo = np.maximum(due, 1)
            hi = np.minimum(due + self.costs.late_window_days, self.horizon)
        else:
            lo, hi = self.d.lo[pa], self.d.hi[pa]
        out: Ints = np.where(lo <= hi, np.clip(hi, 0, self.horizon), 0)
        return out

    def arcs_of_pairs(self, pa: Ints, pm: Ints, *, every_day: bool) -> Arcs:
        """The first usable day of each pair (every usable day with ``every_day``): from
        the day by which a unit must be made to arrive on time (at least day 1) to the
        last of the late window, within the horizon."""
        arcs, _ = self._days(pa, pm, self.due_day(pa, pm), every_day=every_day)
        return arcs

    def _days(self, pa: Ints, pm: Ints, due: Ints, *, every_day: bool) -> tuple[Arcs, Ints]:
        """``arcs_of_pairs`` given each pair's due day, and the pair of each arc."""
        if self.band_km.size:
            lo = np.maximum(due, 1)
            hi = np.minimum(due + self.costs.late_window_days, self.horizon)
        else:
            lo, hi = self.d.lo[pa], self.d.hi[pa]
        ok = np.flatnonzero(lo <= hi)
        if not every_day:
            return Arcs(pa[ok], pm[ok], lo[ok]), ok
        span = np.where(self.job_cap[pm[ok]] > 0, 1, (hi - lo + 1)[ok])
        rep = ok[np.repeat(np.arange(ok.size), span)]
        offset = np.arange(rep.size) - np.repeat(np.cumsum(span) - span, span)
        return Arcs(pa[rep], pm[rep], lo[rep] + offset), rep

    def pairs_of(self, assignments: Sequence[Assignment]) -> tuple[Ints, Ints]:
        """(demand, machine) indexes of the assignments that concern this model."""
        demand_of = {dem.line_id: a for a, g in enumerate(self.d.members) for dem, _ in g}
        machine_of = {s.machine_id: i for i, s in enumerate(self.supplies)}
        pairs = [
            (demand_of[x.line_id], machine_of[x.machine_id])
            for x in assignments
            if x.line_id in demand_of and x.machine_id in machine_of
        ]
        if not pairs:
            return EMPTY, EMPTY
        arr = np.array(pairs, dtype=np.int64)
        return arr[:, 0], arr[:, 1]

    def key(self, arcs: Arcs) -> Ints:
        n_m, days = max(1, self.layout.n_machines), self.horizon + 1
        out: Ints = (arcs.a * n_m + arcs.m) * days + arcs.d
        return out

    def summed(self, arcs: Arcs, units: Ints) -> tuple[Arcs, Ints]:
        """Each (demand, machine, day) once, with the units of all its copies; none empty."""
        keys, first, inverse = np.unique(self.key(arcs), return_index=True, return_inverse=True)
        total = np.zeros(keys.size, dtype=np.int64)
        np.add.at(total, inverse, units)
        keep = total > 0
        return arcs.take(first[keep]), total[keep]

    def dedupe(self, arcs: Arcs) -> Arcs:
        _, first = np.unique(self.key(arcs), return_index=True)
        return arcs.take(np.sort(first))

    def arc_whole_units(self, arcs: Arcs, *, job_per_line: bool = False) -> Ints:
        """The most whole units of an arc's demand its machine can make by the arc's day,
        alone, and within a job on probation. The network gives a merged demand one job
        (its units are split among its lines in order, so that no line gets more than a
        job); a plan may give each of its lines one, so the bound (``job_per_line``)
        allows that many jobs: every plan keeps it."""
        out: Ints = self.cum_ticks[arcs.m, arcs.d] // self.d.ticks[arcs.a]
        caps = self.arc_caps(arcs, 1)
        if caps is not None and job_per_line:
            job = self.job_cap[arcs.m]
            caps = np.where(job > 0, self.job_units(arcs.a, arcs.m), caps)
        return out if caps is None else np.minimum(out, caps)

    def job_units(self, a: Ints, m: Ints) -> Ints:
        """The units demand ``a`` may have on machine ``m``, on probation, in any plan: a
        job per line of the demand (less what a line of it holds there), at most its
        units."""
        jobs = self.job_cap[m] * self.lines[a] - (self.job_cap[m] - self.job_room(a, m))
        out: Ints = np.minimum(self.d.quantity[a], jobs)
        return out

    def objective_of(self, arcs: Arcs, units: Ints) -> float:
        """The cost of whole ``units`` on ``arcs`` (no extra charge) and of the units they
        leave unmet."""
        made = np.bincount(arcs.a, weights=units, minlength=self.d.quantity.size)
        left = self.d.quantity - made
        return float((units * self.unit_cost(arcs)).sum() + (left * self.d.unmet).sum())

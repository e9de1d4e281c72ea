"""The flow planner: one model in machine time, min-cost flow, priced to a certificate.

Every line that a machine can make competes for that machine's time, whatever its print
time: flow is machine time (network.py), a line's units become time at its own rate.

1. Identical demand (same place, deadline day, capability, priority, mass, print time) is
   merged.
2. Each demand starts with its nearest capable machines (a KD-tree per capability),
   widened until their time covers ``margin`` times the demand's; a re-plan's demands
   with the nearest that still have room, each taking its time before the next looks
   (``FlowOptions.room_seed``).
3. The restricted network is solved exactly (a ``FlowSolver``: OR-Tools in production).
   Its optimum is the LP relaxation of the restricted problem (units may be fractional).
4. Pricing: the optimum's node potentials give a price ``M[m, d]`` per second of machine
   m's time by day d (>= 0, non-increasing in d). For any such prices,

       bound = sum_a U_a * min(u_a, min over every capable (m, d) of c(a, m, d) + t_a M[m, d])
               - sum_(m, d) time(m, d) * M[m, d]

   is a lower bound on every plan (Lagrangian relaxation of the capacity rows), computed
   in floating point with the true print times and costs. A distance bound limits the
   search over "every capable (m, d)" to a ball around each demand; the arcs that price
   out are added and the network solved again.
5. Units are made whole: each arc's units rounded down, the remainders placed on the
   cheapest arc with time left (or left unmet). The plan's true cost against the bound is
   the reported gap; ``certified`` means it is within ``gap_tolerance``.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from fabnet.domain.errors import InvalidInput
from fabnet.planning.candidates import SphereIndex, great_circle_km, unit_vectors
from fabnet.planning.network import FlowSolver, Ints, Layout, Network, build
from fabnet.planning.plan import Assignment, Plan, Unmet
from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem, deadline_day
from fabnet.planning.residual import potentials
from fabnet.planning.unmet import why_unmet

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Stop = Callable[[], bool]
Extra = Callable[[Ints, Ints], Floats]
log = logging.getLogger(__name__)
EMPTY = np.empty(0, np.int64)
UNREACHABLE = 1 << 30  # transit days of a pair beyond the farthest band
# int64 head room: OR-Tools scales costs by the node count; totals must not overflow
_LIMIT = float(1 << 60)
# whole-unit bound: arcs kept from pricing's chunks before those that take no units go
FILL_KEEP = 2_000_000
# print times within this ratio round as one class where there are many (size_classes)
BAND = 1.05
MOST_BANDS = 24


@dataclass(frozen=True)
class FlowOptions:
    k: int = 8  # first candidates per demand
    margin: float = 3.0  # widen until candidates have margin x the demand's machine time
    widen: bool = True
    # first candidates with room: demand after demand (earliest last day first), the
    # nearest machines whose time left by the pair's last usable day covers ``margin`` times
    # the demand's, each demand's time taken off them before the next looks (a re-plan,
    # where the machines nearest a displaced line are mostly full); every usable day of
    # these pairs is an arc. Off: the nearest machines, each demand on its own
    room_seed: bool = False
    aggregate: bool = True  # merge identical demand
    pricing: bool = True  # price out every capable machine (certify optimality)
    max_rounds: int = 30
    # stop when the restricted LP fell by at most this share over the last `tail_rounds`
    # rounds (the tailing-off of column generation; 0: never): the plan keeps the bound
    # of the rounds that gave one and is certified only when that bound is close
    tail_off: float = 0.0
    tail_rounds: int = 3
    # ... a share of this objective where it is larger than the LP's: a re-plan measures
    # its tailing-off against the whole plan it keeps, whose gap it reports
    tail_off_of: float = 0.0
    max_new_per_demand: int = 32
    # ... or more where demands are few (a re-plan's displaced lines): about this many
    # new arcs a round in all
    new_arcs_per_round: int = 300_000
    # a round whose demands priced near their unmet cost would search more (demand,
    # machine) pairs than this offers them their nearest machines with time instead
    pricing_pairs: int = 20_000_000
    gap_tolerance: float = 1e-3  # certified when (objective - bound) / objective <= this
    warm_start: bool = True  # seed the candidates with the greedy plan's pairs
    # ... when lines x machines are at most this many: greedy scans machine after machine
    # in Python, minutes at 100,000 lines x 10,000 machines, longer than pricing saves
    warm_start_pairs: int = 20_000_000
    # whole units: each class of one print time planned again on the time the others leave, kept
    # where cheaper (``TimeModel.sweep_classes``)
    sweep_classes: bool = True
    # whole units by HiGHS's MIP over the priced arcs when rounding misses the tolerance
    # and the arcs are this few (rounding alone above it)
    polish_max_arcs: int = 5_000
    polish_time_s: float = 2.0
    # then at most this many seconds re-planning neighbourhoods of a few machines by
    # HiGHS's MIP (neighbourhood.py; 0: never): those nearest each line rounding left
    # units of unmet, then those where the LP and the plan differ most for the lines whose
    # units cost most above the LP's, until the plan is within the tolerance
    neighbourhood_s: float = 60.0
    # ... their MIPs in this many worker processes at once where they would take long
    # enough (None: the CPUs this process may use, at most 4; 1: in this process)
    neighbourhood_workers: int | None = None
    # ... the second kind (lines above the LP) too: off, only lines rounding left short
    above_lp_lines: bool = True
    # each arc carries at most the whole units its machine can make by its day (a bound
    # every plan keeps: time in pieces smaller than a unit is no room). A re-plan's room
    # is such pieces between the kept work: without it the LP made units of them that no
    # plan can (large: 895 units the LP placed, 2,890 unmet once whole, 170 s; with it
    # 2,001 unmet, 72 s). Pricing then stops when no arc is cheaper than a demand's
    # cheapest one (a full arc may be), and the bound is counted once more at the end
    # with every arc below what a unit is worth under the last prices, each at its cap
    whole_unit_arcs: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.neighbourhood_s) and self.neighbourhood_s >= 0):
            raise InvalidInput("neighbourhood_s", "must be a finite number of seconds >= 0")
        if not (math.isfinite(self.tail_off) and self.tail_off >= 0):
            raise InvalidInput("tail_off", "must be a finite share >= 0 (0: never stop early)")
        if not (math.isfinite(self.tail_off_of) and self.tail_off_of >= 0):
            raise InvalidInput("tail_off_of", "must be a finite objective >= 0 (0: the LP's own)")
        if self.neighbourhood_workers is not None and self.neighbourhood_workers < 1:
            raise InvalidInput("neighbourhood_workers", "must be at least 1 (or None: the CPUs)")
        if self.tail_rounds < 1:
            raise InvalidInput("tail_rounds", "must be at least 1")


@dataclass
class _Demands:
    """Merged demand: arrays by index, and which lines (with units) each merges."""

    xyz: Floats
    quantity: Ints  # units
    ticks: Ints  # reference seconds per unit, rounded up (the network's rate)
    unit_s: Floats  # reference seconds per unit, exact (the bound's rate)
    on_day: Ints  # deadline day: the last day bucket ending by the deadline (0: none)
    raw_day: Ints  # the same, not cut at the horizon (transit counts back from it)
    lo: Ints  # first and last day bucket the demand may use (lo > hi: none)
    hi: Ints
    late_rate: Floats  # lateness per unit and day late
    unmet: Floats  # cost of a unit left unmade
    per_km: Floats  # transport + CO2 cost per unit and km (transport: its floor per km)
    co2_per_km: Floats
    mass_g: Floats
    group: Ints  # capability group
    members: list[list[tuple[Demand, int]]]


@dataclass
class Arcs:
    """The (demand, machine, day) arcs of a restricted network."""

    a: Ints
    m: Ints
    d: Ints

    @staticmethod
    def empty() -> Arcs:
        return Arcs(EMPTY, EMPTY, EMPTY)

    def __len__(self) -> int:
        return int(self.a.size)

    def plus(self, other: Arcs) -> Arcs:
        return Arcs(
            np.concatenate([self.a, other.a]),
            np.concatenate([self.m, other.m]),
            np.concatenate([self.d, other.d]),
        )

    def take(self, index: Ints | Bools) -> Arcs:
        return Arcs(self.a[index], self.m[index], self.d[index])


@dataclass
class Solution:
    arcs: Arcs
    net: Network
    flows: Ints
    lp_objective: float  # true cost of the (fractional) flow
    bound: float  # lower bound over every capable machine (nan: not priced)
    rounds: int = 1


class TimeModel:
    """All demand of a problem against all machines, in machine time."""

    def __init__(
        self,
        problem: Problem,
        demands: Sequence[Demand],
        options: FlowOptions,
        booked_s: Floats | None = None,
    ) -> None:
        """``booked_s``: reference seconds already promised on each machine (rows in the
        problem's order) by each day (columns 1 to the horizon), e.g. the assignments a
        re-plan keeps: that time is taken by its own day, not from the start."""
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
        self._cap_left: dict[int, int] = {}  # _repair's: units still allowed, by pair
        self._groups(demands)
        self.d = self._merge(demands)
        self.worth = self.d.unmet.copy()  # a unit of each demand under the last prices
        self.layout = Layout(len(self.d.quantity), n_m, self.horizon)
        self.extra: Extra | None = None  # per-unit cost added to a pair (fixed charge)
        self.scale = self._scale()
        self.priority_of = {dem.line_id: dem.priority for dem in demands}

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

    def deadline_day(self, due_s: float) -> int:
        return min(self.horizon, deadline_day(due_s))

    def _merge(self, demands: Sequence[Demand]) -> _Demands:
        buckets: dict[tuple[object, ...], list[Demand]] = defaultdict(list)
        for dem in demands:
            key: tuple[object, ...] = (
                (
                    dem.destination.lat,
                    dem.destination.lon,
                    self.deadline_day(dem.due_s)
                    if not self.costs.transit
                    else deadline_day(dem.due_s),
                    self.group_of[dem.line_id],
                    dem.priority,
                    dem.unit_mass_g,
                    dem.unit_time_s,
                )
                if self.options.aggregate
                else (dem.line_id,)
            )
            buckets[key].append(dem)
        members = [[(dem, dem.units) for dem in group] for group in buckets.values()]
        first = [group[0] for group in buckets.values()]
        n = len(first)

        def col(values: Sequence[float]) -> Floats:
            return np.array(values, dtype=np.float64).reshape(n)

        def ints(values: Sequence[int]) -> Ints:
            return np.array(values, dtype=np.int64).reshape(n)

        on_day = ints([self.deadline_day(f.due_s) for f in first])
        window = self.costs.late_window_days
        priority = col([f.priority for f in first])
        unit_s = col([f.unit_time_s for f in first])
        return _Demands(
            xyz=unit_vectors(
                col([f.destination.lat for f in first]), col([f.destination.lon for f in first])
            )
            if n
            else np.empty((0, 3)),
            quantity=ints([sum(u for _, u in g) for g in members]),
            ticks=np.ceil(unit_s - 1e-9).astype(np.int64),
            unit_s=unit_s,
            on_day=on_day,
            raw_day=ints([deadline_day(f.due_s) for f in first]),
            lo=np.maximum(on_day, 1),
            hi=np.minimum(on_day + window, self.horizon).astype(np.int64),
            late_rate=(self.costs.late_per_unit_day * (1 + priority)).astype(np.float64),
            unmet=(self.costs.unmet_per_unit * (1 + priority)).astype(np.float64),
            per_km=col([sum(self.costs.per_km(f.unit_mass_g)) for f in first]),
            co2_per_km=col([self.costs.co2_per_km(f.unit_mass_g) for f in first]),
            mass_g=col([f.unit_mass_g for f in first]),
            group=ints([self.group_of[f.line_id] for f in first]),
            members=members,
        )

    def _scale(self) -> float:
        """Money -> integer cost per tick: as fine as int64 allows, at most 1e9."""
        d = self.d
        if d.quantity.size == 0:
            return 1.0
        total = float((d.quantity * d.unmet).sum()) + 1.0
        per_tick = float((d.unmet / d.ticks).max()) + 1e-9
        nodes = float(self.layout.n_nodes + 1)
        return max(1e-3, min(1e9, _LIMIT / total, _LIMIT / (nodes * per_tick)))

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
        km = great_circle_km(self.d.xyz[pa], self.m_xyz[pm])
        base = self._pair_cost(pa, pm, km)
        if self.extra is not None:
            base = base + self.extra(pa, pm)
        due = self.due_day(pa, pm, km)
        arcs, rep = self._days(pa, pm, due, every_day=True)
        cost: Floats = base[rep] + self.d.late_rate[arcs.a] * (arcs.d - due[rep])
        return arcs, cost

    def arc_caps(self, arcs: Arcs, per_unit: Ints | int) -> Ints | None:
        """Bounds of the arcs on machines on probation (the job size), in ``per_unit`` of a
        unit; None when no machine is on it."""
        if not self.any_cap:
            return None
        cap = self.job_cap[arcs.m]
        room = np.where(cap > 0, cap, self.d.quantity[arcs.a])
        out: Ints = (room * per_unit).astype(np.int64)
        return out

    def _arc_units(self, arcs: Arcs) -> Ints:
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
        out: Ints = self._whole_units(arcs) * ticks
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

    def candidates(self, k: int) -> tuple[Ints, Ints]:
        pairs_a: list[Ints] = []
        pairs_m: list[Ints] = []
        d = self.d
        for g, index in enumerate(self.group_index):
            rows = np.flatnonzero(d.group == g)
            if rows.size == 0 or index.size == 0:
                continue
            machines = self.group_machines[g]
            want = (d.quantity * d.ticks)[rows] * self.options.margin
            kk = min(k, index.size)
            pending = rows
            while pending.size:
                near = machines[index.nearest(d.xyz[pending], kk)]
                if not self.options.widen or kk >= index.size:
                    done = np.ones(pending.size, dtype=bool)
                else:
                    reach = np.maximum(d.hi[pending], d.lo[pending])
                    covered = self.cum_ticks[near, reach[:, None]].sum(axis=1)
                    done = covered >= want[np.searchsorted(rows, pending)]
                pairs_a.append(np.repeat(pending[done], near.shape[1]))
                pairs_m.append(near[done].ravel())
                pending = pending[~done]
                kk = min(kk * 2, index.size)
        if not pairs_a:
            return EMPTY, EMPTY
        return np.concatenate(pairs_a), np.concatenate(pairs_m)

    def room_candidates(self, k: int) -> tuple[Ints, Ints]:
        """(demand, machine) pairs with room (``FlowOptions.room_seed``): each demand's
        nearest capable machines whose time left by the pair's last usable day covers
        ``margin`` times the demand's (at least its ``k`` nearest with any), its own time
        then taken off them nearest first, so that the next demand looks past them. Demands
        go earliest last day first, larger first within a day. A demand that finds less
        than that anywhere also gets the nearest whose time the demands before it took
        (up to ``margin`` times its own of their time at the start): the flow may move
        those on to make room (large re-plan: first LP 2.88e8 -> 2.04e8, 9 rounds not 10).
        A Python loop per demand: for the few demands of a re-plan."""
        d = self.d
        margin = self.options.margin
        left = self.cum_ticks.astype(np.float64)  # time left by each day, as taken
        want_all = (d.quantity * d.ticks).astype(np.float64)
        pairs_a: list[Ints] = []
        pairs_m: list[Ints] = []
        for a in np.lexsort((-want_all, d.hi)).tolist():
            g = int(d.group[a])
            index, machines = self.group_index[g], self.group_machines[g]
            if index.size == 0 or d.lo[a] > d.hi[a]:
                continue
            want = want_all[a]
            kk = min(k, index.size)
            while True:
                near = machines[index.nearest(d.xyz[a : a + 1], kk)[0]]
                day = self.last_day(np.full(near.size, a, dtype=np.int64), near)
                room = left[near, day]
                total = np.cumsum(room)
                if total[-1] >= margin * want or kk >= index.size:
                    break
                kk = min(2 * kk, index.size)
            n = max(min(k, near.size), int(np.searchsorted(total, margin * want)) + 1)
            near, room, day, total = near[:n], room[:n], day[:n], total[:n]
            take = np.minimum(room, np.maximum(0.0, want - (total - room)))
            used = take > 0
            for m, last, ticks in zip(near[used], day[used], take[used], strict=True):
                left[m, last:] -= ticks
                np.minimum(left[m, :last], left[m, last], out=left[m, :last])
            keep = room > 0
            if not keep.any():  # no room anywhere: its nearest, for the prices
                keep[: min(k, near.size)] = True
            # and the nearest whose room the demands before it took: the flow may move
            # those demands on (to their other machines) to make room for this one
            if total[-1] < margin * want:
                start = self.cum_ticks[near, day]
                before = np.cumsum(start) - start < margin * want
                keep |= before & (start > 0)
            pairs_a.append(np.full(int(keep.sum()), a, dtype=np.int64))
            pairs_m.append(near[keep])
        if not pairs_a:
            return EMPTY, EMPTY
        return np.concatenate(pairs_a), np.concatenate(pairs_m)

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

    # -- prices and the bound ----------------------------------------------------------------
    def day_prices(self, net: Network, flows: Ints) -> Floats:
        """Money per reference second of each machine's time by each day (>= 0, and never
        rising from one day to the next, as the bound requires)."""
        dist = potentials(net.n_nodes, net.tails, net.heads, net.caps, net.costs, flows)
        lay = self.layout
        sink = net.n_nodes - 1
        # a unit of each demand is worth this under the same prices (at most its unmet
        # cost); with whole-unit arcs a demand's cheapest arcs may be full below it
        worth = (dist[sink] - dist[: lay.n_demands]) * self.d.ticks / self.scale
        self.worth = np.minimum(np.maximum(worth, 0.0), self.d.unmet)
        node_price = np.maximum(0.0, dist[sink] - dist[lay.n_demands : sink]) / self.scale
        # each node's price is that of every day it holds; the days no node holds (after a
        # machine's last, and every day of a machine no arc reaches) have time no arc can
        # use: price 0, as the sink's own arc of such a day would give
        prices = np.zeros((lay.n_machines, lay.horizon))
        span = net.node_day - net.node_after
        days = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
        prices[np.repeat(net.node_machine, span), np.repeat(net.node_after, span) + days] = (
            np.repeat(node_price, span)
        )
        out: Floats = np.maximum.accumulate(prices[:, ::-1], axis=1)[:, ::-1]
        # a machine with no time at all by day d (busy, or full of a re-plan's kept work)
        # has nothing to price by then: any price is valid there, and an infinite one keeps
        # the arcs due by then out of pricing (they could carry nothing) and off the bound's
        # minimum. Time by day never falls, so these days come first: still non-increasing
        out[self.cum_s[:, 1:] <= 0.0] = np.inf
        return out

    def time_value(self, prices: Floats) -> float:
        """sum over (machine, day) of the day's time times its price (the bound's second
        term); days priced infinite have no time."""
        finite = np.isfinite(prices)
        return float((self.day_s[finite] * prices[finite]).sum())

    def values(self, arcs: Arcs, unit_cost: Floats, prices: Floats) -> Floats:
        """An arc's cost per unit with the machine time it takes priced in."""
        out: Floats = unit_cost + self.d.unit_s[arcs.a] * prices[arcs.m, arcs.d - 1]
        return out

    def price_out(
        self,
        arcs: Arcs,
        unit_cost: Floats,
        prices: Floats,
        *,
        exact: bool = False,
        by_worth: bool = False,
    ) -> tuple[Arcs, float]:
        """Arcs that price out (the most negative few per demand) and the lower bound.

        A demand priced near its unmet cost (at half of it or more: some of its units are
        left unmade) may be below that on every capable machine (its ball is the whole
        group); when such demands would make more than ``options.pricing_pairs`` pairs
        and not ``exact``, they are offered their nearest machines with time to spare
        instead, and the round gives no bound (nan)."""
        d = self.d
        capped = self.options.whole_unit_arcs
        best = d.unmet.copy()  # v_a: the demand's price under the restricted network
        if by_worth:  # with whole-unit arcs: its cheapest arcs may be full below it
            best = self.worth.copy()
        elif len(arcs):
            np.minimum.at(best, arcs.a, self.values(arcs, unit_cost, prices))
        have = np.sort(self.key(arcs))
        least = best.copy()  # min over every capable (m, d) (and unmet)
        below: list[tuple[Ints, Floats, Ints]] = []  # capped: arcs under v_a, their caps
        found: list[tuple[Arcs, Floats]] = []
        starved = best >= 0.5 * d.unmet  # its last unit is worth about what leaving it is
        sizes = np.array([g.size for g in self.group_machines] or [0], dtype=np.int64)
        skip = None
        if not exact and float(sizes[d.group[starved]].sum()) > self.options.pricing_pairs:
            skip = starved
        candidates = self._ball_pairs(best, skip=skip)
        if skip is not None:
            candidates = itertools.chain(candidates, [self._spare_time(skip, prices)])
        searched = kept = 0
        # the least a unit of a demand can cost on a machine, distance and lateness aside,
        # its time priced at the demand's last usable day (prices never rise with the day;
        # transit only brings that day earlier)
        last = np.maximum(d.hi, 1) - 1
        for pa, pm in candidates:
            floor = (
                self.price[pm]
                + self.risk[pm]
                + (self.per_ref_s[pm] + prices[pm, last[pa]]) * d.unit_s[pa]
                + self.material_per_g[pm] * d.mass_g[pa]
            )
            if self.extra is None:  # (an extra charge may be negative: no pruning then)
                room = floor < best[pa] - 1e-9 * (1.0 + np.abs(best[pa]))
                searched, kept = searched + pa.size, kept + int(room.sum())
                pa, pm = pa[room], pm[room]
            cand, cost = self.pair_arcs(pa, pm)
            val = self.values(cand, cost, prices)
            np.minimum.at(least, cand.a, val)
            if capped:
                under = val < best[cand.a]
                under_arcs = cand.take(under)
                below.append(
                    (under_arcs.a, val[under], self._whole_units(under_arcs, job_per_line=True))
                )
                if sum(b[0].size for b in below) > FILL_KEEP:  # memory stays flat
                    below = [self._fill(below)]
            keys = self.key(cand)
            pos = np.minimum(np.searchsorted(have, keys), max(have.size - 1, 0))
            present = (have[pos] == keys) if have.size else np.zeros(keys.size, dtype=bool)
            neg = (val < best[cand.a] - 1e-9 * (1.0 + np.abs(best[cand.a]))) & ~present
            if neg.any():  # each chunk keeps only what could make each demand's few
                part, rc = cand.take(neg), (val - best[cand.a])[neg]
                keep = self._most_negative(part.a, part.m, rc)
                found.append((part.take(keep), rc[keep]))
        log.debug(
            "pricing: %d pairs in the balls, %d below their price before distance", searched, kept
        )
        if capped:
            bound = self._capped_demand_bound(below, best) - self.time_value(prices)
        else:
            bound = float((d.quantity * least).sum()) - self.time_value(prices)
        if skip is not None:
            bound = math.nan  # the starved demands' minimum was not searched in full
        if not found:
            return Arcs.empty(), bound
        new = Arcs(
            np.concatenate([part.a for part, _ in found]),
            np.concatenate([part.m for part, _ in found]),
            np.concatenate([part.d for part, _ in found]),
        )
        rc = np.concatenate([r for _, r in found])
        return self.dedupe(new.take(self._most_negative(new.a, new.m, rc))), bound

    def _whole_units(self, arcs: Arcs, *, job_per_line: bool = False) -> Ints:
        """The most whole units of an arc's demand its machine can make by the arc's day,
        alone, and within a job on probation. The network gives a merged demand one job
        (its units are split among its lines in order, so that no line gets more than a
        job); a plan may give each of its lines one, so the bound (``job_per_line``)
        allows that many jobs: every plan keeps it."""
        out: Ints = self.cum_ticks[arcs.m, arcs.d] // self.d.ticks[arcs.a]
        caps = self.arc_caps(arcs, 1)
        if caps is not None and job_per_line:
            lines = np.array([len(g) for g in self.d.members], dtype=np.int64)[arcs.a]
            job = self.job_cap[arcs.m]
            caps = np.where(job > 0, np.minimum(self.d.quantity[arcs.a], job * lines), caps)
        return out if caps is None else np.minimum(out, caps)

    def _capped_demand_bound(self, below: list[tuple[Ints, Floats, Ints]], worth: Floats) -> float:
        """sum over demands of the least its units can cost under the prices, each arc
        taking at most its whole units (``_whole_units``): the arcs under ``worth`` filled
        cheapest first, every unit beyond them at ``worth`` at least (every other arc, and
        leaving it unmade, is worth that or more: pricing searched all that might not be)."""
        d = self.d
        a, val, take = self._fill(below)
        taken = np.bincount(a, weights=take, minlength=d.quantity.size)
        return float((take * val).sum() + ((d.quantity - taken) * worth).sum())

    def _fill(self, below: list[tuple[Ints, Floats, Ints]]) -> tuple[Ints, Floats, Ints]:
        """(demand, value, units taken) of the arcs that take any, each demand's units
        placed on its cheapest arcs first, each arc at most its cap. An arc that takes none
        never will once more arcs are found: pricing keeps only these between chunks."""
        if not below:
            return EMPTY, np.empty(0), EMPTY
        a = np.concatenate([b[0] for b in below])
        val = np.concatenate([b[1] for b in below])
        cap = np.concatenate([b[2] for b in below])
        order = np.lexsort((val, a))
        a, val, cap = a[order], val[order], cap[order]
        upto = np.cumsum(cap) - cap  # caps of the arcs before each, over all demands
        before = upto - upto[np.searchsorted(a, a, side="left")]  # ... of its own demand
        take = np.clip(self.d.quantity[a] - before, 0, cap)
        used = take > 0
        return a[used], val[used], take[used]

    def _most_negative(self, a: Ints, m: Ints, rc: Floats) -> Ints:
        """Indexes of each demand's most negative reduced costs, one day per machine (so
        that a round reaches more machines): ``max_new_per_demand``, or more where
        demands are few (``new_arcs_per_round`` shared among them)."""
        opts = self.options
        per = max(opts.max_new_per_demand, opts.new_arcs_per_round // max(1, self.d.quantity.size))
        order = np.lexsort((rc, m, a))
        pair = a[order] * max(1, len(self.supplies)) + m[order]
        order = order[np.r_[True, pair[1:] != pair[:-1]]]  # each pair's best day
        order = order[np.lexsort((rc[order], a[order]))]
        first = np.r_[0, np.flatnonzero(np.diff(a[order])) + 1]
        rank = np.arange(order.size) - np.repeat(first, np.diff(np.r_[first, order.size]))
        out: Ints = order[rank < per]
        return out

    def _spare_time(self, rows: Bools, prices: Floats, k: int = 16) -> tuple[Ints, Ints]:
        """Each of ``rows``'s nearest ``k`` capable machines with time to spare (unpriced)
        by its last usable day."""
        d = self.d
        pairs_a: list[Ints] = []
        pairs_m: list[Ints] = []
        for g, machines in enumerate(self.group_machines):
            for day in np.unique(d.hi[rows & (d.group == g)]).tolist():
                these = np.flatnonzero(rows & (d.group == g) & (d.hi == day))
                free = machines[prices[machines, max(day, 1) - 1] <= 0.0]
                if free.size == 0 or these.size == 0:
                    continue
                near = free[SphereIndex(self.m_xyz[free]).nearest(d.xyz[these], k)]
                pairs_a.append(np.repeat(these, near.shape[1]))
                pairs_m.append(near.ravel())
        if not pairs_a:
            return EMPTY, EMPTY
        return np.concatenate(pairs_a), np.concatenate(pairs_m)

    def _ball_pairs(
        self, best: Floats, budget: int = 500_000, skip: Bools | None = None
    ) -> Iterator[tuple[Ints, Ints]]:
        """Every (demand, machine) pair that might be worth less than the demand's price
        on some day, in chunks of about ``budget`` pairs (memory stays flat however wide the
        balls are). A machine farther than (price - least cost of a unit) / cost per km
        cannot be, whatever its time is worth. Demands in ``skip`` are left out."""
        d = self.d
        for g, index in enumerate(self.group_index):
            mask = (d.group == g) & (d.lo <= d.hi)
            rows = np.flatnonzero(mask if skip is None else mask & ~skip)
            machines = self.group_machines[g]
            if rows.size == 0 or machines.size == 0:
                continue
            fixed, per_s, per_g = self.group_floor[g]
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

    # -- whole units ---------------------------------------------------------------------------
    def size_classes(self, most: int = 6) -> list[Bools]:
        """Demands by print time, longest first: one class per print time where there are
        at most ``most``; else bands of print times within ``BAND`` of each other (wider
        where more than ``MOST_BANDS`` bands would hold demands), each rounded by its
        network in units at its longest print time, so that little time is lost to the
        spread. (Medium with 4,236 print times: 6 classes by quantiles, the last only by
        its network, 4.6% above the bound; bands of 5%, 3.1%.)"""
        ticks = self.d.ticks
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
        self, sol: Solution, unit_cost: Floats, solver: FlowSolver | None = None
    ) -> tuple[Arcs, Ints, Ints]:
        """Whole units: arcs with their units, and the units left unmet per demand.

        Longest parts first (a class of print times at a time): the class's arcs are
        rounded down (with ``solver``: its network in units, each arc at most the flow's
        units rounded up, each unit at the class's longest print time), its remainders placed where
        a whole unit still fits (its own arcs, then its nearest capable machines), and
        then, with ``solver``, the network is solved again for the classes not yet fixed on
        the time that is left, so that shorter parts fill the gaps the longer ones leave.
        (Medium, the same LP: gap 1.65% -> 1.52% against rounding down all but the last
        class, of 4 classes, one of two print times.)"""
        d, arcs = self.d, sol.arcs
        flow = sol.net.arc_flows(sol.flows)
        classes = self.size_classes() if solver is not None else [np.ones(d.ticks.size, bool)]
        used = np.zeros_like(self.day_caps)
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
                # takes little more than its share of the time the shorter parts still need
                limit = None if last else -(-flow[on] // d.ticks[sub.a])
                units = self._one_time(sub, cost, used, members, solver, limit)
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
            slack = self.cum_ticks[:, 1:] - np.cumsum(used, axis=1)
            sub, units = self._repair(sub, cost, units, left_c, slack)
            left_c = np.where(
                members,
                d.quantity
                - np.bincount(sub.a, weights=units, minlength=d.quantity.size).astype(np.int64),
                0,
            )
            used = np.zeros_like(self.day_caps)
            out_arcs, out_units = out_arcs.plus(sub), np.concatenate([out_units, units])
            np.add.at(used, (out_arcs.m, out_arcs.d - 1), out_units * d.ticks[out_arcs.a])
            left = left + left_c
            done |= members
            if c + 1 < len(classes) and solver is not None:
                flow = self._resolve(arcs, unit_cost, used, ~done, solver)
        if left.any():  # time still free: more whole units, the shortest parts first
            slack = self.cum_ticks[:, 1:] - np.cumsum(used, axis=1)
            cost = self.unit_cost(out_arcs)
            out_arcs, out_units = self._repair(out_arcs, cost, out_units, left, slack, short=True)
        return out_arcs, out_units, left

    def sweep_classes(
        self, priced: Arcs, arcs: Arcs, units: Ints, solver: FlowSolver
    ) -> tuple[Arcs, Ints, float]:
        """Each class of one print time planned again, exactly, on the time the other
        classes' units leave (its network in units over its ``priced`` arcs and its arcs in
        the plan), kept where the whole plan is then cheaper; the longest parts first, as
        they were rounded. The class's own units are a flow of that network, so its
        optimum is never dearer: coordinate descent over the classes. Rounding fixes the
        longer parts first, and they take time the shorter ones wanted; given the rest, each
        class finds its best. (Medium, one saved LP: 1.71% -> 1.48% above the bound in 3.3 s;
        a second sweep gained 0.004 points more.) Returns the arcs, units and objective."""
        d = self.d
        best = self.objective_of(arcs, units)
        for members in self.size_classes():
            if np.unique(d.ticks[members]).size != 1:
                continue  # several print times: no network in units is exact for them
            mine = members[arcs.a]
            others = ~mine
            used = np.zeros_like(self.day_caps)
            np.add.at(
                used, (arcs.m[others], arcs.d[others] - 1), units[others] * d.ticks[arcs.a[others]]
            )
            pool = self.dedupe(priced.take(members[priced.a]).plus(arcs.take(mine)))
            cost = self.unit_cost(pool)
            keep = cost < d.unmet[pool.a]
            pool, cost = pool.take(keep), cost[keep]
            got = self._one_time(pool, cost, used, members, solver)
            new_arcs, new_units = self.summed(
                arcs.take(others).plus(pool), np.concatenate([units[others], got])
            )
            total = self.objective_of(new_arcs, new_units)
            if total < best - 1e-9 * max(1.0, abs(best)):
                arcs, units, best = new_arcs, new_units, total
        return arcs, units, best

    def objective_of(self, arcs: Arcs, units: Ints) -> float:
        """The cost of whole ``units`` on ``arcs`` (no extra charge) and of the units they
        leave unmet."""
        made = np.bincount(arcs.a, weights=units, minlength=self.d.quantity.size)
        left = self.d.quantity - made
        return float((units * self.unit_cost(arcs)).sum() + (left * self.d.unmet).sum())

    def _one_time(
        self,
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
        ticks = int(self.d.ticks[members].max())
        slack = self.cum_ticks[:, 1:] - np.cumsum(used, axis=1)
        room = np.maximum(np.minimum.accumulate(slack[:, ::-1], axis=1)[:, ::-1], 0) // ticks
        caps = np.diff(np.concatenate([np.zeros((room.shape[0], 1), np.int64), room], axis=1))
        nodes = float(self.layout.n_nodes + 1)
        scale = min(self.scale, _LIMIT / (nodes * float(self.d.unmet.max()) + 1.0))
        bounds = self.arc_caps(arcs, 1)
        if limit is not None:
            bounds = limit if bounds is None else np.minimum(bounds, limit)
        net = build(
            self.layout,
            supply=np.where(members, self.d.quantity, 0),
            arc_demand=arcs.a,
            arc_machine=arcs.m,
            arc_day=arcs.d,
            arc_cost=np.rint(unit_cost * scale).astype(np.int64),
            unmet_cost=np.rint(self.d.unmet * scale).astype(np.int64),
            day_caps=caps,
            arc_caps=bounds,
        )
        return net.arc_flows(net.solve(solver).flows)

    def _resolve(
        self, arcs: Arcs, unit_cost: Floats, used: Ints, open_: Bools, solver: FlowSolver
    ) -> Ints:
        """The network again, for the ``open_`` demands only, on the time ``used`` leaves
        (their arcs only: the fixed demands' would carry nothing); the flow on every arc."""
        keep = open_[arcs.a]
        arcs, unit_cost = arcs.take(keep), unit_cost[keep]
        slack = self.cum_ticks[:, 1:] - np.cumsum(used, axis=1)
        # what later work may still use by day k: the least slack from day k on
        room = np.maximum(np.minimum.accumulate(slack[:, ::-1], axis=1)[:, ::-1], 0)
        caps = np.diff(np.concatenate([np.zeros((room.shape[0], 1), np.int64), room], axis=1))
        ticks = self.d.ticks
        net = build(
            self.layout,
            supply=np.where(open_, self.d.quantity, 0) * ticks,
            arc_demand=arcs.a,
            arc_machine=arcs.m,
            arc_day=arcs.d,
            arc_cost=np.rint(unit_cost * self.scale / ticks[arcs.a]).astype(np.int64),
            unmet_cost=np.rint(self.d.unmet * self.scale / ticks).astype(np.int64),
            day_caps=caps,
            arc_caps=self.arc_caps(arcs, ticks[arcs.a]),
        )
        out = np.zeros(keep.size, dtype=np.int64)
        out[keep] = net.arc_flows(net.solve(solver).flows)
        return out

    def _repair(
        self,
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
        d = self.d
        if not left.any():
            return arcs, units
        # units a machine on probation may still take of each demand, by pair
        n_m = max(1, self.layout.n_machines)
        self._cap_left = {}
        if self.any_cap:
            capped = self.job_cap[arcs.m] > 0
            pair = arcs.a[capped] * n_m + arcs.m[capped]
            for key, u in zip(pair.tolist(), units[capped].tolist(), strict=True):
                cap = int(self.job_cap[key % n_m])
                self._cap_left[key] = self._cap_left.get(key, cap) - u
        order = np.lexsort((unit_cost, arcs.a))
        starts = np.searchsorted(arcs.a[order], np.arange(d.quantity.size + 1))
        size = 1 if short else -1  # among equals: shortest first (more units an hour) or longest
        urgent = sorted(
            np.flatnonzero(left).tolist(), key=lambda i: (-d.unmet[i], size * d.ticks[i])
        )
        for a in urgent:
            picks = order[starts[a] : starts[a + 1]]
            self._place(a, arcs.take(picks), unit_cost[picks], left, slack, units, picks)
        extra: list[tuple[Arcs, Ints]] = []
        for a in [i for i in urgent if left[i] > 0]:
            machines, index = self.group_machines[d.group[a]], self.group_index[d.group[a]]
            k = 16
            while left[a] > 0 and index.size:
                k = min(k, index.size)
                near = machines[index.nearest(d.xyz[a : a + 1], k)[0]]
                # room for a unit by the demand's last usable day (earlier days may be
                # full: that is no reason to pass a machine by)
                near = near[slack[near, max(int(d.hi[a]), 1) - 1 :].min(axis=1) >= d.ticks[a]]
                cand = self.arcs_of_pairs(np.full(near.size, a), near, every_day=True)
                cost = self.unit_cost(cand)
                rank = np.argsort(cost, kind="stable")
                got = np.zeros(len(cand), dtype=np.int64)
                self._place(a, cand.take(rank), cost[rank], left, slack, got, None)
                if got.any():
                    extra.append((cand.take(rank).take(got > 0), got[got > 0]))
                if k >= index.size:
                    break
                k *= 4
        for more, got in extra:
            arcs = arcs.plus(more)
            units = np.concatenate([units, got])
        return self.summed(arcs, units)

    def _place(
        self,
        a: int,
        arcs: Arcs,
        cost: Floats,
        left: Ints,
        slack: Ints,
        units: Ints,
        where: Ints | None,
    ) -> None:
        """Whole units of demand ``a`` on ``arcs`` (cheapest first) where time is left;
        ``units[where[j]]`` (or ``units[j]``) counts what arc j gets."""
        ticks = int(self.d.ticks[a])
        for j in range(len(arcs)):
            if left[a] == 0 or cost[j] >= self.d.unmet[a]:
                break
            m, day = int(arcs.m[j]), int(arcs.d[j])
            room = int(slack[m, day - 1 :].min()) // ticks
            take = min(room, int(left[a]))
            if self.job_cap[m] > 0:  # on probation: a bounded job per demand
                key = a * max(1, self.layout.n_machines) + m
                take = min(take, self._cap_left.get(key, int(self.job_cap[m])))
                if take > 0:
                    self._cap_left[key] = self._cap_left.get(key, int(self.job_cap[m])) - take
            if take > 0:
                slack[m, day - 1 :] -= take * ticks
                units[j if where is None else int(where[j])] += take
                left[a] -= take

    def polish(self, arcs: Arcs, unit_cost: Floats) -> tuple[Ints, Ints] | None:
        """Whole units over ``arcs`` by HiGHS's MIP (same time rows, in the network's
        ticks): (units per arc, unmet per demand), or None when it found nothing."""
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import coo_matrix

        from fabnet.planning.quiet import stdout_to_stderr

        d, n, n_d = self.d, len(arcs), self.d.quantity.size
        if n == 0:
            return None
        c = np.concatenate([unit_cost, d.unmet])
        cols = np.arange(n + n_d)
        eq = coo_matrix(
            (np.ones(n + n_d), (np.concatenate([arcs.a, np.arange(n_d)]), cols)),
            shape=(n_d, n + n_d),
        )
        # cumulative rows: arc j counts in machine m's rows for days d_j..horizon
        h = self.horizon
        span = h - arcs.d + 1
        rep = np.repeat(np.arange(n), span)
        day = arcs.d[rep] + (np.arange(rep.size) - np.repeat(np.cumsum(span) - span, span))
        row = arcs.m[rep] * h + (day - 1)
        ub = coo_matrix(
            (d.ticks[arcs.a][rep].astype(np.float64), (row, rep)),
            shape=(self.layout.n_machines * h, n + n_d),
        )
        with stdout_to_stderr():
            result = milp(
                c,
                constraints=[
                    LinearConstraint(eq.tocsr(), d.quantity, d.quantity),
                    LinearConstraint(ub.tocsr(), -np.inf, self.cum_ticks[:, 1:].ravel()),
                ],
                integrality=np.ones(n + n_d),
                bounds=Bounds(0, np.concatenate([self._arc_units(arcs), d.quantity])),
                options={"time_limit": self.options.polish_time_s, "mip_rel_gap": 1e-7},
            )
        if result.x is None:
            return None
        x = np.rint(result.x).astype(np.int64)
        return x[:n], x[n:]


def solve_model(
    model: TimeModel,
    solver: FlowSolver,
    stop: Stop,
    *,
    warm: tuple[Ints, Ints] | None = None,
    start: Arcs | None = None,
) -> Solution:
    """The restricted network, priced until nothing prices out or the bound is close."""
    opts = model.options
    if start is None:
        pa, pm = (model.room_candidates if opts.room_seed else model.candidates)(opts.k)
        if warm is not None and warm[0].size:
            pa, pm = np.concatenate([pa, warm[0]]), np.concatenate([pm, warm[1]])
        every_day = opts.room_seed or not opts.pricing
        arcs = model.arcs_of_pairs(pa, pm, every_day=every_day)
        if warm is not None and warm[0].size:
            arcs = arcs.plus(model.arcs_of_pairs(warm[0], warm[1], every_day=True))
        arcs = model.dedupe(arcs)
    else:
        arcs = start
    cost = model.unit_cost(arcs)
    keep = cost < model.d.unmet[arcs.a]  # an arc dearer than leaving the unit is never used
    arcs, cost = arcs.take(keep), cost[keep]
    bound = -math.inf
    rounds = 0
    history: list[float] = []  # the restricted LP of each round
    prices: Floats | None = None  # of the last network solved, once worked out
    while True:
        rounds += 1
        t0 = time.perf_counter()
        net = model.network(arcs, cost)
        result = net.solve(solver)
        prices = None
        lp = model.flow_cost(arcs, cost, result.flows, net)
        log.debug(
            "flow round %d: %d demands, %d arcs, %.2f s, objective %.2f",
            rounds,
            model.layout.n_demands,
            len(arcs),
            time.perf_counter() - t0,
            lp,
        )
        if stop() and rounds > 1:
            break
        history.append(lp)
        if tailed_off(history, opts):
            log.debug("flow round %d: the LP tails off, pricing stops", rounds)
            break
        prices = model.day_prices(net, result.flows)
        new, round_bound = model.price_out(arcs, cost, prices, exact=rounds >= opts.max_rounds)
        if math.isnan(round_bound) and not len(new) and not stop():
            # nothing near has time: search every capable machine, for the bound
            new, round_bound = model.price_out(arcs, cost, prices, exact=True)
        if not math.isnan(round_bound):
            bound = max(bound, round_bound)
        close = lp > 0 and (lp - bound) <= 0.25 * opts.gap_tolerance * lp
        if not opts.pricing or not len(new) or close or rounds >= opts.max_rounds or stop():
            break
        arcs = arcs.plus(new)
        cost = np.concatenate([cost, model.unit_cost(new)])
    if opts.whole_unit_arcs and opts.pricing and not stop():
        # pricing stopped when no arc was cheaper than a demand's cheapest one; the bound
        # counts every arc below what a unit is worth (a search as wide as a round's)
        if prices is None:  # the loop stopped before pricing its last network
            prices = model.day_prices(net, result.flows)
        _, worth_bound = model.price_out(arcs, cost, prices, exact=True, by_worth=True)
        bound = max(bound, worth_bound)
    return Solution(arcs, net, result.flows, lp, bound, rounds)


def tailed_off(history: list[float], opts: FlowOptions) -> bool:
    """True when the last ``tail_rounds`` rounds lowered the LP by at most ``tail_off`` of
    it (or of ``tail_off_of`` where that is larger) in all."""
    n = opts.tail_rounds
    if opts.tail_off <= 0 or len(history) <= n:
        return False
    scale = max(abs(history[-1]), opts.tail_off_of)
    return history[-1 - n] - history[-1] <= opts.tail_off * scale


def _assignments(model: TimeModel, arcs: Arcs, units: Ints, unit_cost: Floats) -> list[Assignment]:
    """One assignment per (line, machine, day), with when its last unit ends."""
    used = np.flatnonzero(units > 0)
    arcs, units = arcs.take(used), units[used]
    parts = model.parts(arcs)
    due = model.due_day(arcs.a, arcs.m, parts["km"])
    finish = _finish_days(model, arcs, units)
    remaining = [list(members) for members in model.d.members]
    out: list[Assignment] = []
    for j in np.lexsort((arcs.d, arcs.m, arcs.a)).tolist():
        a, m, day = int(arcs.a[j]), int(arcs.m[j]), int(arcs.d[j])
        supply = model.supplies[m]
        for line, take in _split(remaining[a], int(units[j])):
            out.append(
                Assignment(
                    line_id=line.line_id,
                    machine_id=supply.machine_id,
                    producer_id=supply.producer_id,
                    units=take,
                    distance_km=float(parts["km"][j]),
                    finish_s=float(finish[j]) * SECONDS_PER_DAY,
                    late=bool(day > due[j]),
                    production=float(parts["production"][j]) * take,
                    transport=float(parts["transport"][j]) * take,
                    co2=float(parts["co2"][j]) * take,
                    lateness=float(parts["lateness"][j]) * take,
                    risk=float(parts["risk"][j]) * take,
                    day=day,
                    transit_days=int(parts["transit_days"][j]),
                )
            )
    return out


def _split(members: list[tuple[Demand, int]], units: int) -> list[tuple[Demand, int]]:
    taken = []
    while units > 0 and members:
        line, left = members[0]
        take = min(left, units)
        taken.append((line, take))
        units -= take
        if take == left:
            members.pop(0)
        else:
            members[0] = (line, left - take)
    return taken


def _finish_days(model: TimeModel, arcs: Arcs, units: Ints) -> Floats:
    """Earliest due day first on each machine: the (fractional) day each arc's last unit
    ends. The network's cumulative day capacities make this meet every arc's day."""
    finish = np.zeros(len(arcs), dtype=np.float64)
    need = units * model.d.ticks[arcs.a]
    caps = model.day_caps
    current, day, used = -1, 0, 0
    for i in np.lexsort((arcs.a, arcs.d, arcs.m)).tolist():
        m = int(arcs.m[i])
        if m != current:
            current, day, used = m, 0, 0
        left = int(need[i])
        while day < model.horizon:
            room = int(caps[m, day]) - used
            if left <= room:
                used += left
                break
            left -= max(room, 0)
            day, used = day + 1, 0
        last = min(day, model.horizon - 1)
        finish[i] = last + used / max(int(caps[m, last]), 1)
    return finish


def unmet_of(
    problem: Problem, demands: Sequence[Demand], got: Sequence[Assignment], horizon: int = 0
) -> list[Unmet]:
    placed: dict[str, int] = defaultdict(int)
    for a in got:
        placed[a.line_id] += a.units
    window = problem.costs.late_window_days
    out = []
    for dem in demands:
        left = dem.units - placed[dem.line_id]
        if left <= 0:
            continue
        if deadline_day(dem.due_s) == 0 and window == 0:
            reason = "the deadline is within the first day and no late window is allowed"
        else:
            reason = why_unmet(problem, dem)
        out.append(Unmet(dem.line_id, left, reason))
    return out


def finish_plan(
    model: TimeModel,
    sol: Solution,
    solver: str,
    started: float,
    demands: Sequence[Demand],
    flow_solver: FlowSolver | None = None,
) -> Plan:
    saved, model.extra = model.extra, None
    cost = model.unit_cost(sol.arcs)
    best: tuple[float, Arcs, Ints, Floats] | None = None
    for how in (None, flow_solver) if flow_solver is not None else (None,):
        arcs, units, left = model.whole_units(sol, cost, how)
        arc_cost = model.unit_cost(arcs)
        total = float((units * arc_cost).sum() + (left * model.d.unmet).sum())
        if best is None or total < best[0]:
            best = (total, arcs, units, arc_cost)
    assert best is not None
    objective, arcs, units, cost = best
    bound = sol.bound
    opts = model.options
    if saved is None and flow_solver is not None and opts.sweep_classes:
        arcs, units, objective = model.sweep_classes(sol.arcs, arcs, units, flow_solver)
        cost = model.unit_cost(arcs)
    every = model.dedupe(arcs.plus(sol.arcs))  # the rounded arcs and all the priced ones
    if (
        saved is None
        and len(every) <= opts.polish_max_arcs
        and not (math.isfinite(bound) and objective - bound <= opts.gap_tolerance * objective)
    ):
        every_cost = model.unit_cost(every)
        polished = model.polish(every, every_cost)
        if polished is not None:
            better = float((polished[0] * every_cost).sum() + (polished[1] * model.d.unmet).sum())
            if better < objective - 1e-9:
                arcs, units, cost, objective = every, polished[0], every_cost, better
    if saved is None and opts.neighbourhood_s > 0:
        from fabnet.planning.mip_pool import cpus
        from fabnet.planning.neighbourhood import improve

        ticks = model.d.ticks
        lp_unmet = sol.net.unmet_flows(sol.flows) / ticks
        lp = (
            (sol.arcs, sol.net.arc_flows(sol.flows) / ticks[sol.arcs.a])
            if opts.above_lp_lines
            else None
        )
        enough = bound / (1.0 - opts.gap_tolerance) if math.isfinite(bound) else -math.inf
        # the lines above the LP get at most the time the plan took so far: a plan found
        # in seconds is not held up a minute for a few tenths of a per cent
        more_arcs, more = improve(
            model,
            arcs,
            units,
            lp_unmet,
            budget_s=opts.neighbourhood_s,
            lp=lp,
            enough=enough,
            above_lp_s=time.perf_counter() - started,
            workers=opts.neighbourhood_workers or cpus(),
        )
        if more is not units:  # some neighbourhood was planned again
            total = model.objective_of(more_arcs, more)
            if total < objective - 1e-9:
                arcs, units, objective = more_arcs, more, total
                cost = model.unit_cost(arcs)
                if flow_solver is not None and opts.sweep_classes:
                    # the neighbourhoods moved units of every class: each class again on
                    # the time the others now leave (medium: 1.108% -> 1.077% in 3 s)
                    arcs, units, objective = model.sweep_classes(sol.arcs, arcs, units, flow_solver)
                    cost = model.unit_cost(arcs)
    plan = plan_of(model, arcs, units, cost, solver, started, demands, bound)
    model.extra = saved
    stats = plan.stats
    return replace(
        plan,
        stats={
            "solve_s": stats["solve_s"],
            "objective": stats["objective"],
            "lp_objective": sol.lp_objective,
            **{k: stats[k] for k in ("lp_bound", "gap", "certified")},
            "arcs": float(len(sol.arcs)),
            "rounds": float(sol.rounds),
        },
    )


def plan_of(
    model: TimeModel,
    arcs: Arcs,
    units: Ints,
    cost: Floats,
    solver: str,
    started: float,
    demands: Sequence[Demand],
    bound: float,
) -> Plan:
    """The plan of whole ``units`` on ``arcs`` (``cost``: each arc's unit cost, no extra),
    its objective counted from its assignments and unmet units, its gap against ``bound``."""
    assignments = _assignments(model, arcs, units, cost)
    unmet = unmet_of(model.problem, demands, assignments)
    objective = sum(a.cost for a in assignments) + sum(
        u.units * model.costs.unmet_per_unit * (1 + model.priority_of[u.line_id]) for u in unmet
    )
    if math.isfinite(bound) and objective > 0:
        gap = max(0.0, (objective - bound) / objective)
    elif math.isfinite(bound):
        gap = 0.0
    else:
        gap = float("nan")
    return Plan(
        assignments=tuple(assignments),
        unmet=tuple(unmet),
        solver=solver,
        stats={
            "solve_s": time.perf_counter() - started,
            "objective": objective,
            "lp_bound": bound if math.isfinite(bound) else float("nan"),
            "gap": gap,
            "certified": float(gap == gap and gap <= model.options.gap_tolerance),
        },
    )


def solve_flow(
    problem: Problem,
    solver: FlowSolver,
    *,
    options: FlowOptions | None = None,
    stop: Stop = lambda: False,
    warm: Sequence[Assignment] = (),
    booked_s: Floats | None = None,
) -> Plan:
    """Plan ``problem``; ``warm`` (e.g. a greedy plan's assignments) seeds the candidates;
    ``booked_s`` is machine time already promised by each day (``TimeModel``)."""
    options = options or FlowOptions()
    started = time.perf_counter()
    demands = [dem for dem in problem.demands if dem.units > 0]
    model = TimeModel(problem, demands, options, booked_s=booked_s)
    sol = solve_model(model, solver, stop, warm=model.pairs_of(warm))
    return finish_plan(model, sol, "flow", started, demands, solver)


__all__ = ["FlowOptions", "FlowSolver", "solve_flow"]

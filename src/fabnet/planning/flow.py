"""The flow planner: exact min-cost flow over time buckets, priced to optimality.

1. Identical demand (same place, deadline day, capability, priority) is merged.
2. Each demand starts with its nearest capable machines (a KD-tree per capability),
   widened until their capacity covers ``margin`` times the demand.
3. The restricted network is solved exactly (a ``FlowSolver``: OR-Tools in production).
4. Pricing: the optimal flow's node potentials price every capable machine that was left
   out; a distance bound from the potentials limits the search to a ball around each
   demand, so all pairs are never enumerated. Arcs with negative reduced cost are added
   and the network solved again, until none is left: the plan is then optimal over every
   capable machine (``certified``). Before that, ``lp_bound`` = objective + sum of each
   demand's units times its most negative reduced cost is a valid lower bound.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fabnet.planning.candidates import SphereIndex, great_circle_km, unit_vectors
from fabnet.planning.network import FlowSolver, Ints, Layout, Network, build
from fabnet.planning.plan import Assignment, Plan, Unmet
from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem
from fabnet.planning.residual import potentials
from fabnet.planning.unmet import why_unmet

Floats = NDArray[np.float64]
Stop = Callable[[], bool]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlowOptions:
    k: int = 8  # first candidates per demand
    margin: float = 3.0  # widen until candidates can make margin x the demand
    widen: bool = True
    aggregate: bool = True  # merge identical demand
    pricing: bool = True  # price out every capable machine (certify optimality)
    max_rounds: int = 30
    max_new_per_demand: int = 32
    gap_tolerance: float = 1e-3  # stop pricing once (objective - bound) / objective <= this
    warm_start: bool = True  # seed the candidates with the greedy plan's pairs


@dataclass
class _Demands:
    """Merged demand: arrays by index, and which lines (with units) each merges."""

    xyz: Floats
    quantity: Ints
    on_day: Ints
    late_day: Ints
    late_days: Ints  # days late charged on the late arc
    priority: Ints
    per_km: Floats  # transport + CO2 cost per unit and km
    mass_g: Floats  # a unit's mass (the material part of its price)
    group: Ints  # capability group
    members: list[list[tuple[Demand, int]]]


@dataclass
class _Round:
    objective: float
    bound: float
    certified: bool
    arcs: int


@dataclass
class FlowStats:
    rounds: list[_Round] = field(default_factory=list)

    @property
    def last(self) -> _Round:
        return self.rounds[-1]


class ClassModel:
    """One unit-time class of demand (lines whose unit takes the same machine time)."""

    def __init__(
        self,
        problem: Problem,
        demands: list[Demand],
        unit_s: float,
        extra_busy_s: Floats,
        options: FlowOptions,
    ) -> None:
        self.problem = problem
        self.options = options
        self.costs = problem.costs
        self.horizon = max(1, int(problem.horizon_s // SECONDS_PER_DAY))
        supplies = problem.supplies
        self.supplies = supplies
        m = len(supplies)
        lat = np.array([s.place.lat for s in supplies], dtype=np.float64).reshape(m)
        lon = np.array([s.place.lon for s in supplies], dtype=np.float64).reshape(m)
        self.m_xyz = unit_vectors(lat, lon) if m else np.empty((0, 3))
        speed = np.array([s.speed_factor for s in supplies], dtype=np.float64)
        spd = np.array([s.seconds_per_day for s in supplies], dtype=np.float64)
        busy = np.array([s.busy_s for s in supplies], dtype=np.float64) + extra_busy_s
        self.machine_s_per_unit = unit_s / np.maximum(speed, 1e-9)
        self.per_day = np.floor(spd * problem.load_factor / self.machine_s_per_unit + 1e-9)
        busy_units = np.ceil(busy / self.machine_s_per_unit - 1e-9)
        days = np.arange(0, self.horizon + 1, dtype=np.float64)
        cum = np.maximum(0.0, np.outer(self.per_day, days) - busy_units[:, None])
        self.day_caps = np.diff(cum, axis=1).astype(np.int64)  # (machines, horizon)
        rel = np.array([s.reliability for s in supplies], dtype=np.float64)
        price = np.array([s.price_per_unit for s in supplies], dtype=np.float64)
        per_s = np.array([s.machine_per_s for s in supplies], dtype=np.float64)
        # the machine-time part of the price is fixed per machine within a unit-time class;
        # the material part depends on the line's mass (pair_parts)
        self.production = price + per_s * self.machine_s_per_unit
        self.material_per_g = np.array([s.material_per_g for s in supplies], dtype=np.float64)
        self.risk = (1.0 - rel) * self.costs.risk_per_unit
        self._groups(demands)
        self.d = self._merge(demands)
        self.layout = Layout(len(self.d.quantity), m, self.horizon)
        # per-unit cost added to a pair (the fixed-charge model's linearisation)
        self.extra: Callable[[Ints, Ints], Floats] | None = None

    # -- demand and capability groups ------------------------------------------------
    def _groups(self, demands: list[Demand]) -> None:
        keys: dict[tuple[object, ...], int] = {}
        self.group_of: dict[str, int] = {}
        self.group_machines: list[Ints] = []
        self.group_index: list[SphereIndex] = []
        self.group_sample: list[Demand] = []
        for dem in demands:
            key = (dem.process, dem.material, dem.size, dem.excluded_machines)
            if key not in keys:
                keys[key] = len(keys)
                members = np.array(
                    [
                        i
                        for i, s in enumerate(self.supplies)
                        if s.can_make(dem) and self.per_day[i] > 0
                    ],
                    dtype=np.int64,
                )
                self.group_machines.append(members)
                self.group_index.append(SphereIndex(self.m_xyz[members]))
                self.group_sample.append(dem)
            self.group_of[dem.line_id] = keys[key]

    def _merge(self, demands: list[Demand]) -> _Demands:
        window = self.costs.late_window_days
        buckets: dict[tuple[object, ...], list[Demand]] = defaultdict(list)
        for dem in demands:
            on = int(min(self.horizon, max(0, dem.due_s // SECONDS_PER_DAY)))
            key: tuple[object, ...] = (
                (
                    dem.destination.lat,
                    dem.destination.lon,
                    on,
                    self.group_of[dem.line_id],
                    dem.priority,
                    dem.unit_mass_g,
                )
                if self.options.aggregate
                else (dem.line_id,)
            )
            buckets[key].append(dem)
        members = [[(dem, dem.units) for dem in group] for group in buckets.values()]
        first = [group[0] for group in buckets.values()]
        n = len(first)
        on_day = np.array(
            [int(min(self.horizon, max(0, f.due_s // SECONDS_PER_DAY))) for f in first],
            dtype=np.int64,
        ).reshape(n)
        late_day = np.where(on_day < self.horizon, np.minimum(on_day + window, self.horizon), 0)
        late_day = np.where(window > 0, late_day, 0).astype(np.int64)
        per_km = np.array([sum(self.costs.per_km(f.unit_mass_g)) for f in first]).reshape(n)
        lat = np.array([f.destination.lat for f in first], dtype=np.float64).reshape(n)
        lon = np.array([f.destination.lon for f in first], dtype=np.float64).reshape(n)
        return _Demands(
            xyz=unit_vectors(lat, lon) if n else np.empty((0, 3)),
            quantity=np.array([sum(u for _, u in g) for g in members], dtype=np.int64).reshape(n),
            on_day=on_day,
            late_day=late_day,
            late_days=np.maximum(late_day - on_day, 0),
            priority=np.array([f.priority for f in first], dtype=np.int64).reshape(n),
            per_km=per_km,
            mass_g=np.array([f.unit_mass_g for f in first], dtype=np.float64).reshape(n),
            group=np.array([self.group_of[f.line_id] for f in first], dtype=np.int64).reshape(n),
            members=members,
        )

    # -- costs ---------------------------------------------------------------------------
    def pair_parts(self, a: Ints, m: Ints) -> dict[str, Floats]:
        km = great_circle_km(self.d.xyz[a], self.m_xyz[m])
        transport_km, co2_km = self.costs.transport_per_unit_km, self.d.per_km[a]
        transport = km * transport_km
        return {
            "km": km,
            "production": self.production[m] + self.material_per_g[m] * self.d.mass_g[a],
            "transport": transport,
            "co2": km * co2_km - transport,
            "risk": self.risk[m],
            "late": np.asarray(
                self.costs.late_per_unit_day * self.d.late_days[a] * (1 + self.d.priority[a]),
                dtype=np.float64,
            ),
        }

    def pair_costs(self, a: Ints, m: Ints) -> tuple[Ints, Ints]:
        parts = self.pair_parts(a, m)
        base = parts["production"] + parts["transport"] + parts["co2"] + parts["risk"]
        if self.extra is not None:
            base = base + self.extra(a, m)
        scale = self.costs.scale
        on = np.rint(base * scale).astype(np.int64)
        late = np.rint((base + parts["late"]) * scale).astype(np.int64)
        return on, late

    def unmet_costs(self) -> Ints:
        unit = self.costs.unmet_per_unit * (1 + self.d.priority)
        out: Ints = np.rint(unit * self.costs.scale).astype(np.int64)
        return out

    # -- candidates ------------------------------------------------------------------------
    def candidates(self, k: int) -> tuple[Ints, Ints]:
        pairs_a: list[Ints] = []
        pairs_m: list[Ints] = []
        for g, index in enumerate(self.group_index):
            rows = np.flatnonzero(self.d.group == g)
            if rows.size == 0 or index.size == 0:
                continue
            machines = self.group_machines[g]
            want = self.d.quantity[rows] * self.options.margin
            kk = min(k, index.size)
            pending = rows
            cum = np.cumsum(self.day_caps, axis=1)
            while pending.size:
                near = machines[index.nearest(self.d.xyz[pending], kk)]
                if not self.options.widen or kk >= index.size:
                    done = np.ones(pending.size, dtype=bool)
                else:
                    reach = np.maximum(self.d.late_day[pending], self.d.on_day[pending])
                    covered = cum[near, np.maximum(reach - 1, 0)[:, None]].sum(axis=1)
                    done = covered >= want[np.searchsorted(rows, pending)]
                pairs_a.append(np.repeat(pending[done], near.shape[1]))
                pairs_m.append(near[done].ravel())
                pending = pending[~done]
                kk = min(kk * 2, index.size)
        if not pairs_a:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(pairs_a), np.concatenate(pairs_m)

    def pairs_of(self, assignments: Sequence[Assignment]) -> tuple[Ints, Ints]:
        """(demand, machine) indexes of the assignments that concern this class."""
        demand_of = {d.line_id: a for a, g in enumerate(self.d.members) for d, _ in g}
        machine_of = {s.machine_id: i for i, s in enumerate(self.supplies)}
        pairs = [
            (demand_of[x.line_id], machine_of[x.machine_id])
            for x in assignments
            if x.line_id in demand_of and x.machine_id in machine_of
        ]
        if not pairs:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        arr = np.array(pairs, dtype=np.int64)
        return arr[:, 0], arr[:, 1]

    def capacity_by_horizon(self, m: Ints) -> Ints:
        out: Ints = self.day_caps[m].sum(axis=1)
        return out

    def network(self, pa: Ints, pm: Ints, late: NDArray[np.bool_] | None = None) -> Network:
        on, late_cost = self.pair_costs(pa, pm)
        return build(
            self.layout,
            quantity=self.d.quantity,
            on_day=self.d.on_day,
            late_day=self.d.late_day,
            pair_demand=pa,
            pair_machine=pm,
            on_cost=on,
            late_cost=late_cost,
            unmet_cost=self.unmet_costs(),
            day_caps=self.day_caps,
            late_mask=late,
        )

    def first_late_mask(self, pa: Ints) -> NDArray[np.bool_]:
        """Late arcs start only where on time is impossible; pricing adds the others."""
        return np.asarray(self.d.on_day[pa] == 0)

    # -- pricing ---------------------------------------------------------------------------
    def price(
        self, net: Network, flows: Ints, pa: Ints, pm: Ints, late: NDArray[np.bool_]
    ) -> tuple[Ints, Ints, NDArray[np.bool_], NDArray[np.bool_], float]:
        """Arcs with negative reduced cost: new pairs (with their late flag), existing
        pairs whose late arc should open, and the bound's correction (<= 0)."""
        dist = potentials(net.n_nodes, net.tails, net.heads, net.caps, net.costs, flows)
        lay = self.layout
        scale = self.costs.scale
        n_m = max(1, lay.n_machines)
        keys_have = pa * n_m + pm
        order = np.argsort(keys_have)
        have = keys_have[order]
        day_pot = dist[lay.n_demands : lay.sink].reshape(lay.n_machines, lay.horizon)
        fixed = (self.production + self.risk) * scale
        value = day_pot.max(axis=1) - fixed  # the most a machine's nodes can offer
        worst = np.zeros(lay.n_demands)
        new_parts: list[tuple[Ints, Ints, Floats, Floats]] = []
        open_late = np.zeros(pa.size, dtype=bool)
        for ca, cm in self._ball_candidates(dist, value):
            on, late_cost = self.pair_costs(ca, cm)
            on_day, late_day = self.d.on_day[ca], self.d.late_day[ca]
            rc_on = np.where(
                on_day > 0, on + dist[ca] - day_pot[cm, np.maximum(on_day, 1) - 1], np.inf
            )
            rc_late = np.where(
                late_day > 0,
                late_cost + dist[ca] - day_pot[cm, np.maximum(late_day, 1) - 1],
                np.inf,
            )
            keys = ca * n_m + cm
            pos = np.minimum(np.searchsorted(have, keys), max(have.size - 1, 0))
            present = (have[pos] == keys) if have.size else np.zeros(keys.size, dtype=bool)
            where = order[pos]  # index of the pair when present
            # arcs not in the network: new pairs, and the late arcs of existing pairs
            missing_on = np.where(present, np.inf, rc_on)
            late_open = np.where(present, late[where], False)
            missing_late = np.where(late_open, np.inf, rc_late)
            rc = np.minimum(missing_on, missing_late)
            neg = rc < -1e-6
            if not neg.any():
                continue
            np.minimum.at(worst, ca[neg], rc[neg])
            grow = neg & present & (missing_late < -1e-6)
            open_late[where[grow]] = True
            fresh = neg & ~present
            new_parts.append((ca[fresh], cm[fresh], rc[fresh], rc_late[fresh]))
        correction = float((self.d.quantity * worst).sum())
        empty = np.empty(0, np.int64)
        if not new_parts:
            return empty, empty, np.zeros(0, dtype=bool), open_late, correction / scale
        na = np.concatenate([p[0] for p in new_parts])
        nm = np.concatenate([p[1] for p in new_parts])
        nrc = np.concatenate([p[2] for p in new_parts])
        nlate = np.concatenate([p[3] for p in new_parts])
        new = np.lexsort((nrc, na))  # keep each demand's most negative few
        first = np.r_[0, np.flatnonzero(np.diff(na[new])) + 1]
        rank = np.arange(new.size) - np.repeat(first, np.diff(np.r_[first, new.size]))
        new = new[rank < self.options.max_new_per_demand]
        return na[new], nm[new], nlate[new] < -1e-6, open_late, correction / scale

    def _ball_candidates(
        self, dist: Floats, value: Floats, budget: int = 2_000_000
    ) -> Iterator[tuple[Ints, Ints]]:
        """(demand, machine) pairs that might price out, in chunks of at most about
        ``budget`` pairs, so that memory stays flat however wide the balls are."""
        scale = self.costs.scale
        for g, index in enumerate(self.group_index):
            rows = np.flatnonzero(self.d.group == g)
            machines = self.group_machines[g]
            if rows.size == 0 or machines.size == 0:
                continue
            slack = float(value[machines].max()) - dist[rows]
            rows, slack = rows[slack > 0], slack[slack > 0]
            per_km = self.d.per_km[rows] * scale
            radius = np.where(per_km > 0, slack / np.maximum(per_km, 1e-12), np.inf)
            step = max(1, budget // max(1, machines.size))
            for lo in range(0, rows.size, step):
                chunk = rows[lo : lo + step]
                found = index.within_many(self.d.xyz[chunk], radius[lo : lo + step])
                lengths = np.array([len(f) for f in found], dtype=np.int64)
                if lengths.sum() == 0:
                    continue
                flat = np.concatenate([np.asarray(f, np.int64) for f in found])
                yield np.repeat(chunk, lengths), machines[flat]


@dataclass
class ClassSolution:
    model: ClassModel
    pa: Ints
    pm: Ints
    flows: Ints
    net: Network
    objective: float
    bound: float
    certified: bool


def solve_class(
    model: ClassModel, solver: FlowSolver, stop: Stop, *, warm: tuple[Ints, Ints] | None = None
) -> ClassSolution:
    pa, pm = model.candidates(model.options.k)
    if warm is not None and warm[0].size:
        keys = np.unique(
            np.concatenate(
                [pa * model.layout.n_machines + pm, warm[0] * model.layout.n_machines + warm[1]]
            )
        )
        pa, pm = keys // model.layout.n_machines, keys % model.layout.n_machines
    late = model.first_late_mask(pa) if model.options.pricing else np.ones(pa.size, dtype=bool)
    bound = -np.inf
    certified = False
    for _ in range(max(1, model.options.max_rounds)):
        net = model.network(pa, pm, late)
        t0 = time.perf_counter()
        result = net.solve(solver)
        objective = result.cost / model.costs.scale
        log.debug(
            "flow round: %d demands, %d pairs (%d late arcs), %.2f s, objective %.2f",
            model.layout.n_demands,
            pa.size,
            int(late.sum()),
            time.perf_counter() - t0,
            objective,
        )
        if not model.options.pricing or stop():
            break
        new_a, new_m, new_late, open_late, correction = model.price(net, result.flows, pa, pm, late)
        bound = max(bound, objective + correction)
        if new_a.size == 0 and not open_late.any():
            bound, certified = objective, True
            break
        if objective > 0 and (objective - bound) / objective <= model.options.gap_tolerance:
            certified = True  # the bound covers every capable machine
            break
        late = np.concatenate([late | open_late, new_late])
        pa, pm = np.concatenate([pa, new_a]), np.concatenate([pm, new_m])
    return ClassSolution(
        model,
        pa,
        pm,
        result.flows,
        net,
        objective,
        float(bound) if np.isfinite(bound) else float("nan"),
        certified,
    )


def solve_flow(
    problem: Problem,
    solver: FlowSolver,
    *,
    options: FlowOptions | None = None,
    stop: Stop = lambda: False,
    warm: Sequence[Assignment] = (),
) -> Plan:
    """Plan ``problem``; ``warm`` (e.g. a greedy plan's assignments) seeds the candidates."""
    options = options or FlowOptions()
    started = time.perf_counter()
    classes: dict[float, list[Demand]] = defaultdict(list)
    for dem in problem.demands:
        if dem.units > 0:
            classes[dem.unit_time_s].append(dem)
    order = sorted(classes, key=lambda t: (-max(d.priority for d in classes[t]), t))
    extra_busy = np.zeros(len(problem.supplies), dtype=np.float64)
    assignments: list[Assignment] = []
    unmet: list[Unmet] = []
    objective = bound = 0.0
    certified = True
    arcs = 0
    for unit_s in order:
        model = ClassModel(problem, classes[unit_s], unit_s, extra_busy, options)
        sol = solve_class(model, solver, stop, warm=model.pairs_of(warm or ()))
        objective += sol.objective
        bound += sol.bound
        certified = certified and sol.certified
        arcs += sol.pa.size + sol.net.late_pairs.size
        got, used_units = extract(sol)
        assignments.extend(got)
        extra_busy += used_units * model.machine_s_per_unit
        unmet.extend(unmet_of(problem, classes[unit_s], got))
    if not np.isfinite(bound):
        gap = float("nan")
    else:
        gap = max(0.0, (objective - bound) / abs(objective)) if objective else 0.0
    return Plan(
        assignments=tuple(assignments),
        unmet=tuple(unmet),
        solver="flow",
        stats={
            "solve_s": time.perf_counter() - started,
            "objective": objective,
            "lp_bound": bound,
            "gap": gap,
            "certified": float(certified),
            "arcs": float(arcs),
        },
    )


def extract(sol: ClassSolution) -> tuple[list[Assignment], Floats]:
    """Assignments per (line, machine) from the flows; units per machine."""
    model, net = sol.model, sol.net
    on_flow, late_flow = net.pair_flows(sol.flows)
    total = on_flow + late_flow
    used = np.flatnonzero(total > 0)
    units_on_machine = np.zeros(len(model.supplies), dtype=np.float64)
    np.add.at(units_on_machine, sol.pm[used], total[used])
    parts = model.pair_parts(sol.pa[used], sol.pm[used])
    finish = _finish_days(model, sol.pa[used], sol.pm[used], on_flow[used], late_flow[used])
    remaining = [list(members) for members in model.d.members]
    out: list[Assignment] = []
    for j, idx in enumerate(used.tolist()):
        a, m = int(sol.pa[idx]), int(sol.pm[idx])
        units, late_units = int(total[idx]), int(late_flow[idx])
        supply = model.supplies[m]
        for line, take in _split(remaining[a], units):
            share = take / units
            out.append(
                Assignment(
                    line_id=line.line_id,
                    machine_id=supply.machine_id,
                    producer_id=supply.producer_id,
                    units=take,
                    distance_km=float(parts["km"][j]),
                    finish_s=float(finish[j]) * SECONDS_PER_DAY,
                    late=late_units > 0,
                    production=float(parts["production"][j]) * take,
                    transport=float(parts["transport"][j]) * take,
                    co2=float(parts["co2"][j]) * take,
                    lateness=float(parts["late"][j]) * late_units * share,
                    risk=float(parts["risk"][j]) * take,
                    day=int(np.ceil(finish[j])),
                )
            )
    del net
    return out, units_on_machine


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


def _finish_days(model: ClassModel, pa: Ints, pm: Ints, on: Ints, late: Ints) -> Floats:
    """Earliest-deadline-first on each machine, with each pair's units due where the flow
    put them (on-time units by the line's deadline day, late ones by the end of its late
    window): the (fractional) day the pair's last unit ends. The flow's cumulative day
    capacities make this schedule meet every one of those due days."""
    finish = np.zeros(pa.size, dtype=np.float64)
    parts: list[tuple[int, int, int, float]] = []  # machine, due day, pair, units
    for i in range(pa.size):
        if on[i] > 0:
            parts.append((int(pm[i]), int(model.d.on_day[pa[i]]), i, float(on[i])))
        if late[i] > 0:
            parts.append((int(pm[i]), int(model.d.late_day[pa[i]]), i, float(late[i])))
    parts.sort(key=lambda p: (p[0], p[1], p[2]))
    caps = model.day_caps
    current_m, day, used = -1, 0, 0.0
    for m, _due, i, units in parts:
        if m != current_m:
            current_m, day, used = m, 0, 0.0
        left = units
        while left > 0 and day < model.horizon:
            room = caps[m, day] - used
            if room <= 0:
                day, used = day + 1, 0.0
                continue
            step = min(room, left)
            used += step
            left -= step
        cap_day = max(float(caps[m, min(day, model.horizon - 1)]), 1.0)
        finish[i] = max(finish[i], min(day, model.horizon - 1) + used / cap_day)
    return finish


def unmet_of(problem: Problem, demands: list[Demand], got: list[Assignment]) -> list[Unmet]:
    placed: dict[str, int] = defaultdict(int)
    for a in got:
        placed[a.line_id] += a.units
    out = []
    for dem in demands:
        left = dem.units - placed[dem.line_id]
        if left > 0:
            out.append(Unmet(dem.line_id, left, why_unmet(problem, dem)))
    return out


__all__ = ["FlowOptions", "FlowSolver", "solve_flow"]

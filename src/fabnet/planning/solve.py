"""Solvers behind one seam. The first: greedy nearest capable machine with capacity.

Greedy takes lines by priority, then earliest deadline, and fills each from its nearest
capable machines, in the planner's model (day buckets, ``load_factor`` of each machine's
time): first with units that end by the line's deadline day, then (late) with units that
end within the late window after it. It is fast and never over-fills a machine, and it
stays as the baseline the optimising planner is measured against.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from fabnet.planning.candidates import SphereIndex, unit_vectors
from fabnet.planning.evaluate import COST_PARTS, parts_of
from fabnet.planning.flow import solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.network import FlowSolver
from fabnet.planning.plan import Assignment, Plan, Unmet
from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem, Supply, deadline_day
from fabnet.planning.steps import Steps
from fabnet.planning.unmet import why_unmet

Stop = Callable[[], bool]


def never() -> bool:
    return False


SOLVERS = ("flow", "greedy")


def solve(
    problem: Problem,
    *,
    stop: Stop = never,
    seed: int = 0,
    solver: str = "greedy",
    flow_solver: FlowSolver | None = None,
    options: FlowOptions | None = None,
) -> Plan:
    """Solve ``problem`` with ``solver``: "flow" (min-cost flow priced over every capable
    machine, whole units, a lower bound and the gap to it; needs ``flow_solver``) or
    "greedy" (the baseline). ``stop`` is polled between steps;
    greedy is deterministic (``seed`` is kept for solvers that sample); the flow planner
    is too unless time cuts a step short: ``stop``, or the neighbourhood MIPs' time limits
    and budget (``FlowOptions.neighbourhood_s``), which a loaded machine reaches sooner."""
    if solver == "greedy":
        return _Greedy(problem, stop, seed).run()
    if solver == "flow":
        if flow_solver is None:
            raise ValueError("the flow planner needs a flow_solver (e.g. OrToolsFlow())")
        opts = options or FlowOptions()
        warm: tuple[Assignment, ...] = ()
        pairs = len(problem.demands) * len(problem.supplies)
        steps = Steps()
        if opts.pricing and pairs > opts.room_seed_pairs:
            # the first pairs are machines with room (greedy would take minutes)
            opts = replace(
                opts,
                room_seed=True,
                margin=opts.room_margin,
                max_new_per_demand=opts.room_new_per_demand,
            )
        elif opts.pricing and opts.warm_start:
            warm = _Greedy(problem, stop, seed).run().assignments
            steps.done("greedy", f"{len(warm)} assignments seed the first network")
        return solve_flow(problem, flow_solver, options=opts, stop=stop, warm=warm, steps=steps)
    raise ValueError(f"unknown solver {solver!r}; known: {', '.join(SOLVERS)}")


@dataclass
class _Load:
    supply: Supply
    used_s: float

    def finish_day_s(self, extra_s: float, share: float = 1.0) -> float:
        """When (seconds from start) the machine ends ``extra_s`` more work after its load,
        when ``share`` of each day's time may be promised."""
        per_day = self.supply.seconds_per_day * share
        return (self.used_s + extra_s) / per_day * SECONDS_PER_DAY

    def units_until(self, until_s: float, unit_s: float, share: float = 1.0) -> int:
        room = self.supply.capacity_s(until_s) * share - self.used_s
        return max(0, int(room // unit_s + 1e-9))


class _Greedy:
    def __init__(self, problem: Problem, stop: Stop, seed: int) -> None:
        self.problem = problem
        self.stop = stop
        self.seed = seed
        self.loads = {s.machine_id: _Load(s, s.busy_s) for s in problem.supplies}
        self._groups: dict[tuple[object, ...], tuple[list[_Load], SphereIndex]] = {}
        self._min_unit_s = min((d.unit_time_s for d in problem.demands), default=1.0)
        self._full_in: dict[tuple[object, ...], int] = {}
        self._member_of: dict[str, set[tuple[object, ...]]] = defaultdict(set)

    def run(self) -> Plan:
        started = time.perf_counter()
        assignments: list[Assignment] = []
        unmet: list[Unmet] = []
        order = sorted(self.problem.demands, key=lambda d: (-d.priority, d.due_s, d.line_id))
        for demand in order:
            if demand.units == 0:
                continue
            if self.stop():
                unmet.append(Unmet(demand.line_id, demand.units, "planning stopped early"))
                continue
            placed, reason = self._place(demand)
            assignments.extend(placed)
            left = demand.units - sum(a.units for a in placed)
            if left:
                unmet.append(Unmet(demand.line_id, left, reason))
        return Plan(
            assignments=tuple(assignments),
            unmet=tuple(unmet),
            solver="greedy",
            stats={"solve_s": time.perf_counter() - started},
        )

    def _full(self, load: _Load) -> bool:
        """No room left within the horizon for even the shortest unit of the problem."""
        unit_s = self._min_unit_s / load.supply.speed_factor
        return load.units_until(self.problem.horizon_s, unit_s) == 0

    def _group(self, demand: Demand) -> tuple[list[_Load], SphereIndex]:
        key = (demand.process, demand.material, demand.size, demand.excluded_machines)
        found = self._groups.get(key)
        if found is not None and self._full_in[key] * 2 > len(found[0]):
            found = None  # most are full: rebuild the index over those with room
        if found is None:
            loads = [
                load
                for load in self.loads.values()
                if load.supply.can_make(demand) and not self._full(load)
            ]
            xyz = (
                unit_vectors(
                    np.array([ld.supply.place.lat for ld in loads], dtype=np.float64),
                    np.array([ld.supply.place.lon for ld in loads], dtype=np.float64),
                )
                if loads
                else np.empty((0, 3))
            )
            found = (loads, SphereIndex(xyz))
            self._groups[key] = found
            self._full_in[key] = 0
            for load in loads:
                self._member_of[load.supply.machine_id].add(key)
        return found

    def _nearest(self, demand: Demand, loads: list[_Load], index: SphereIndex) -> Iterator[_Load]:
        """Capable machines, nearest first (the KD-tree is asked for more as needed)."""
        point = unit_vectors(np.array([demand.destination.lat]), np.array([demand.destination.lon]))
        seen = 0
        k = 32
        while seen < len(loads):
            k = min(k, len(loads))
            order = index.nearest(point, k)[0]
            for i in order[seen:].tolist():
                yield loads[i]
            seen = k
            k *= 4

    def _place(self, demand: Demand) -> tuple[list[Assignment], str]:
        loads, index = self._group(demand)
        if not loads:
            if any(load.supply.can_make(demand) for load in self.loads.values()):
                return [], "not enough machine capacity within the planning horizon"
            return [], self._why_none(demand)
        # (machine, on time?) -> units, and when the machine's last such unit ends
        units_by: dict[tuple[str, bool], int] = {}
        ends_by: dict[tuple[str, bool], float] = {}
        touched: dict[str, _Load] = {}
        left = demand.units
        horizon = max(1, int(self.problem.horizon_s // SECONDS_PER_DAY))
        costs = self.problem.costs
        share = self.problem.load_factor
        due: dict[str, int] = {}  # machine -> the last day its units arrive on time
        for on_time in (True, False):
            for load in self._nearest(demand, loads, index):
                if left == 0:
                    break
                mid = load.supply.machine_id
                if mid not in due:
                    transit = costs.transit_days(load.supply.place.distance_km(demand.destination))
                    due[mid] = (
                        -(1 << 30)
                        if transit is None
                        else min(horizon, deadline_day(demand.due_s) - transit)
                    )
                until_day = due[mid] if on_time else min(due[mid] + costs.late_window_days, horizon)
                if until_day < 1:
                    continue
                unit_s = demand.unit_time_s / load.supply.speed_factor
                take = min(left, load.units_until(until_day * SECONDS_PER_DAY, unit_s, share))
                if load.supply.on_probation:  # a bounded job, on time only
                    given = units_by.get((load.supply.machine_id, True), 0)
                    take = min(take, load.supply.job_units_max - given) if on_time else 0
                if take:
                    load.used_s += take * unit_s
                    key = (load.supply.machine_id, on_time)
                    units_by[key] = units_by.get(key, 0) + take
                    ends_by[key] = load.finish_day_s(0.0, share)
                    touched[load.supply.machine_id] = load
                    left -= take
        capable = list(touched.values())
        for load in capable:
            if self._full(load):
                for group in self._member_of.pop(load.supply.machine_id, set()):
                    if group in self._full_in:
                        self._full_in[group] += 1
        placed = []
        for (machine_id, on_time), units in units_by.items():
            load = touched[machine_id]
            finish_s = ends_by[(machine_id, on_time)]
            day = max(1, math.ceil(finish_s / SECONDS_PER_DAY - 1e-9))
            km = load.supply.place.distance_km(demand.destination)
            made = Assignment(
                line_id=demand.line_id,
                machine_id=machine_id,
                producer_id=load.supply.producer_id,
                units=units,
                distance_km=km,
                finish_s=finish_s,
                late=day > due[machine_id],
                day=day,
                transit_days=costs.transit_days(km) or 0,
            )
            parts = parts_of(self.problem, made, demand, load.supply)
            placed.append(replace(made, **{part: getattr(parts, part) for part in COST_PARTS}))
        reason = "" if left == 0 else why_unmet(self.problem, demand)
        return placed, reason

    def _why_none(self, demand: Demand) -> str:
        return why_unmet(self.problem, demand)

"""The vehicle routing problem with time windows, in integers, and its solver port.

Locations ``0 .. n_depots - 1`` are depots, the rest are clients (stops). Distances and
durations are integer matrices (the caller picks the unit: metres and seconds for real
stops; DIMACS tenths for the Gehring-Homberger instances). A route leaves its vehicle
type's depot no earlier than the depot opens, serves each client inside its time window
(waiting when early), and returns by the time the depot closes, within the type's shift
and distance limits and its capacity. ``evaluate`` recomputes all of it from the instance
alone, so a solver's own report is never taken on trust.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from fabnet.domain.errors import InvalidInput

Ints = NDArray[np.int64]
NO_LIMIT = (1 << 62) - 1


@dataclass(frozen=True, slots=True)
class VehicleType:
    count: int
    capacity: tuple[int, ...]  # one per load dimension (e.g. grams, millilitres)
    depot: int = 0
    shift: int = NO_LIMIT  # longest route duration
    max_distance: int = NO_LIMIT
    fixed_cost: int = 0
    unit_distance_cost: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InvalidInput(f"vehicle_types.{self.name or '?'}.count", "must be >= 1")
        if not self.capacity or min(self.capacity) < 0:
            raise InvalidInput(f"vehicle_types.{self.name or '?'}.capacity", "must be >= 0")


@dataclass(frozen=True)
class VrpInstance:
    n_depots: int
    distance: Ints  # (n, n)
    duration: Ints  # (n, n)
    demand: Ints  # (n, dimensions), 0 at depots
    tw_early: Ints  # (n,)
    tw_late: Ints  # (n,)
    service: Ints  # (n,)
    vehicle_types: tuple[VehicleType, ...]
    names: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    xy: NDArray[np.float64] | None = None  # (n, 2) planar coordinates, for decomposition

    def __post_init__(self) -> None:
        n = self.distance.shape[0]
        if self.distance.shape != (n, n) or self.duration.shape != (n, n):
            raise InvalidInput("distance", "distance and duration must be square and alike")
        for name in ("tw_early", "tw_late", "service"):
            if getattr(self, name).shape != (n,):
                raise InvalidInput(name, f"must have one value per location ({n})")
        if self.demand.ndim != 2 or self.demand.shape[0] != n:
            raise InvalidInput("demand", f"must have one row per location ({n})")
        if not 1 <= self.n_depots <= n:
            raise InvalidInput("n_depots", "at least one depot, within the locations")
        if (self.tw_early > self.tw_late).any():
            bad = int(np.flatnonzero(self.tw_early > self.tw_late)[0])
            raise InvalidInput(f"tw[{bad}]", "opens after it closes")
        for t in self.vehicle_types:
            if not 0 <= t.depot < self.n_depots:
                raise InvalidInput(f"vehicle_types.{t.name}.depot", "not a depot")
            if len(t.capacity) != self.demand.shape[1]:
                raise InvalidInput(f"vehicle_types.{t.name}.capacity", "one per load dimension")
        if not self.vehicle_types:
            raise InvalidInput("vehicle_types", "at least one vehicle type")

    @property
    def n(self) -> int:
        return int(self.distance.shape[0])

    @property
    def clients(self) -> range:
        return range(self.n_depots, self.n)


@dataclass(frozen=True)
class Route:
    vehicle_type: int
    visits: tuple[int, ...]  # client location indexes, in order


@dataclass(frozen=True)
class RoutingSolution:
    routes: tuple[Route, ...]
    seconds: float = 0.0
    solver: str = ""


@dataclass(frozen=True)
class Evaluation:
    distance: int
    cost: int  # distance x unit costs + fixed costs of the vehicles used
    feasible: bool
    problems: tuple[str, ...]
    route_distance: tuple[int, ...]


class VrpSolver(Protocol):
    """Solves a VrpInstance within ``time_limit_s`` (PyVRP is the real one)."""

    def __call__(
        self,
        instance: VrpInstance,
        *,
        time_limit_s: float,
        seed: int = 0,
        initial: RoutingSolution | None = None,
    ) -> RoutingSolution: ...


def evaluate(instance: VrpInstance, solution: RoutingSolution) -> Evaluation:
    """Distance, cost and every rule ``solution`` breaks, from the instance alone."""
    problems: list[str] = []
    seen = np.zeros(instance.n, dtype=np.int64)
    used = np.zeros(len(instance.vehicle_types), dtype=np.int64)
    total = cost = 0
    per_route: list[int] = []
    for r, route in enumerate(solution.routes):
        where = f"routes[{r}]"
        if not 0 <= route.vehicle_type < len(instance.vehicle_types):
            problems.append(f"{where}: no vehicle type {route.vehicle_type}")
            per_route.append(0)
            continue
        vt = instance.vehicle_types[route.vehicle_type]
        if not route.visits:
            per_route.append(0)
            continue
        used[route.vehicle_type] += 1
        bad = [v for v in route.visits if not instance.n_depots <= v < instance.n]
        if bad:
            problems.append(f"{where}: {bad[0]} is not a client")
            per_route.append(0)
            continue
        for v in route.visits:
            seen[v] += 1
        path = [vt.depot, *route.visits, vt.depot]
        dist = int(sum(int(instance.distance[a, b]) for a, b in itertools.pairwise(path)))
        load = instance.demand[list(route.visits)].sum(axis=0)
        for dim, (have, cap) in enumerate(zip(load.tolist(), vt.capacity, strict=True)):
            if have > cap:
                problems.append(f"{where}: load {have} over the capacity {cap} (dim {dim})")
        if dist > vt.max_distance:
            problems.append(f"{where}: {dist} over the distance limit {vt.max_distance}")
        late = _windows(instance, path, int(instance.tw_early[vt.depot]))
        if late:
            problems.append(f"{where}: {late}")
        else:
            duration = _shortest_duration(instance, path)
            if duration > vt.shift:
                problems.append(f"{where}: {duration} over the shift {vt.shift}")
        total += dist
        cost += dist * vt.unit_distance_cost + vt.fixed_cost
        per_route.append(dist)
    for k, vt in enumerate(instance.vehicle_types):
        if used[k] > vt.count:
            problems.append(f"vehicle type {k}: {used[k]} routes, {vt.count} vehicles")
    clients = seen[instance.n_depots :]
    if (clients == 0).any():
        missing = int(np.flatnonzero(clients == 0)[0]) + instance.n_depots
        problems.append(f"{int((clients == 0).sum())} clients not visited, e.g. {missing}")
    if (clients > 1).any():
        twice = int(np.flatnonzero(clients > 1)[0]) + instance.n_depots
        problems.append(f"client {twice} visited more than once")
    return Evaluation(total, cost, not problems, tuple(problems), tuple(per_route))


def _forward(instance: VrpInstance, path: list[int], depart: int) -> tuple[int, str]:
    """When the route ends leaving at ``depart`` (waiting where early), or why it cannot."""
    t = depart
    for a, b in itertools.pairwise(path):
        t += int(instance.service[a]) + int(instance.duration[a, b])
        t = max(t, int(instance.tw_early[b]))
        if t > int(instance.tw_late[b]):
            what = "the depot closes" if b == path[-1] else f"client {b}'s window closes"
            return t, f"arrives at {b} at {t}, after {what}"
    return t, ""


def _windows(instance: VrpInstance, path: list[int], depart: int) -> str:
    return _forward(instance, path, depart)[1]


def _shortest_duration(instance: VrpInstance, path: list[int]) -> int:
    """The route's duration leaving as late as it may (less waiting): a route's duration
    only falls as its departure moves later, so the latest feasible departure, from a
    backward pass over the windows, gives its shortest duration."""
    latest = int(instance.tw_late[path[-1]])
    for a, b in zip(path[-2::-1], path[:0:-1], strict=False):
        latest = min(
            int(instance.tw_late[a]),
            latest - int(instance.duration[a, b]) - int(instance.service[a]),
        )
    depart = max(int(instance.tw_early[path[0]]), latest)
    end, _ = _forward(instance, path, depart)
    return end - depart

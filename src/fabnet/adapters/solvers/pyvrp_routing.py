"""The routing port's real solver: PyVRP (hybrid genetic search / iterated local search
for rich VRPs; MIT licence), fed the instance's own integer matrices."""

from __future__ import annotations

import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from fabnet.routing.instance import NO_LIMIT, Route, RoutingSolution, VrpInstance, evaluate

if TYPE_CHECKING:
    import pyvrp

_BIG = np.iinfo(np.int64).max


def _limit(value: int) -> int:
    return _BIG if value >= NO_LIMIT else int(value)


class PyVrpSolver:
    """PyVRP under the VrpSolver port (one thread). A time limit makes a run depend on
    the machine's speed; ``iterations`` instead stops after that many iterations of the
    search whatever the time (the demo's "same seed, same run")."""

    name = "pyvrp"

    def __init__(self, iterations: int | None = None) -> None:
        if iterations is not None and iterations < 1:
            raise ValueError("iterations must be >= 1")
        self.iterations = iterations

    def data(self, instance: VrpInstance) -> pyvrp.ProblemData:
        import pyvrp

        locations = [pyvrp.Location(0.0, 0.0) for _ in range(instance.n)]
        depots = [
            pyvrp.Depot(
                i,
                tw_early=int(instance.tw_early[i]),
                tw_late=int(instance.tw_late[i]),
            )
            for i in range(instance.n_depots)
        ]
        clients = [
            pyvrp.Client(
                i,
                delivery=[int(q) for q in instance.demand[i]],
                service_duration=int(instance.service[i]),
                tw_early=int(instance.tw_early[i]),
                tw_late=int(instance.tw_late[i]),
            )
            for i in instance.clients
        ]
        types = [
            pyvrp.VehicleType(
                num_available=t.count,
                capacity=list(t.capacity),
                start_depot=t.depot,
                end_depot=t.depot,
                fixed_cost=t.fixed_cost,
                tw_early=int(instance.tw_early[t.depot]),
                tw_late=int(instance.tw_late[t.depot]),
                shift_duration=_limit(t.shift),
                max_distance=_limit(t.max_distance),
                unit_distance_cost=t.unit_distance_cost,
                name=t.name,
            )
            for t in instance.vehicle_types
        ]
        return pyvrp.ProblemData(
            locations,
            clients,
            depots,
            types,
            [cast(Any, np.ascontiguousarray(instance.distance, dtype=np.int64))],
            [cast(Any, np.ascontiguousarray(instance.duration, dtype=np.int64))],
        )

    def __call__(
        self,
        instance: VrpInstance,
        *,
        time_limit_s: float,
        seed: int = 0,
        initial: RoutingSolution | None = None,
    ) -> RoutingSolution:
        import pyvrp
        from pyvrp.stop import MaxIterations, MaxRuntime

        started = time.perf_counter()
        data = self.data(instance)
        warm = None
        client = pyvrp.ActivityType.CLIENT
        if initial is not None and initial.routes:
            warm = pyvrp.Solution(
                data,
                [
                    pyvrp.Route(
                        data,
                        [pyvrp.Activity(client, v - instance.n_depots) for v in r.visits],
                        r.vehicle_type,
                    )
                    for r in initial.routes
                    if r.visits
                ],
            )
        with warnings.catch_warnings():
            # an infeasible instance (a parcel no vehicle can take) makes PyVRP warn that
            # its penalties hit their bound; the checker reports what is infeasible
            warnings.simplefilter("ignore", pyvrp.exceptions.PenaltyBoundWarning)
            result = pyvrp.solve(
                data,
                stop=MaxIterations(self.iterations)
                if self.iterations is not None
                else MaxRuntime(max(0.01, time_limit_s - (time.perf_counter() - started))),
                seed=seed,
                collect_stats=False,
                display=False,
                initial_solution=warm,
            )
        routes = tuple(
            Route(
                int(r.vehicle_type()),
                tuple(
                    instance.n_depots + int(a.idx) for a in r if a.type == pyvrp.ActivityType.CLIENT
                ),
            )
            for r in result.best.routes()
        )
        return RoutingSolution(routes, time.perf_counter() - started, self.name)


def _solve_one(args: tuple[VrpInstance, float, int]) -> RoutingSolution:
    instance, limit, seed = args
    return PyVrpSolver()(instance, time_limit_s=limit, seed=seed)


def _part(instance: VrpInstance, members: np.ndarray) -> tuple[VrpInstance, np.ndarray]:
    """The sub-instance of the depots and ``members``, and its locations' indexes."""
    idx = np.concatenate([np.arange(instance.n_depots), members])
    grid = np.ix_(idx, idx)
    sub = replace(
        instance,
        distance=instance.distance[grid],
        duration=instance.duration[grid],
        demand=instance.demand[idx],
        tw_early=instance.tw_early[idx],
        tw_late=instance.tw_late[idx],
        service=instance.service[idx],
        names=(),
        xy=None,
    )
    return sub, idx


class DecomposedPyVrp:
    """PyVRP on every core: the stops split into as many sectors around the first depot
    as there are cores (equal counts, by angle), each sector solved on its own core for
    ``1 - polish`` of the budget, then the joined routes improved as one instance for the
    rest. A search per core on a part of the stops beats one search on all of them, and
    several seeds on all of them (measured in benchmarks/routing.py). Small instances, or
    ones without coordinates, go to one plain search."""

    name = "pyvrp-sectors"

    def __init__(
        self, workers: int | None = None, polish: float = 0.3, min_clients: int = 200
    ) -> None:
        self.workers = max(1, workers or len(os.sched_getaffinity(0)))
        self.polish = polish
        self.min_clients = min_clients

    def __call__(
        self,
        instance: VrpInstance,
        *,
        time_limit_s: float,
        seed: int = 0,
        initial: RoutingSolution | None = None,
    ) -> RoutingSolution:
        started = time.perf_counter()
        clients = np.arange(instance.n_depots, instance.n)
        if (
            self.workers == 1
            or initial is not None
            or instance.xy is None
            or clients.size < self.min_clients
        ):
            return PyVrpSolver()(instance, time_limit_s=time_limit_s, seed=seed, initial=initial)
        offset = instance.xy[clients] - instance.xy[0]
        order = clients[np.argsort(np.arctan2(offset[:, 1], offset[:, 0]), kind="stable")]
        parts = [_part(instance, p) for p in np.array_split(order, self.workers)]
        first = time_limit_s * (1 - self.polish) - (time.perf_counter() - started)
        jobs = [(sub, max(0.1, first), seed) for sub, _ in parts]
        with ProcessPoolExecutor(self.workers) as pool:
            found = list(pool.map(_solve_one, jobs))
        routes = tuple(
            Route(r.vehicle_type, tuple(int(idx[v]) for v in r.visits))
            for (_, idx), sol in zip(parts, found, strict=True)
            for r in sol.routes
            if r.visits
        )
        joined = RoutingSolution(routes, solver=self.name)
        used = np.bincount([r.vehicle_type for r in routes], minlength=len(instance.vehicle_types))
        fits = all(u <= t.count for u, t in zip(used, instance.vehicle_types, strict=True))
        left = time_limit_s - (time.perf_counter() - started)
        if left > 0.2:
            polished = PyVrpSolver()(
                instance, time_limit_s=left, seed=seed, initial=joined if fits else None
            )
            better = evaluate(instance, polished)
            ours = evaluate(instance, joined)
            if (not better.feasible, better.cost) <= (not ours.feasible, ours.cost):
                joined = polished
        return RoutingSolution(joined.routes, time.perf_counter() - started, self.name)

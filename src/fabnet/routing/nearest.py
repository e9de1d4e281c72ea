"""Nearest neighbour: the plainest routing heuristic, the fake behind the solver port.

Each vehicle in turn leaves its depot and goes to the nearest client it still has room
for (every load dimension) and can reach inside its window, until none is left or the
shift would end; clients nobody reached stay out of the solution (``evaluate`` says so).
It is for unit tests and a last resort; PyVRP is the solver (adapters/solvers).
"""

from __future__ import annotations

import time

import numpy as np

from fabnet.routing.instance import Route, RoutingSolution, VrpInstance


class NearestNeighbour:
    def __call__(
        self,
        instance: VrpInstance,
        *,
        time_limit_s: float,
        seed: int = 0,
        initial: RoutingSolution | None = None,
    ) -> RoutingSolution:
        started = time.perf_counter()
        left = set(range(instance.n_depots, instance.n))
        routes: list[Route] = []
        for k, vt in enumerate(instance.vehicle_types):
            for _ in range(vt.count):
                if not left:
                    break
                visits: list[int] = []
                load = np.zeros(instance.demand.shape[1], dtype=np.int64)
                here, t, dist = vt.depot, int(instance.tw_early[vt.depot]), 0
                while True:
                    best, best_d = -1, -1
                    for c in left:
                        d = int(instance.distance[here, c])
                        if best != -1 and d >= best_d:
                            continue
                        arrive = max(t + int(instance.duration[here, c]), int(instance.tw_early[c]))
                        back = (
                            arrive + int(instance.service[c]) + int(instance.duration[c, vt.depot])
                        )
                        if (
                            arrive > int(instance.tw_late[c])
                            or back - int(instance.tw_early[vt.depot]) > vt.shift
                            or dist + d + int(instance.distance[c, vt.depot]) > vt.max_distance
                            or ((load + instance.demand[c]) > np.array(vt.capacity)).any()
                        ):
                            continue
                        best, best_d = c, d
                    if best == -1:
                        break
                    t = max(t + int(instance.duration[here, best]), int(instance.tw_early[best]))
                    t += int(instance.service[best])
                    dist += best_d
                    load += instance.demand[best]
                    visits.append(best)
                    left.discard(best)
                    here = best
                if visits:
                    routes.append(Route(k, tuple(visits)))
        return RoutingSolution(tuple(routes), time.perf_counter() - started, "nearest-neighbour")

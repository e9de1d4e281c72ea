"""Read VRPLIB files (the format of CVRPLIB and the Gehring-Homberger VRPTW instances)
and their .sol files, with DIMACS rounding: Euclidean distances truncated to one decimal,
held as integer tenths."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from fabnet.domain.errors import InvalidInput
from fabnet.routing.instance import Route, RoutingSolution, VehicleType, VrpInstance

MAX_DIMENSION = 5_000  # two n x n int64 matrices: 400 MB at 5,000


def _sections(text: str) -> tuple[dict[str, str], dict[str, list[list[str]]]]:
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif ":" in line and current is None:
            key, _, value = line.partition(":")
            header[key.strip().upper()] = value.strip()
        elif current is not None:
            if ":" in line:  # a header after the sections
                key, _, value = line.partition(":")
                header[key.strip().upper()] = value.strip()
                current = None
            else:
                sections[current].append(line.split())
    return header, sections


def read_vrptw(path: Path | str, *, scale: int = 10) -> VrpInstance:
    """A VRPTW instance; distances and times in 1/``scale`` units, truncated (DIMACS)."""
    where = str(path)
    text = Path(path).read_text(encoding="utf-8")
    header, sec = _sections(text)
    try:
        n = int(header["DIMENSION"])
        capacity = int(header["CAPACITY"])
    except (KeyError, ValueError):
        raise InvalidInput(where, "needs DIMENSION and CAPACITY (whole numbers)") from None
    if not 2 <= n <= MAX_DIMENSION:
        raise InvalidInput(f"{where}: DIMENSION", f"must be in 2..{MAX_DIMENSION}")
    try:
        vehicles = int(header.get("VEHICLES", n))
        service_all = float(header.get("SERVICE_TIME", 0))
    except ValueError:
        raise InvalidInput(where, "VEHICLES and SERVICE_TIME must be numbers") from None
    if vehicles < 1 or capacity < 0 or not math.isfinite(service_all) or service_all < 0:
        raise InvalidInput(where, "VEHICLES >= 1, CAPACITY and SERVICE_TIME >= 0")
    try:
        coords = np.array([[float(r[1]), float(r[2])] for r in sec["NODE_COORD_SECTION"]])
        demand = np.array([int(r[1]) for r in sec["DEMAND_SECTION"]], dtype=np.int64)
        tw = np.array([[float(r[1]), float(r[2])] for r in sec["TIME_WINDOW_SECTION"]])
    except (KeyError, IndexError, ValueError) as exc:
        raise InvalidInput(where, f"bad or missing section: {exc}") from None
    if coords.shape[0] != n or demand.shape[0] != n or tw.shape[0] != n:
        raise InvalidInput(where, f"sections must have DIMENSION ({n}) rows")
    try:
        depots = [int(r[0]) for r in sec.get("DEPOT_SECTION", [["1"]]) if int(r[0]) > 0]
    except (IndexError, ValueError):
        raise InvalidInput(f"{where}: DEPOT_SECTION", "node numbers, ended by -1") from None
    if depots != [1]:
        raise InvalidInput(f"{where}: DEPOT_SECTION", "one depot, the first node")
    diff = coords[:, None, :] - coords[None, :, :]
    dist = np.floor(np.sqrt((diff**2).sum(axis=2)) * scale + 1e-9).astype(np.int64)
    service = np.full(n, round(service_all * scale), dtype=np.int64)
    service[0] = 0
    if "SERVICE_TIME_SECTION" in sec:
        service = np.array(
            [round(float(r[1]) * scale) for r in sec["SERVICE_TIME_SECTION"]], dtype=np.int64
        )
    return VrpInstance(
        n_depots=1,
        distance=dist,
        duration=dist.copy(),
        demand=demand[:, None],
        tw_early=np.round(tw[:, 0] * scale).astype(np.int64),
        tw_late=np.round(tw[:, 1] * scale).astype(np.int64),
        service=service,
        vehicle_types=(VehicleType(count=vehicles, capacity=(capacity,), name="vehicle"),),
        meta={"name": header.get("NAME", Path(path).stem), "scale": str(scale)},
        xy=coords,
    )


def read_solution(path: Path | str) -> tuple[RoutingSolution, float]:
    """A .sol file's routes (client numbers as in the instance, depot = 0) and cost."""
    routes: list[Route] = []
    cost = math.nan
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("Route"):
            visits = tuple(int(v) for v in line.partition(":")[2].split())
            routes.append(Route(0, visits))
        elif line.lower().startswith("cost"):
            cost = float(line.split()[1])
    return RoutingSolution(tuple(routes), solver="best known"), cost

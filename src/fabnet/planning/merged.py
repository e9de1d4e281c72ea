"""Demand merged for the time model (time_model.py): lines that no plan can tell apart
(one destination, deadline day, capability group, priority, unit mass and print time)
become one demand when ``aggregate`` is on, else each line is its own; arrays by index,
and which lines (with their units) each merged demand holds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from fabnet.planning.candidates import unit_vectors
from fabnet.planning.costs import CostParams
from fabnet.planning.network import Floats, Ints
from fabnet.planning.problem import Demand, deadline_day


@dataclass
class Merged:
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


def _buckets(
    demands: Sequence[Demand],
    group_of: Mapping[str, int],
    costs: CostParams,
    horizon: int,
    aggregate: bool,
) -> list[list[Demand]]:
    """The lines each merged demand holds, in the order first seen. With transit bands
    the deadline day is not cut at the horizon: transit counts back from it."""
    buckets: dict[tuple[object, ...], list[Demand]] = defaultdict(list)
    for dem in demands:
        day = deadline_day(dem.due_s)
        key: tuple[object, ...] = (
            (
                dem.destination.lat,
                dem.destination.lon,
                day if costs.transit else min(horizon, day),
                group_of[dem.line_id],
                dem.priority,
                dem.unit_mass_g,
                dem.unit_time_s,
            )
            if aggregate
            else (dem.line_id,)
        )
        buckets[key].append(dem)
    return list(buckets.values())


def merge(
    demands: Sequence[Demand],
    group_of: Mapping[str, int],
    costs: CostParams,
    horizon: int,
    *,
    aggregate: bool,
) -> Merged:
    """``demands`` merged (``group_of``: each line's capability group)."""
    groups = _buckets(demands, group_of, costs, horizon, aggregate)
    members = [[(dem, dem.units) for dem in group] for group in groups]
    first = [group[0] for group in groups]
    n = len(first)

    def col(values: Sequence[float]) -> Floats:
        return np.array(values, dtype=np.float64).reshape(n)

    def ints(values: Sequence[int]) -> Ints:
        return np.array(values, dtype=np.int64).reshape(n)

    raw_day = ints([deadline_day(f.due_s) for f in first])
    on_day = np.minimum(raw_day, horizon).astype(np.int64)
    priority = col([f.priority for f in first])
    unit_s = col([f.unit_time_s for f in first])
    xyz = col([f.destination.lat for f in first]), col([f.destination.lon for f in first])
    return Merged(
        xyz=unit_vectors(*xyz) if n else np.empty((0, 3)),
        quantity=ints([sum(u for _, u in g) for g in members]),
        ticks=np.ceil(unit_s - 1e-9).astype(np.int64),
        unit_s=unit_s,
        on_day=on_day,
        raw_day=raw_day,
        lo=np.maximum(on_day, 1),
        hi=np.minimum(on_day + costs.late_window_days, horizon).astype(np.int64),
        late_rate=(costs.late_per_unit_day * (1 + priority)).astype(np.float64),
        unmet=(costs.unmet_per_unit * (1 + priority)).astype(np.float64),
        per_km=col([sum(costs.per_km(f.unit_mass_g)) for f in first]),
        co2_per_km=col([costs.co2_per_km(f.unit_mass_g) for f in first]),
        mass_g=col([f.unit_mass_g for f in first]),
        group=ints([group_of[f.line_id] for f in first]),
        members=members,
    )

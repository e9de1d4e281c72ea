"""The result of a solve: assignments, unmet demand with reasons, and totals."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Assignment:
    line_id: str
    machine_id: str
    producer_id: str
    units: int
    distance_km: float
    finish_s: float  # estimated end of the last unit, seconds from the problem's start
    late: bool
    # cost parts of these units, minor units (evaluate.parts_of); nan: not stated, as in
    # a plan made by hand, or a plan file that leaves them out
    production: float = math.nan
    transport: float = math.nan
    co2: float = math.nan
    lateness: float = math.nan
    risk: float = math.nan
    day: int = 0  # day bucket (1 = the first day) in which the last unit ends
    transit_days: int = 0  # whole days on the way to the destination (costs.transit)

    @property
    def cost(self) -> float:
        return self.production + self.transport + self.co2 + self.lateness + self.risk


@dataclass(frozen=True, slots=True)
class Unmet:
    line_id: str
    units: int
    reason: str


@dataclass(frozen=True)
class Plan:
    assignments: tuple[Assignment, ...]
    unmet: tuple[Unmet, ...]
    solver: str
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def units_assigned(self) -> int:
        return sum(a.units for a in self.assignments)

    @property
    def units_unmet(self) -> int:
        return sum(u.units for u in self.unmet)

    @property
    def unit_km(self) -> float:
        """Units times producer-to-destination distance: the transport part of the cost."""
        return sum(a.units * a.distance_km for a in self.assignments)

    @property
    def units_late(self) -> int:
        return sum(a.units for a in self.assignments if a.late)

    def is_complete(self) -> bool:
        return not self.unmet


def gap_of(objective: float, bound: float) -> float:
    """How far above ``bound`` a plan costing ``objective`` is, as a share of its cost
    (never below 0); 0 for a plan that costs nothing against a finite bound (nothing to
    make), nan with no finite bound."""
    if not math.isfinite(bound):
        return math.nan
    if objective > 0:
        return max(0.0, (objective - bound) / objective)
    return 0.0

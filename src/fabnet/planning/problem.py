"""The planning problem: demand (order lines) and supply (machines), frozen."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fabnet.domain.capabilities import Process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Box, Place
from fabnet.planning.costs import CostParams

SECONDS_PER_DAY = 86_400.0


def deadline_day(due_s: float) -> int:
    """A line's deadline day: the last day bucket (1 = the first day after the problem's
    start) that ends by its deadline; 0 when none does (every unit is then late)."""
    return max(0, math.floor(due_s / SECONDS_PER_DAY))


@dataclass(frozen=True, slots=True)
class Demand:
    """Units of one order line still to be placed on machines."""

    line_id: str
    order_id: str
    process: Process
    material: str
    size: Box
    units: int
    unit_time_s: float  # reference print time of one unit
    due_s: float  # deadline, seconds from the problem's start
    destination: Place
    priority: int = 0
    excluded_machines: frozenset[str] = frozenset()  # machines that declined or failed it
    unit_mass_g: float = 0.0  # for the CO2 of transport

    def __post_init__(self) -> None:
        if self.units < 0:
            raise InvalidInput("units", "must be >= 0")
        if not (math.isfinite(self.unit_time_s) and self.unit_time_s > 0):
            raise InvalidInput("unit_time_s", "must be > 0")
        if not math.isfinite(self.due_s):
            raise InvalidInput("due_s", "must be a finite number of seconds")


@dataclass(frozen=True, slots=True)
class Supply:
    """One machine and the time it still has."""

    machine_id: str
    producer_id: str
    process: Process
    materials: frozenset[str]
    build_volume: Box
    place: Place
    seconds_per_day: float  # machine time available per day
    speed_factor: float = 1.0
    busy_s: float = 0.0  # machine time already promised to live jobs
    reliability: float = 1.0
    price_per_unit: float = 0.0  # production price of one unit, minor units
    # the producer's pricing rule, margin included (the same rule a quote prices with):
    material_per_g: float = 0.0  # minor units per gram of a unit's material
    machine_per_s: float = 0.0  # minor units per second of this machine's time
    # A machine on probation takes at most this many units of a line, all due by the
    # line's first usable day (no late work); 0: no limit.
    job_units_max: int = 0

    def __post_init__(self) -> None:
        if self.job_units_max < 0:
            raise InvalidInput("job_units_max", "must be >= 0 (0: no limit)")
        if not 0 < self.seconds_per_day <= SECONDS_PER_DAY:
            raise InvalidInput("seconds_per_day", f"must be in (0, {SECONDS_PER_DAY:.0f}]")
        if not 0 <= self.reliability <= 1:
            raise InvalidInput("reliability", "must be in [0, 1]")
        for name in ("price_per_unit", "material_per_g", "machine_per_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise InvalidInput(name, "must be a finite number >= 0")

    def can_make(self, demand: Demand) -> bool:
        return (
            self.process is demand.process
            and demand.material in self.materials
            and demand.size.fits_in(self.build_volume)
            and self.machine_id not in demand.excluded_machines
        )

    def unit_price(self, demand: Demand) -> float:
        """Production price of one unit of ``demand`` on this machine, minor units."""
        return (
            self.price_per_unit
            + self.machine_per_s * demand.unit_time_s / self.speed_factor
            + self.material_per_g * demand.unit_mass_g
        )

    @property
    def on_probation(self) -> bool:
        return self.job_units_max > 0

    def capacity_s(self, until_s: float) -> float:
        """Machine time available from the start until ``until_s`` (fluid model)."""
        return max(0.0, until_s) / SECONDS_PER_DAY * self.seconds_per_day


@dataclass(frozen=True)
class Problem:
    demands: tuple[Demand, ...]
    supplies: tuple[Supply, ...]
    horizon_s: float = 30 * SECONDS_PER_DAY  # no job may end later than this
    # Share of a machine's time before a deadline that may be promised: the rest is slack
    # for late answers, slow prints and re-prints. An operator's knob, not a measured value.
    load_factor: float = 0.85
    costs: CostParams = field(default_factory=CostParams)
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.horizon_s > 0:
            raise InvalidInput("horizon_s", "must be > 0")
        if not 0 < self.load_factor <= 1:
            raise InvalidInput("load_factor", "must be in (0, 1]")
        ids = [s.machine_id for s in self.supplies]
        if len(ids) != len(set(ids)):
            raise InvalidInput("supplies", "machine ids must be unique")
        lines = [d.line_id for d in self.demands]
        if len(lines) != len(set(lines)):
            raise InvalidInput("demands", "line ids must be unique")

"""Producers (facilities) and their machines."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from fabnet.domain.aggregate import Aggregate
from fabnet.domain.capabilities import MATERIALS, Process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.events import (
    MachineAdded,
    MachineCapacityFlagged,
    MachineGraduated,
    MachineQualified,
    MachineStatusChanged,
    ProducerRegistered,
)
from fabnet.domain.ids import MachineId, ProducerId
from fabnet.domain.pricing import PriceRule, ProducerClass
from fabnet.domain.reliability import Belief, Probation, ReliabilityPrior
from fabnet.domain.states import FacilityStatus, MachineStatus
from fabnet.domain.units import Box, Place

SECONDS_PER_DAY = 86_400
QUALIFICATION_FLAG = "test coupon out of tolerance"


@dataclass(kw_only=True)
class Producer(Aggregate):
    """A facility (OKW ``ManufacturingFacility``): a home maker, a shop or a factory."""

    id: ProducerId
    name: str
    place: Place
    address: str = ""
    status: FacilityStatus = FacilityStatus.ACTIVE
    certifications: tuple[str, ...] = ()
    external_ref: str = ""  # the id a record had where it came from (OKW import)
    jobs_done: int = 0
    jobs_failed: int = 0
    producer_class: ProducerClass = ProducerClass.MAKER
    pricing: PriceRule | None = None  # None: the hub's default rule for the class
    extra: dict[str, str] = field(default_factory=dict)
    belief: Belief = field(default_factory=Belief)  # learned: discounted outcomes

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("name", "must not be empty")

    @property
    def reliability(self) -> float:
        """Posterior mean success rate under the default prior, Beta(1, 1), with the
        outcomes as last discounted (domain/reliability.py); the planner's risk cost."""
        return self.belief.posterior(ReliabilityPrior()).mean

    @property
    def accepts_work(self) -> bool:
        return self.status is FacilityStatus.ACTIVE

    def registered(self, at: datetime) -> Producer:
        self.events.append(ProducerRegistered(at=at, producer_id=self.id, name=self.name))
        return self

    def record_outcome(
        self, *, succeeded: bool, at: datetime | None = None, prior: ReliabilityPrior | None = None
    ) -> None:
        if succeeded:
            self.jobs_done += 1
        else:
            self.jobs_failed += 1
        if at is not None:
            self.belief = self.belief.observe(succeeded, at, prior or ReliabilityPrior())


@dataclass(kw_only=True)
class Machine(Aggregate):
    """One machine of a producer. Capacity comes from its hours per day and speed."""

    id: MachineId
    producer_id: ProducerId
    name: str
    process: Process
    make: str = ""
    model: str = ""
    build_volume: Box
    materials: tuple[str, ...]  # what it can work now (loaded or stocked)
    nozzle_mm: float | None = None
    hours_per_day: float = 20.0  # hours a day the owner lets it run
    speed_factor: float = 1.0  # 1.0 = as fast as the reference machine of a design's estimate
    status: MachineStatus = MachineStatus.IDLE
    event_seq: int = 0  # the last agent event applied (events come numbered per machine)
    unreachable: bool = False  # set offline by the hub for missed heartbeats
    slow_runs: int = 0  # jobs in a row that took far longer than planned
    capacity_flag: str = ""  # why its declared capacity is in doubt ("" = not flagged)
    belief: Belief = field(default_factory=Belief)  # learned: discounted outcomes
    probation: Probation | None = None  # on probation, with its terms and jobs left

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("name", "must not be empty")
        for material in self.materials:
            if material not in MATERIALS[self.process]:
                raise InvalidInput(
                    "materials", f"{material!r} is not a {self.process.value} material"
                )
        if not (math.isfinite(self.hours_per_day) and 0 < self.hours_per_day <= 24):
            raise InvalidInput("hours_per_day", "must be in (0, 24]")
        if not (math.isfinite(self.speed_factor) and 0 < self.speed_factor <= 100):
            raise InvalidInput("speed_factor", "must be in (0, 100]")
        if self.nozzle_mm is not None and not (0 < self.nozzle_mm <= 10):
            raise InvalidInput("nozzle_mm", "must be in (0, 10] mm")
        for axis in ("x_mm", "y_mm", "z_mm"):
            if self.status is MachineStatus.UNVERIFIED:
                break  # its producer has not said yet
            if not getattr(self.build_volume, axis) > 0:
                raise InvalidInput(f"build_volume_mm.{axis[0]}", "a machine builds something: > 0")

    def added(self, at: datetime) -> Machine:
        self.events.append(
            MachineAdded(
                at=at, machine_id=self.id, producer_id=self.producer_id, process=self.process
            )
        )
        return self

    @property
    def available(self) -> bool:
        return self.status in (MachineStatus.IDLE, MachineStatus.BUSY)

    def can_make(self, process: Process, material: str, size: Box) -> bool:
        return (
            self.process is process
            and material in self.materials
            and size.fits_in(self.build_volume)
        )

    def units_per_day(self, print_time_s: float) -> int:
        """Whole units of a part (reference time ``print_time_s``) it makes in one day."""
        return int(self.hours_per_day * 3600 * self.speed_factor // print_time_s)

    def unit_time_s(self, print_time_s: float) -> float:
        return print_time_s / self.speed_factor

    def record_run(
        self, planned_s: float, actual_s: float, at: datetime, *, tolerance: float, strikes: int
    ) -> None:
        """A finished job's real duration against the plan's: ``strikes`` runs in a row
        beyond ``tolerance`` times the plan flag the machine's declared capacity (speed
        factor, hours) for the operator; a run within it clears the count."""
        if planned_s <= 0 or actual_s <= 0:
            return
        if actual_s <= tolerance * planned_s:
            self.slow_runs = 0
            return
        self.slow_runs += 1
        if self.slow_runs >= strikes and not self.capacity_flag:
            self.capacity_flag = (
                f"{self.slow_runs} jobs in a row took over {tolerance:g}x their planned time "
                f"(last {actual_s / 3600:.1f} h against {planned_s / 3600:.1f} h)"
            )
            self.events.append(
                MachineCapacityFlagged(
                    at=at,
                    machine_id=self.id,
                    producer_id=self.producer_id,
                    reason=self.capacity_flag,
                )
            )

    @property
    def reliability(self) -> float:
        return self.belief.posterior(ReliabilityPrior()).mean

    def qualified(self, at: datetime, event: MachineQualified, terms: Probation) -> None:
        """A coupon's verdict: a failed one keeps the machine out of planning (unverified,
        with the features that failed) until a new coupon passes; a passed one puts it on
        probation under ``terms``."""
        self.events.append(event)
        if not event.passed:
            self.capacity_flag = f"{QUALIFICATION_FLAG}: {event.failed_features}"[:300]
            self.set_status(MachineStatus.UNVERIFIED, at)
            return
        self.probation = terms.start()
        if self.capacity_flag.startswith(QUALIFICATION_FLAG):
            self.capacity_flag = ""
            self.set_status(MachineStatus.IDLE, at)

    def learn(self, succeeded: bool, at: datetime, prior: ReliabilityPrior) -> None:
        """An outcome of one of its jobs: what the hub believes of it, and its probation,
        which it leaves once its jobs are done and its posterior is high enough."""
        self.belief = self.belief.observe(succeeded, at, prior)
        if self.probation is None:
            return
        before = self.probation
        self.probation = before.after(succeeded, self.belief.posterior(prior).mean)
        if self.probation is None:
            self.events.append(
                MachineGraduated(
                    at=at,
                    machine_id=self.id,
                    producer_id=self.producer_id,
                    jobs=before.jobs,
                    reliability=round(self.belief.posterior(prior).mean, 4),
                )
            )

    def confirm(self, build_volume: Box, materials: tuple[str, ...], at: datetime) -> None:
        """Its producer states what an import did not know: it can be planned on."""
        for material in materials:
            if material not in MATERIALS[self.process]:
                raise InvalidInput(
                    "materials", f"{material!r} is not a {self.process.value} material"
                )
        if not materials:
            raise InvalidInput("materials", "name at least one material it works")
        for axis in ("x_mm", "y_mm", "z_mm"):
            if not getattr(build_volume, axis) > 0:
                raise InvalidInput(f"build_volume_mm.{axis[0]}", "a machine builds something: > 0")
        self.build_volume = build_volume
        self.materials = materials
        if self.status is MachineStatus.UNVERIFIED:
            self.capacity_flag = ""
            self.set_status(MachineStatus.IDLE, at)

    def set_status(self, status: MachineStatus, at: datetime) -> None:
        if status is self.status:
            return
        self.status = status
        self.events.append(
            MachineStatusChanged(
                at=at, machine_id=self.id, producer_id=self.producer_id, status=status
            )
        )


@dataclass(frozen=True, slots=True)
class MachineEnvelope:
    """What the hub believes a machine can declare: physics (a day has 24 hours) and the
    operator's policy (the fastest printer it expects, relative to the reference machine
    of the estimates; the largest build volume). The defaults are placeholders for an
    operator to set (FABNET_MACHINE_ENVELOPE)."""

    max_speed_factor: float = 4.0
    max_hours_per_day: float = 24.0
    max_build_mm: float = 2000.0

    def check(self, machine: Machine) -> None:
        if machine.speed_factor > self.max_speed_factor:
            raise InvalidInput(
                "speed_factor", f"the hub allows at most {self.max_speed_factor:g} (reference = 1)"
            )
        if machine.hours_per_day > self.max_hours_per_day:
            raise InvalidInput(
                "hours_per_day", f"the hub allows at most {self.max_hours_per_day:g} hours a day"
            )
        volume = machine.build_volume
        for axis, size in (("x", volume.x_mm), ("y", volume.y_mm), ("z", volume.z_mm)):
            if size > self.max_build_mm:
                raise InvalidInput(
                    f"build_volume_mm.{axis}",
                    f"the hub allows at most {self.max_build_mm:g} mm on an axis",
                )

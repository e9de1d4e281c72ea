"""Jobs: a number of units of one order line on one machine, and their state machine.

::

    offered --> accepted --> queued --> running --> done
       |            |           |          +------> failed
       |            +-----------+----------+------> failed | cancelled
       +--> declined | expired | cancelled
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fabnet.domain.aggregate import Aggregate
from fabnet.domain.errors import InvalidInput, InvalidTransition
from fabnet.domain.events import (
    JobAccepted,
    JobCancelled,
    JobDeclined,
    JobDone,
    JobEvent,
    JobExpired,
    JobFailed,
    JobFlagged,
    JobOffered,
    JobQueued,
    JobStarted,
    UnitsMade,
)
from fabnet.domain.ids import DesignId, JobId, LineId, MachineId, OrderId, ProducerId
from fabnet.domain.states import JOB_LIVE, JOB_MOVES, JobState


@dataclass(kw_only=True)
class Job(Aggregate):
    id: JobId
    order_id: OrderId
    line_id: LineId
    design_id: DesignId
    machine_id: MachineId
    producer_id: ProducerId
    material: str
    units: int
    unit_time_s: float  # machine time of one unit on this machine
    due: datetime  # the line's deadline
    offered_at: datetime
    expires_at: datetime  # an offer not accepted by then expires
    state: JobState = JobState.OFFERED
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    units_made: int = 0
    note: str = ""  # decline reason, failure cause, cancel reason
    design_hash: str = ""  # SHA-256 of the design's file, as planned (provenance)

    def __post_init__(self) -> None:
        if self.units < 1:
            raise InvalidInput("units", "a job holds at least one unit")

    def offered(self) -> Job:
        """Mark a newly built job as offered to its producer (raises its event); returns it."""
        self.updated_at = self.offered_at
        self.events.append(self._event(JobOffered, self.offered_at))
        return self

    @property
    def is_live(self) -> bool:
        return self.state in JOB_LIVE

    @property
    def units_open(self) -> int:
        """Units this job holds that are neither made nor given back."""
        return self.units - self.units_made if self.is_live else 0

    def accept(self, at: datetime, terms_digest: str = "") -> None:
        self._move(JobState.ACCEPTED, at)
        self.events.append(self._event(JobAccepted, at, terms_digest=terms_digest))

    def decline(self, at: datetime, reason: str = "") -> None:
        self._move(JobState.DECLINED, at, reason)
        self.events.append(self._event(JobDeclined, at, reason=reason))

    def flag(self, at: datetime, kind: str, detail: str, action: str) -> None:
        """An anomaly seen in its telemetry: recorded (and acted on by the policy)."""
        self.events.append(
            self._event(JobFlagged, at, kind=kind[:40], detail=detail[:500], action=action)
        )

    def expire(self, at: datetime) -> None:
        self._move(JobState.EXPIRED, at)
        self.events.append(self._event(JobExpired, at))

    def queue(self, at: datetime) -> None:
        self._move(JobState.QUEUED, at)
        self.events.append(self._event(JobQueued, at))

    def start(self, at: datetime) -> None:
        self._move(JobState.RUNNING, at)
        self.started_at = at
        self.events.append(self._event(JobStarted, at))

    def finish(self, at: datetime, *, material_lot: str = "", profile_hash: str = "") -> None:
        self._move(JobState.DONE, at)
        self.units_made = self.units
        self.finished_at = at
        self.events.append(self._event(JobDone, at, units_made=self.units))
        self._made(at, self.units, material_lot, profile_hash)

    def _made(self, at: datetime, units: int, material_lot: str, profile_hash: str) -> None:
        self.events.append(
            UnitsMade(
                at=at,
                order_id=self.order_id,
                line_id=self.line_id,
                job_id=self.id,
                units=units,
                design_id=self.design_id,
                producer_id=self.producer_id,
                machine_id=self.machine_id,
                material=self.material,
                material_lot=material_lot[:100],
                profile_hash=profile_hash[:100],
                design_hash=self.design_hash,
            )
        )

    def fail(self, at: datetime, cause: str, units_made: int = 0) -> None:
        if not 0 <= units_made < self.units:
            raise InvalidInput("units_made", f"must be in 0..{self.units - 1} for a failed job")
        self._move(JobState.FAILED, at, cause)
        self.units_made = units_made
        self.finished_at = at
        self.events.append(self._event(JobFailed, at, units_made=units_made, cause=cause))
        if units_made:
            self._made(at, units_made, "", "")

    def cancel(self, at: datetime, reason: str = "") -> None:
        self._move(JobState.CANCELLED, at, reason)
        self.finished_at = at
        self.events.append(self._event(JobCancelled, at, reason=reason))

    def _move(self, target: JobState, at: datetime, note: str = "") -> None:
        if target not in JOB_MOVES[self.state]:
            raise InvalidTransition("job", self.id, self.state, target)
        self.state = target
        self.updated_at = at
        if note:
            self.note = note[:500]

    def _event(self, cls: type[JobEvent], at: datetime, **extra: object) -> JobEvent:
        return cls(
            at=at,
            job_id=self.id,
            order_id=self.order_id,
            line_id=self.line_id,
            machine_id=self.machine_id,
            producer_id=self.producer_id,
            units=self.units,
            **extra,
        )

"""The catalogue of domain events. Every state change raises one; every event is logged.

Events are plain frozen dataclasses, named in the past tense. ``event_name(e)`` is the
stable name stored in the log; ``event_payload(e)`` its JSON-ready fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime


@dataclass(frozen=True, slots=True)
class ProducerRegistered(Event):
    producer_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ProducerUpdated(Event):
    producer_id: str


@dataclass(frozen=True, slots=True)
class MachineAdded(Event):
    machine_id: str
    producer_id: str
    process: str


@dataclass(frozen=True, slots=True)
class MachineStatusChanged(Event):
    machine_id: str
    producer_id: str
    status: str


@dataclass(frozen=True, slots=True)
class DesignRegistered(Event):
    design_id: str
    name: str


@dataclass(frozen=True, slots=True)
class OrderPlaced(Event):
    order_id: str
    consumer_id: str
    units: int


@dataclass(frozen=True, slots=True)
class OrderStateChanged(Event):
    order_id: str
    state: str


@dataclass(frozen=True, slots=True)
class JobEvent(Event):
    job_id: str
    order_id: str
    line_id: str
    machine_id: str
    producer_id: str
    units: int


@dataclass(frozen=True, slots=True)
class JobOffered(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobAccepted(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobDeclined(JobEvent):
    reason: str = ""


@dataclass(frozen=True, slots=True)
class JobExpired(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobQueued(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobStarted(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobDone(JobEvent):
    units_made: int = 0


@dataclass(frozen=True, slots=True)
class JobFailed(JobEvent):
    units_made: int = 0
    cause: str = ""


@dataclass(frozen=True, slots=True)
class JobCancelled(JobEvent):
    reason: str = ""


def event_name(event: Event) -> str:
    return type(event).__name__


def event_payload(event: Event) -> dict[str, Any]:
    data = asdict(event)
    data["at"] = event.at.isoformat()
    return data


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        ProducerRegistered,
        ProducerUpdated,
        MachineAdded,
        MachineStatusChanged,
        DesignRegistered,
        OrderPlaced,
        OrderStateChanged,
        JobOffered,
        JobAccepted,
        JobDeclined,
        JobExpired,
        JobQueued,
        JobStarted,
        JobDone,
        JobFailed,
        JobCancelled,
    )
}


def field_names(cls: type[Event]) -> list[str]:
    return [f.name for f in fields(cls)]

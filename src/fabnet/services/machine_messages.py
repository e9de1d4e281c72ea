"""The messages between producer agents and the hub, as JSON on the topics of
domain/topics.py. Parsing checks every field and raises InvalidInput naming it, so a
malformed message is dropped with a reason, never half-applied.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from fabnet.domain.errors import InvalidInput
from fabnet.domain.times import to_utc

MAX_PAYLOAD = 64 * 1024


class EventType(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CommandType(StrEnum):
    OFFER = "offer"
    CANCEL = "cancel"
    PAUSE = "pause"
    RESUME = "resume"
    BED_CLEAR = "bed_clear"


@dataclass(frozen=True, slots=True)
class Telemetry:
    machine_id: str
    at: datetime
    state: str  # the machine's own word: idle, printing, paused, error, offline
    job_id: str | None = None
    progress: float | None = None  # 0..1
    temps: dict[str, tuple[float, float]] = field(default_factory=dict)  # actual, target


@dataclass(frozen=True, slots=True)
class AgentEvent:
    event_id: str  # unique: a replay carries the same id
    seq: int  # per machine, from 1, no gaps
    machine_id: str
    job_id: str
    type: EventType
    at: datetime
    cause: str = ""
    units_made: int = 0
    material_lot: str = ""
    profile_hash: str = ""


@dataclass(frozen=True, slots=True)
class JobSpec:
    job_id: str
    design_id: str
    material: str
    units: int
    unit_time_s: float


@dataclass(frozen=True, slots=True)
class AgentCommand:
    command_id: str
    type: CommandType
    machine_id: str
    job: JobSpec | None = None
    reason: str = ""


def new_id() -> str:
    return uuid.uuid4().hex


def encode(message: Telemetry | AgentEvent | AgentCommand) -> bytes:
    def default(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.dumps(asdict(message), default=default, separators=(",", ":")).encode()


def _load(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD:
        raise InvalidInput("payload", f"larger than {MAX_PAYLOAD} bytes")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput("payload", "not JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("payload", "must be a JSON object")
    return data


def _str(data: dict[str, Any], name: str, *, required: bool = True, limit: int = 200) -> str:
    value = data.get(name, "" if not required else None)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise InvalidInput(name, f"must be a non-empty string of at most {limit} characters")
    return value


def _int(data: dict[str, Any], name: str, lo: int, hi: int, default: int | None = None) -> int:
    value = data.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise InvalidInput(name, f"must be an integer in {lo}..{hi}")
    return value


def _when(data: dict[str, Any], name: str = "at") -> datetime:
    raw = data.get(name)
    try:
        when = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidInput(name, "must be an ISO 8601 time with a timezone")
    return to_utc(when, name)


def _enum(data: dict[str, Any], name: str, kind: type[StrEnum]) -> Any:
    value = data.get(name)
    try:
        return kind(value if isinstance(value, str) else "")
    except ValueError:
        known = ", ".join(k.value for k in kind)
        raise InvalidInput(name, f"must be one of {known}") from None


def parse_telemetry(payload: bytes) -> Telemetry:
    data = _load(payload)
    progress = data.get("progress")
    number = isinstance(progress, int | float) and not isinstance(progress, bool)
    if progress is not None and not (number and 0 <= progress <= 1):
        raise InvalidInput("progress", "must be a number in 0..1")
    temps_raw = data.get("temps") or {}
    if not isinstance(temps_raw, dict) or len(temps_raw) > 16:
        raise InvalidInput("temps", "must be an object of at most 16 sensors")
    temps: dict[str, tuple[float, float]] = {}
    for name, pair in temps_raw.items():  # the hot path of ingest: no generator here
        try:
            actual, target = float(pair[0]), float(pair[1])
            ok = type(pair) is list and len(pair) == 2 and len(name) <= 40
            ok = ok and type(pair[0]) is not bool and type(pair[1]) is not bool
        except (TypeError, ValueError, IndexError, KeyError):
            ok = False
        if not ok or not (math.isfinite(actual) and math.isfinite(target)):
            raise InvalidInput(f"temps.{name[:40]}", "must be [actual, target] in degrees C")
        temps[name] = (actual, target)
    job = data.get("job_id")
    if job is not None and not isinstance(job, str):
        raise InvalidInput("job_id", "must be a string or null")
    return Telemetry(
        machine_id=_str(data, "machine_id", limit=64),
        at=_when(data),
        state=_str(data, "state", limit=30),
        job_id=job,
        progress=None if progress is None else float(progress),
        temps=temps,
    )


def parse_event(payload: bytes) -> AgentEvent:
    data = _load(payload)
    return AgentEvent(
        event_id=_str(data, "event_id", limit=64),
        seq=_int(data, "seq", 1, 2**62),
        machine_id=_str(data, "machine_id", limit=64),
        job_id=_str(data, "job_id", limit=64),
        type=_enum(data, "type", EventType),
        at=_when(data),
        cause=_str(data, "cause", required=False, limit=500),
        units_made=_int(data, "units_made", 0, 10**6, default=0),
        material_lot=_str(data, "material_lot", required=False),
        profile_hash=_str(data, "profile_hash", required=False),
    )


def parse_command(payload: bytes) -> AgentCommand:
    data = _load(payload)
    kind = _enum(data, "type", CommandType)
    job = data.get("job")
    spec = None
    if job is not None:
        if not isinstance(job, dict):
            raise InvalidInput("job", "must be an object")
        if kind is not CommandType.OFFER:  # a reference to a job the agent holds
            filler = {"design_id": "-", "material": "-", "units": 1, "unit_time_s": 1}
            job = {**job, **{k: v for k, v in filler.items() if not job.get(k)}}
        time_s = job.get("unit_time_s")
        if not isinstance(time_s, int | float) or not 0 < time_s < 1e7:
            raise InvalidInput("job.unit_time_s", "must be a positive number")
        spec = JobSpec(
            job_id=_str(job, "job_id", limit=64),
            design_id=_str(job, "design_id", limit=64),
            material=_str(job, "material", limit=40),
            units=_int(job, "units", 1, 10**6),
            unit_time_s=float(time_s),
        )
    if kind is CommandType.OFFER and spec is None:
        raise InvalidInput("job", "an offer carries its job")
    return AgentCommand(
        command_id=_str(data, "command_id", limit=64),
        type=kind,
        machine_id=_str(data, "machine_id", limit=64),
        job=spec,
        reason=_str(data, "reason", required=False, limit=500),
    )

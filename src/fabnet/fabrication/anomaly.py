"""Anomalies in what a printer reports while it prints: the rules, pure and streaming.

A ``JobWatch`` follows one running job through its telemetry samples (time, progress,
temperatures as (actual, target), the machine's state) and raises each kind of flag once:

* ``temperature``: a heater that has reached its target leaves it by more than
  ``temp_band_c`` for ``temp_hold_s`` (a failing heater, thermal runaway, a lost
  thermistor); heating up at the start is not an excursion;
* ``stall``: printing, heaters at their targets, but the progress has not moved for
  ``stall_s`` (a print waiting for its heaters is not stalled: seen on OctoPrint's
  virtual printer, whose progress stands still through M109/M190);
* ``behind``: ``min_elapsed_s`` after the progress first moved (heating up is not in a
  slicer's estimate), the progress is below the estimate's schedule divided by
  ``behind_ratio`` (the print takes far longer than its estimate);
* ``error``: the machine itself reports an error state while the job runs.

``failure_streak`` flags a machine whose last ``repeat_failures`` jobs all failed. The
thresholds are operator settings, not sourced figures; benchmarks/quality.py measures the
detector's precision, recall and time to detect on labelled traces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from fabnet.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    temp_band_c: float = 15.0
    temp_hold_s: float = 60.0
    stall_s: float = 600.0
    behind_ratio: float = 1.5
    min_elapsed_s: float = 900.0
    repeat_failures: int = 3

    def __post_init__(self) -> None:
        for name in ("temp_band_c", "temp_hold_s", "stall_s", "min_elapsed_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidInput(f"anomaly.{name}", "must be a number > 0")
        if not (math.isfinite(self.behind_ratio) and self.behind_ratio > 1):
            raise InvalidInput("anomaly.behind_ratio", "must be a number > 1")
        if self.repeat_failures < 2:
            raise InvalidInput("anomaly.repeat_failures", "must be 2 or more")


@dataclass(frozen=True, slots=True)
class Sample:
    at_s: float  # seconds since the job started
    state: str  # printing, paused, error, ...
    progress: float | None = None  # 0..1
    temps: dict[str, tuple[float, float]] = field(default_factory=dict)  # actual, target


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str  # temperature, stall, behind, error
    at_s: float
    detail: str


class JobWatch:
    """The flags of one running job, from its samples in time order."""

    def __init__(self, expected_s: float, settings: DetectorSettings | None = None) -> None:
        if not (math.isfinite(expected_s) and expected_s > 0):
            raise InvalidInput("expected_s", "the slicer's time must be > 0 seconds")
        self.expected_s = expected_s
        self.settings = settings or DetectorSettings()
        self.raised: set[str] = set()
        self._reached: set[str] = set()  # heaters that have been at their target
        self._out_since: dict[str, float] = {}
        self._progress: float | None = None
        self._moved_at = 0.0
        self._started_s: float | None = None  # when the progress first moved
        self._last_s = -math.inf

    def feed(self, sample: Sample) -> list[Flag]:
        if sample.at_s < self._last_s:
            return []  # a late, out-of-order sample: the newer ones already spoke
        self._last_s = sample.at_s
        flags: list[Flag] = []
        s = self.settings
        if sample.state == "error":
            flags += self._raise("error", sample.at_s, "the machine reports an error")
        if sample.state != "printing":
            return flags
        for heater, (actual, target) in sample.temps.items():
            if target <= 0:
                continue
            off = abs(actual - target)
            if off <= s.temp_band_c / 3:
                self._reached.add(heater)
            if heater not in self._reached:
                continue
            if off > s.temp_band_c:
                since = self._out_since.setdefault(heater, sample.at_s)
                if sample.at_s - since >= s.temp_hold_s:
                    flags += self._raise(
                        "temperature",
                        sample.at_s,
                        f"{heater} at {actual:.0f} C, target {target:.0f} C, for "
                        f"{sample.at_s - since:.0f} s",
                    )
            else:
                self._out_since.pop(heater, None)
        heating = any(
            target > 0 and heater not in self._reached
            for heater, (_, target) in sample.temps.items()
        )
        if sample.progress is not None:
            if heating:
                self._moved_at = sample.at_s  # waiting for heat is not a stall
            if self._progress is None or sample.progress > self._progress + 1e-9:
                if self._progress is not None and self._started_s is None:
                    self._started_s = sample.at_s
                self._progress, self._moved_at = sample.progress, sample.at_s
            elif sample.at_s - self._moved_at >= s.stall_s:
                flags += self._raise(
                    "stall",
                    sample.at_s,
                    f"no progress for {sample.at_s - self._moved_at:.0f} s at "
                    f"{100 * self._progress:.0f}%",
                )
            run_s = sample.at_s - (self._started_s if self._started_s is not None else math.inf)
            schedule = min(1.0, max(run_s, 0.0) / self.expected_s)
            if run_s >= s.min_elapsed_s and sample.progress < schedule / s.behind_ratio:
                flags += self._raise(
                    "behind",
                    sample.at_s,
                    f"{100 * sample.progress:.0f}% done where the estimate expects "
                    f"{100 * schedule:.0f}%",
                )
        return flags

    def _raise(self, kind: str, at_s: float, detail: str) -> list[Flag]:
        if kind in self.raised:
            return []
        self.raised.add(kind)
        return [Flag(kind, at_s, detail)]


def failure_streak(outcomes: Sequence[bool], settings: DetectorSettings | None = None) -> bool:
    """Whether a machine's most recent jobs (``outcomes``: True = succeeded, oldest first)
    end in ``repeat_failures`` failures in a row."""
    n = (settings or DetectorSettings()).repeat_failures
    return len(outcomes) >= n and not any(outcomes[-n:])

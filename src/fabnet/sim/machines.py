"""Simulated machines and producers: the fakes the demo and the simulator drive.

A machine prints one job at a time, at the pace its owner allows (hours per day), with
real print times spread around the estimate; a job may fail part-way. A producer answers
offers after a delay and accepts most of them. All randomness comes from one seeded RNG.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field


@dataclass
class SimulatedMachine:
    machine_id: str
    producer_id: str
    hours_per_day: float
    queue: deque[str] = field(default_factory=deque)
    running: str | None = None

    def duration_s(
        self, units: int, unit_time_s: float, rng: random.Random, jitter: float
    ) -> float:
        """Wall-clock time to print ``units``: machine time stretched by the daily share
        the owner lets it run, each run's speed drawn around the estimate."""
        spread = math.exp(rng.gauss(0.0, jitter)) if jitter > 0 else 1.0
        machine_s = units * unit_time_s * spread
        return machine_s * 24.0 / self.hours_per_day


@dataclass(frozen=True)
class ProducerBehaviour:
    accept_rate: float
    failure_rate: float
    response_minutes: tuple[float, float]
    jitter: float
    failure_rates: dict[str, float] = field(default_factory=dict)  # producer -> its own

    def __post_init__(self) -> None:
        for name in ("accept_rate", "failure_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")

    def response_s(self, rng: random.Random) -> float:
        return rng.uniform(*self.response_minutes) * 60.0

    def accepts(self, rng: random.Random) -> bool:
        return rng.random() < self.accept_rate

    def fails(self, rng: random.Random, producer_id: str = "") -> bool:
        return rng.random() < self.failure_rates.get(producer_id, self.failure_rate)

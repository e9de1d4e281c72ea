"""Labelled telemetry traces for the anomaly detector: simulated prints, normal or with
one injected fault (a failing heater, thermal runaway, a stalled print, a printer far
slower than its estimate, an error state), sampled every ``step_s`` seconds.

The normal traces carry what real prints show and the detector must not flag: a heat-up
from room temperature, sensor noise, the estimate off by -10%..+25%, and short pauses
(layer changes, a cooling wait) of up to two minutes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from fabnet.fabrication.anomaly import Sample

FAULTS = ("heater_failure", "thermal_runaway", "stall", "slow", "error")
KINDS = {  # fault -> the flag that should catch it
    "heater_failure": "temperature",
    "thermal_runaway": "temperature",
    "stall": "stall",
    "slow": "behind",
    "error": "error",
}


@dataclass(frozen=True)
class Trace:
    fault: str | None  # None: a normal print
    fault_at_s: float | None
    expected_s: float  # the slicer's estimate
    samples: list[Sample]


def trace(fault: str | None, seed: int, step_s: float = 10.0) -> Trace:
    rng = random.Random(seed)
    expected = rng.uniform(30, 240) * 60
    actual = expected * rng.uniform(0.9, 1.25)
    if fault == "slow":
        actual = expected * rng.uniform(2.0, 3.0)
    fault_at = rng.uniform(0.15, 0.85) * actual if fault not in (None, "slow") else None
    if fault == "slow":
        fault_at = 0.0
    hot, bed = rng.choice([(200, 60), (215, 60), (240, 80), (250, 100)])
    heat_s = rng.uniform(90, 240)
    pauses = sorted(rng.uniform(0, actual) for _ in range(rng.randint(0, 6)))
    pause_len = [rng.uniform(20, 120) for _ in pauses]
    samples: list[Sample] = []
    t, printed, ambient = 0.0, 0.0, 25.0
    hot_now, bed_now = ambient, ambient
    stalled = False
    while printed < actual and t < actual * 4:
        failing = fault_at is not None and t >= fault_at and fault is not None
        state = "printing"
        paused = any(p <= t < p + d for p, d in zip(pauses, pause_len, strict=True))
        if fault == "stall" and failing:
            stalled = True
        if t >= heat_s and not paused and not stalled:
            printed += step_s
        if t < heat_s:
            hot_now = ambient + (hot - ambient) * min(1.0, t / heat_s)
            bed_now = ambient + (bed - ambient) * min(1.0, t / heat_s)
        elif fault == "heater_failure" and failing:
            hot_now = ambient + (hot_now - ambient) * math.exp(-step_s / 90)
        elif fault == "thermal_runaway" and failing:
            hot_now = hot_now + rng.uniform(0.8, 2.0) * step_s / 10
        else:
            hot_now, bed_now = hot, bed
        if fault == "error" and failing:
            state = "error"
        samples.append(
            Sample(
                at_s=t,
                state=state,
                progress=min(1.0, max(0.0, printed / actual)),
                temps={
                    "tool0": (hot_now + rng.gauss(0, 1.5), float(hot)),
                    "bed": (bed_now + rng.gauss(0, 0.8), float(bed)),
                },
            )
        )
        if state == "error" and t >= (fault_at or 0) + 120:
            break  # the job ends as failed soon after
        t += step_s
    return Trace(fault, fault_at, expected, samples)


def traces(n_normal: int, n_per_fault: int, seed: int) -> list[Trace]:
    out = [trace(None, seed * 1_000_003 + i) for i in range(n_normal)]
    for k, fault in enumerate(FAULTS):
        out += [trace(fault, seed * 1_000_003 + 10_000 * (k + 1) + i) for i in range(n_per_fault)]
    return out

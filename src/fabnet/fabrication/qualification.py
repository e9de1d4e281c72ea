"""Qualifying a machine with fabnet's test coupon: the coupon's nominal features, the
tolerance rules that judge a maker's caliper measurements, and the verdict.

The coupon (adapters/geometry/coupon.py makes its mesh) is a 40 x 20 x 5 mm plate with a
6 mm and a 3 mm through hole and two 8 mm high fins, 1.2 and 0.8 mm thick: outer size,
hole size (holes print small on FDM) and thin walls are what fails first on a cheap or
badly tuned printer. The tolerances are operator settings (placeholders until a hub sets
them), not sourced figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from fabnet.domain.errors import InvalidInput

# feature -> (nominal mm, what the maker measures)
COUPON: dict[str, tuple[float, str]] = {
    "length_mm": (40.0, "the plate's long side"),
    "width_mm": (20.0, "the plate's short side"),
    "thickness_mm": (5.0, "the plate's thickness"),
    "hole_6_mm": (6.0, "the large hole's diameter"),
    "hole_3_mm": (3.0, "the small hole's diameter"),
    "wall_1_2_mm": (1.2, "the thicker fin"),
    "wall_0_8_mm": (0.8, "the thinner fin"),
    "fin_height_mm": (8.0, "a fin's height above the plate"),
}


@dataclass(frozen=True, slots=True)
class Tolerances:
    """Allowed deviation (mm) below and above nominal, by kind of feature."""

    outer: tuple[float, float] = (0.3, 0.3)
    holes: tuple[float, float] = (0.4, 0.2)
    walls: tuple[float, float] = (0.15, 0.25)

    def __post_init__(self) -> None:
        for name in ("outer", "holes", "walls"):
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo >= 0 and hi >= 0):
                raise InvalidInput(f"tolerances.{name}", "two numbers >= 0 (below, above)")

    def of(self, feature: str) -> tuple[float, float]:
        if feature.startswith("hole"):
            return self.holes
        if feature.startswith("wall"):
            return self.walls
        return self.outer


@dataclass(frozen=True, slots=True)
class Check:
    feature: str
    nominal_mm: float
    measured_mm: float
    allowed: tuple[float, float]

    @property
    def deviation_mm(self) -> float:
        return self.measured_mm - self.nominal_mm

    @property
    def ok(self) -> bool:
        below, above = self.allowed
        return -below - 1e-9 <= self.deviation_mm <= above + 1e-9


@dataclass(frozen=True, slots=True)
class Verdict:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.feature for c in self.checks if not c.ok]


def judge(measurements: Mapping[str, object], tolerances: Tolerances) -> Verdict:
    """Every coupon feature measured once, in mm; a value that cannot be a measurement of
    it (not a number, not positive, a unit slip such as cm or inches) is refused, naming
    the feature, before anything is judged."""
    unknown = sorted(set(measurements) - set(COUPON))
    if unknown:
        raise InvalidInput(f"measurements.{unknown[0]}", f"not a coupon feature; known: "
                           f"{', '.join(COUPON)}")  # fmt: skip
    missing = [f for f in COUPON if f not in measurements]
    if missing:
        raise InvalidInput(f"measurements.{missing[0]}", f"missing ({COUPON[missing[0]][1]})")
    checks = []
    for feature, (nominal, _) in COUPON.items():
        value = measurements[feature]
        field = f"measurements.{feature}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(field, "a number of millimetres")
        measured = float(value)
        if not (math.isfinite(measured) and measured > 0):
            raise InvalidInput(field, "a positive number of millimetres")
        if not nominal / 2 <= measured <= nominal * 2:
            hint = " (in cm? give mm)" if nominal / 15 <= measured <= nominal / 5 else ""
            raise InvalidInput(field, f"{measured:g} mm cannot be a {nominal:g} mm feature{hint}")
        checks.append(Check(feature, nominal, measured, tolerances.of(feature)))
    return Verdict(tuple(checks))

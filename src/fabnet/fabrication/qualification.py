"""Qualifying a machine with fabnet's test coupon: the coupon's nominal features, the
tolerance rules that judge a maker's caliper measurements, and the verdict.

The coupon (adapters/geometry/coupon.py makes its mesh) is a 40 x 20 x 5 mm plate with a
6 mm and a 3 mm through hole and two 8 mm high fins, 1.2 and 0.8 mm thick: outer size,
hole size (holes print small on FDM) and thin walls are what fails first on a cheap or
badly tuned printer. Tolerances are per process, and per material where a material
prints differently (ABS and ASA shrink, TPU is soft under the caliper, resin prints
finer): operator settings (placeholders until a hub sets them, FABNET_COUPON_TOLERANCES),
not sourced figures. The coupon qualifies additive machines only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from fabnet.domain.capabilities import Process, parse_material, parse_process
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


ADDITIVE = (Process.FDM, Process.SLA, Process.SLS)


def _default_by_process() -> dict[Process, Tolerances]:
    return {
        Process.FDM: Tolerances(),
        Process.SLA: Tolerances(outer=(0.15, 0.15), holes=(0.2, 0.1), walls=(0.1, 0.15)),
        Process.SLS: Tolerances(outer=(0.3, 0.3), holes=(0.3, 0.2), walls=(0.2, 0.2)),
    }


def _default_by_material() -> dict[tuple[Process, str], Tolerances]:
    shrinks = Tolerances(outer=(0.5, 0.3), holes=(0.5, 0.2), walls=(0.2, 0.25))
    return {
        (Process.FDM, "ABS"): shrinks,
        (Process.FDM, "ASA"): shrinks,
        (Process.FDM, "PA"): shrinks,
        (Process.FDM, "PC"): shrinks,
        (Process.FDM, "TPU"): Tolerances(outer=(0.5, 0.5), holes=(0.6, 0.3), walls=(0.3, 0.4)),
    }


@dataclass(frozen=True)
class ToleranceTable:
    """Tolerances by additive process, and by process and material where they differ."""

    by_process: Mapping[Process, Tolerances] = field(default_factory=_default_by_process)
    by_material: Mapping[tuple[Process, str], Tolerances] = field(
        default_factory=_default_by_material
    )

    def of(self, process: Process, material: str) -> Tolerances:
        if process not in ADDITIVE:
            raise InvalidInput(
                "process",
                f"the test coupon qualifies additive machines ({', '.join(ADDITIVE)}), "
                f"not {process.value}",
            )
        found = self.by_material.get((process, material)) or self.by_process.get(process)
        return found or Tolerances()

    @staticmethod
    def parse(text: str) -> ToleranceTable:
        """FABNET_COUPON_TOLERANCES: a JSON object by "process" or "process/MATERIAL" of
        {"outer": [below, above], "holes": [...], "walls": [...]} in mm; what it leaves
        out keeps the defaults."""
        table = ToleranceTable()
        if not text.strip():
            return table
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput("coupon_tolerances", f"not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise InvalidInput("coupon_tolerances", "a JSON object by process[/material]")
        by_process, by_material = dict(table.by_process), dict(table.by_material)
        for key, spec in raw.items():
            where = f"coupon_tolerances.{key}"
            proc_name, _, mat_name = str(key).partition("/")
            process = parse_process(proc_name, where)
            if process not in ADDITIVE:
                raise InvalidInput(where, "the coupon qualifies additive processes only")
            if not isinstance(spec, dict) or set(spec) - {"outer", "holes", "walls"}:
                raise InvalidInput(where, 'an object of "outer", "holes", "walls"')
            base = by_process.get(process, Tolerances())
            pairs = {}
            for name in ("outer", "holes", "walls"):
                value = spec.get(name, getattr(base, name))
                if not (isinstance(value, list | tuple) and len(value) == 2) or any(
                    isinstance(v, bool) or not isinstance(v, int | float) for v in value
                ):
                    raise InvalidInput(f"{where}.{name}", "two numbers of mm: [below, above]")
                pairs[name] = (float(value[0]), float(value[1]))
            tol = Tolerances(**pairs)
            if mat_name:
                material = parse_material(mat_name, process, where)
                by_material[(process, material)] = tol
            else:
                by_process[process] = tol
        return ToleranceTable(by_process, by_material)


def coupon_material(process: Process, material: str, loaded: tuple[str, ...]) -> str:
    """What the coupon was printed in: one of the machine's materials (its first when
    not said)."""
    if not material:
        if not loaded:
            raise InvalidInput("material", "the machine has no material to print the coupon in")
        return loaded[0]
    name = parse_material(material, process, "material")
    if name not in loaded:
        raise InvalidInput("material", f"{name} is not one of the machine's: {', '.join(loaded)}")
    return name


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

"""Problems as JSON files (format ``fabnet-problem/1``), so anyone can re-check a plan
with another solver. docs/planning.md documents the schema. Reading checks every field
and names the first bad one (``lines[3].units: ...``); nothing is guessed."""

from __future__ import annotations

import math
from dataclasses import asdict, fields
from typing import Any

from fabnet.domain.capabilities import parse_material, parse_process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Box, Place
from fabnet.planning.costs import MAX_MONEY, CostParams
from fabnet.planning.problem import SECONDS_PER_DAY, Demand, Problem, Supply

FORMAT = "fabnet-problem/1"
MAX_UNITS = 10_000_000
MAX_HORIZON_DAYS = 366


def to_dict(problem: Problem) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "horizon_days": problem.horizon_s / SECONDS_PER_DAY,
        "load_factor": problem.load_factor,
        "costs": asdict(problem.costs),
        "machines": [
            {
                "id": s.machine_id,
                "producer_id": s.producer_id,
                "lat": s.place.lat,
                "lon": s.place.lon,
                "process": s.process.value,
                "materials": sorted(s.materials),
                "build_volume_mm": [s.build_volume.x_mm, s.build_volume.y_mm, s.build_volume.z_mm],
                "seconds_per_day": s.seconds_per_day,
                "speed_factor": s.speed_factor,
                "busy_s": s.busy_s,
                "reliability": s.reliability,
                "price_per_unit": s.price_per_unit,
                "material_per_g": s.material_per_g,
                "machine_per_s": s.machine_per_s,
                **({"job_units_max": s.job_units_max} if s.on_probation else {}),
            }
            for s in problem.supplies
        ],
        "lines": [
            {
                "id": d.line_id,
                "order_id": d.order_id,
                "lat": d.destination.lat,
                "lon": d.destination.lon,
                "process": d.process.value,
                "material": d.material,
                "size_mm": [d.size.x_mm, d.size.y_mm, d.size.z_mm],
                "units": d.units,
                "unit_time_s": d.unit_time_s,
                "due_s": d.due_s,
                "priority": d.priority,
                "unit_mass_g": d.unit_mass_g,
                "excluded_machines": sorted(d.excluded_machines),
            }
            for d in problem.demands
        ],
    }


def _num(
    rec: dict[str, Any],
    key: str,
    where: str,
    *,
    lo: float = -math.inf,
    hi: float = math.inf,
    default: float | None = None,
) -> float:
    value = rec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{where}.{key}".removeprefix("problem."), "must be a finite number")
    if not lo <= value <= hi:
        raise InvalidInput(
            f"{where}.{key}".removeprefix("problem."), f"must be in [{lo:g}, {hi:g}], got {value:g}"
        )
    return float(value)


def _str(rec: dict[str, Any], key: str, where: str) -> str:
    value = rec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}.{key}", "must be a non-empty string")
    return value


def _box(rec: dict[str, Any], key: str, where: str) -> Box:
    value = rec.get(key)
    if not isinstance(value, list) or len(value) != 3:
        raise InvalidInput(f"{where}.{key}", "must be three sizes in mm")
    try:
        return Box(*(float(v) for v in value))
    except (TypeError, ValueError, InvalidInput) as exc:
        raise InvalidInput(f"{where}.{key}", f"bad size: {exc}") from None


def _machine(rec: Any, i: int) -> Supply:
    where = f"machines[{i}]"
    if not isinstance(rec, dict):
        raise InvalidInput(where, "must be an object")
    process = parse_process(rec.get("process"), f"{where}.process")
    mats = rec.get("materials")
    if not isinstance(mats, list) or not mats:
        raise InvalidInput(f"{where}.materials", "must be a non-empty list")
    return Supply(
        machine_id=_str(rec, "id", where),
        producer_id=_str(rec, "producer_id", where),
        process=process,
        materials=frozenset(
            parse_material(m, process, f"{where}.materials[{j}]") for j, m in enumerate(mats)
        ),
        build_volume=_box(rec, "build_volume_mm", where),
        place=Place(
            _num(rec, "lat", where, lo=-90, hi=90), _num(rec, "lon", where, lo=-180, hi=180)
        ),
        seconds_per_day=_num(rec, "seconds_per_day", where, lo=1, hi=SECONDS_PER_DAY),
        speed_factor=_num(rec, "speed_factor", where, lo=1e-6, hi=1e6, default=1.0),
        busy_s=_num(rec, "busy_s", where, lo=0, default=0.0),
        reliability=_num(rec, "reliability", where, lo=0, hi=1, default=1.0),
        price_per_unit=_num(rec, "price_per_unit", where, lo=0, hi=MAX_MONEY, default=0.0),
        material_per_g=_num(rec, "material_per_g", where, lo=0, hi=1e9, default=0.0),
        machine_per_s=_num(rec, "machine_per_s", where, lo=0, hi=1e9, default=0.0),
        job_units_max=_whole(rec, "job_units_max", where),
    )


def _whole(rec: dict[str, Any], key: str, where: str) -> int:
    value = rec.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
        raise InvalidInput(f"{where}.{key}", "must be a whole number >= 0 (0: no limit)")
    return value


def _line(rec: Any, i: int) -> Demand:
    where = f"lines[{i}]"
    if not isinstance(rec, dict):
        raise InvalidInput(where, "must be an object")
    process = parse_process(rec.get("process"), f"{where}.process")
    units = _num(rec, "units", where, lo=0, hi=MAX_UNITS)
    if units != int(units):
        raise InvalidInput(f"{where}.units", "must be a whole number")
    excluded = rec.get("excluded_machines", [])
    if not isinstance(excluded, list) or not all(isinstance(x, str) for x in excluded):
        raise InvalidInput(f"{where}.excluded_machines", "must be a list of machine ids")
    return Demand(
        line_id=_str(rec, "id", where),
        order_id=str(rec.get("order_id", rec.get("id"))),
        process=process,
        material=parse_material(rec.get("material"), process, f"{where}.material"),
        size=_box(rec, "size_mm", where),
        units=int(units),
        unit_time_s=_num(rec, "unit_time_s", where, lo=1, hi=30 * SECONDS_PER_DAY),
        due_s=_num(rec, "due_s", where, lo=0, hi=MAX_HORIZON_DAYS * SECONDS_PER_DAY),
        destination=Place(
            _num(rec, "lat", where, lo=-90, hi=90), _num(rec, "lon", where, lo=-180, hi=180)
        ),
        priority=int(_num(rec, "priority", where, lo=0, hi=9, default=0)),
        unit_mass_g=_num(rec, "unit_mass_g", where, lo=0, hi=1e7, default=0.0),
        excluded_machines=frozenset(excluded),
    )


def from_dict(data: Any) -> Problem:
    if not isinstance(data, dict):
        raise InvalidInput("file", "a problem file is a JSON object")
    if data.get("format") != FORMAT:
        raise InvalidInput("format", f"must be {FORMAT!r}")
    costs_raw = data.get("costs", {})
    if not isinstance(costs_raw, dict):
        raise InvalidInput("costs", "must be an object")
    known = {f.name for f in fields(CostParams)}
    for key in costs_raw:
        if key not in known:
            raise InvalidInput(f"costs.{key}", f"unknown cost parameter; known: {sorted(known)}")
    try:
        costs = CostParams(**costs_raw)
    except TypeError as exc:
        raise InvalidInput("costs", f"cost parameters must be numbers: {exc}") from None
    machines, lines = data.get("machines"), data.get("lines")
    if not isinstance(machines, list):
        raise InvalidInput("machines", "must be a list")
    if not isinstance(lines, list):
        raise InvalidInput("lines", "must be a list")
    horizon = _num(data, "horizon_days", "problem", lo=1, hi=MAX_HORIZON_DAYS)
    return Problem(
        demands=tuple(_line(rec, i) for i, rec in enumerate(lines)),
        supplies=tuple(_machine(rec, i) for i, rec in enumerate(machines)),
        horizon_s=horizon * SECONDS_PER_DAY,
        load_factor=_num(data, "load_factor", "problem", lo=1e-6, hi=1, default=1.0),
        costs=costs,
    )

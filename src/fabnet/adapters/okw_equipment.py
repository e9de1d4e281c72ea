"""One OKW record's problems, and its equipment entries read into machine specs.

An entry's process is matched through adapters/vocabulary.py; an entry fabnet cannot plan
on is kept as other equipment; a missing build volume or material list comes from the
printer-model table or leaves the machine unverified."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from fabnet.adapters import vocabulary
from fabnet.domain.capabilities import MATERIALS, Process
from fabnet.services.commands import MachineSpec


@dataclass(frozen=True)
class RecordError:
    """A problem of one record (an error refuses the record; a warning does not)."""

    index: int
    field: str
    reason: str
    ref: str = ""  # the record's id, when it has one
    name: str = ""  # the record's name, when it has one

    def __str__(self) -> str:
        who = " ".join(p for p in (self.ref, repr(self.name) if self.name else "") if p)
        return f"record {self.index}{f' ({who})' if who else ''}: {self.field}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "id": self.ref,
            "name": self.name,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass
class RecordNotes:
    """The problems and warnings found while reading one record."""

    index: int
    ref: str = ""
    name: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def error(self, where: str, reason: str) -> None:
        self.errors.append((where, reason))

    def warn(self, where: str, reason: str) -> None:
        self.warnings.append((where, reason))

    def issues(self, pairs: list[tuple[str, str]]) -> list[RecordError]:
        return [RecordError(self.index, f, r, self.ref, self.name) for f, r in pairs]


def read_equipment(
    raw: Any, i: int, rec: RecordNotes, machines: list[MachineSpec], others: list[str]
) -> None:
    """Equipment entry ``i`` as a machine spec (to ``machines``), as other equipment (to
    ``others``: what fabnet does not plan on) or as the record's errors."""
    where = f"equipment[{i}]"
    if not isinstance(raw, dict):
        rec.error(where, "must be a mapping")
        return
    make = str(raw.get("make", raw.get("manufacturer", "")) or "").strip()
    model = str(raw.get("model", "") or "").strip()
    label = str(raw.get("name") or " ".join(x for x in (make, model) if x)).strip()
    model_row = vocabulary.printer_model(make, model) if model else None
    process = _process(raw, where, (make, label), model_row, rec, others)
    if process is None:
        return
    errors_before = len(rec.errors)
    materials = _materials(raw, where, process, rec)
    volume = _volume(raw.get("buildvolume", raw.get("workingarea")), where, rec)
    unverified: list[str] = []
    if len(rec.errors) == errors_before:
        volume, materials = _filled(where, process, model_row, (volume, materials), rec)
        if volume is None:
            unverified.append("build volume not known")
        if not materials:
            unverified.append("materials not given")
    if unverified:
        rec.warn(
            where,
            f"{label or process.value}: {' and '.join(unverified)}; imported unverified, "
            "not planned on until its producer confirms it",
        )
    nozzle = raw.get("nozzlesize")
    try:
        spec = MachineSpec(
            name=label or f"{process.value}-{i + 1}",
            process=process.value,
            materials=tuple(materials),
            build_volume_mm=volume,
            make=make,
            model=model,
            nozzle_mm=float(nozzle) if nozzle is not None else None,
            hours_per_day=float(raw.get("hoursperday", 20.0)),
            speed_factor=float(raw.get("speedfactor", 1.0)),
            unverified="; ".join(unverified),
        )
    except (TypeError, ValueError) as exc:
        rec.error(where, f"a number was expected: {exc}")
        return
    machines.append(spec)


def _process(
    raw: dict[str, Any],
    where: str,
    names: tuple[str, str],
    model_row: vocabulary.PrinterModel | None,
    rec: RecordNotes,
    others: list[str],
) -> Process | None:
    """The process an entry plans on, from its process fields (and, for 3D printing, its
    model or make); None where it has none (an error) or is kept as other equipment.
    ``names``: the entry's make and its label."""
    make, label = names
    said = [
        (f"{where}.{f}", v)
        for f, v in (
            ("manufacturing-process", raw.get("manufacturingprocess")),
            ("process", raw.get("process")),
            ("equipment-type", raw.get("equipmenttype")),
        )
        if v not in (None, "", [])
    ]
    if not said:
        rec.error(f"{where}.manufacturing-process", "required: what the machine does")
        return None
    term: vocabulary.ProcessTerm | None = None
    for _, value in said:
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str):
                term = term or vocabulary.process_term(v)
    if term is None:
        _, value = said[0]
        rec.warn(said[0][0], f"unknown process {value!r}: kept as equipment, not planned on")
        others.append(f"{value}: {label}".strip().rstrip(":"))
        return None
    if term.process is None:
        rec.warn(said[0][0], f"{term.canonical}: kept as equipment, not planned on")
        others.append(f"{term.canonical}: {label}".strip().rstrip(":"))
        return None
    if term.canonical == "3d_printing":  # which kind of 3D printing, if the model says
        if model_row is not None:
            return model_row.process
        if vocabulary.key(make) in vocabulary.RESIN_MAKES:
            return Process.SLA
    return term.process


def _filled(
    where: str,
    process: Process,
    model_row: vocabulary.PrinterModel | None,
    given: tuple[tuple[float, float, float] | None, list[str]],
    rec: RecordNotes,
) -> tuple[tuple[float, float, float] | None, list[str]]:
    """The build volume and materials, those not given taken from the printer-model
    table where the entry's model is in it (said as warnings)."""
    volume, materials = given
    known = model_row is not None and model_row.process is process
    if volume is None and known and model_row is not None:
        volume = model_row.build_volume_mm
        rec.warn(
            f"{where}.build-volume",
            f"not given: {_mm(volume)} from {model_row.source} ({model_row.model})",
        )
    if not materials and known and model_row is not None and model_row.materials:
        materials = list(model_row.materials)
        rec.warn(
            f"{where}.materials-worked",
            f"not given: {', '.join(materials)} assumed from {model_row.source}",
        )
    return volume, materials


def _materials(raw: dict[str, Any], where: str, process: Process, rec: RecordNotes) -> list[str]:
    given = raw.get("materialsworked", raw.get("materials", []))
    if given in (None, ""):
        return []
    if not isinstance(given, list):
        given = [given]
    out: list[str] = []
    allowed = MATERIALS[process]
    for j, m in enumerate(given):
        value = m.get("name", m.get("materialtype")) if isinstance(m, dict) else m
        field_name = f"{where}.materials-worked[{j}]"
        if not isinstance(value, str) or not value.strip():
            rec.error(field_name, "must be a material name, e.g. 'PLA'")
            continue
        name = vocabulary.material_name(value)
        if name is None or name not in allowed:
            what = "unknown material" if name is None else "not a material of"
            rec.error(
                field_name,
                f"{what} {value!r} for {process.value}; known: {', '.join(sorted(allowed))}"
                if name is None
                else f"{name} is {what} {process.value}; known: {', '.join(sorted(allowed))}",
            )
            continue
        if name not in out:
            out.append(name)
    return out


def _volume(raw: Any, where: str, rec: RecordNotes) -> tuple[float, float, float] | None:
    field_name = f"{where}.build-volume"
    if raw in (None, "", [], {}):
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        rec.warn(field_name, f"{raw!r} is one number, not three sizes in mm: not used")
        return None
    try:
        if isinstance(raw, str):
            text = raw.strip().lower().removesuffix("mm")
            parts = [float(p) for p in re.split(r"\s*[x×,]\s*", text.strip())]  # noqa: RUF001
        elif isinstance(raw, dict):
            parts = [float(raw[k]) for k in ("x", "y", "z")]
        elif isinstance(raw, list):
            parts = [float(p) for p in raw]
        else:
            raise ValueError
    except (KeyError, TypeError, ValueError):
        rec.error(field_name, "expected three sizes in mm, e.g. '250 x 210 x 220'")
        return None
    if len(parts) != 3 or not all(math.isfinite(p) and p > 0 for p in parts):
        rec.error(field_name, "expected three positive sizes in mm")
        return None
    return parts[0], parts[1], parts[2]


def _mm(volume: tuple[float, float, float]) -> str:
    return " x ".join(f"{v:g}" for v in volume) + " mm"

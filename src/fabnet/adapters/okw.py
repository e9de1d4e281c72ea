"""Open Know-Where (OKW) facility records: read (JSON or YAML) and write.

Reading is forgiving about spelling (``facilityStatus``, ``facility-status`` and
``facility_status`` are the same key; processes and materials as other projects name
them, see adapters/vocabulary.py) and strict about meaning: each record is checked on
its own, every problem of a record is reported as (index, id, name, field, reason), and
the valid records go on to be imported. What fabnet cannot plan on (a vinyl cutter, an
assembly station) is kept as non-planning equipment with a warning; a machine with no
build volume takes one from the printer-model table or is imported unverified. The
IoPA's relational export of fablabs.io data (records of ``facility``, ``location``,
``region``, ``address``, ``geocoding``) and its machine list (CSV) are read by the same
code. docs/okw.md shows the accepted shapes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from fabnet.adapters import vocabulary
from fabnet.adapters.gazetteer import Found, Gazetteer
from fabnet.domain.capabilities import MATERIALS, Process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.states import FacilityStatus, MachineStatus
from fabnet.services.commands import FacilitySpec, MachineSpec

MAX_RECORDS = 100_000


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


class ReadResult(NamedTuple):
    good: list[tuple[int, FacilitySpec]]
    bad: list[RecordError]  # every problem of every refused record
    warnings: list[RecordError]  # what was assumed or left out of planning
    located: dict[str, int]  # how records without coordinates were placed ("name", ...)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _norm(value: Any) -> Any:
    if isinstance(value, dict):
        return {_key(str(k)): _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def load_records(text: str, fmt: str) -> list[Any]:
    """Parse a file's text into a list of raw records; raises InvalidInput for the file."""
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput("file", f"not valid {fmt.upper()}: {exc}") from None
    except RecursionError:
        raise InvalidInput("file", f"{fmt.upper()} nested too deeply") from None
    if isinstance(data, dict):
        for key in ("facilities", "items", "records"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            data = [data]
    if not isinstance(data, list):
        raise InvalidInput("file", "expected a list of facility records")
    if len(data) > MAX_RECORDS:
        raise InvalidInput("file", f"more than {MAX_RECORDS} records")
    return data


MAX_MACHINE_ROWS = 1_000_000
MAX_EQUIPMENT = 1_000  # entries of one facility record
IOPA_COLUMNS = ("name", "brand", "class_1", "lab")


def load_iopa_machines(text: str) -> dict[str, list[dict[str, str]]]:
    """The IoPA machine list (CSV: name, brand, class_1, lab, country_code) by lab name."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))  # a BOM, from Excel
    missing = [c for c in IOPA_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput("machines", f"CSV columns missing: {', '.join(missing)}")
    by_lab: dict[str, list[dict[str, str]]] = {}
    for n, row in enumerate(reader):
        if n >= MAX_MACHINE_ROWS:
            raise InvalidInput("machines", f"more than {MAX_MACHINE_ROWS} rows")
        by_lab.setdefault(str(row.get("lab") or ""), []).append(
            {k: str(v or "") for k, v in row.items() if k}
        )
    return by_lab


def is_iopa(raw: Any) -> bool:
    """True for a record of the IoPA's relational export (its five linked objects)."""
    return (
        isinstance(raw, dict)
        and isinstance(raw.get("facility"), dict)
        and isinstance(raw.get("region"), dict)
        and "name" not in raw
    )


def from_iopa(raw: dict[str, Any], machines: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    """One IoPA record (and its lab's rows of the machine list) as an OKW record."""
    fac = raw["facility"]
    region = raw.get("region") or {}
    address = raw.get("address") or {}
    geo = raw.get("geocoding") or {}
    name = fac.get("name")
    url = fac.get("url")
    location: dict[str, Any] = {
        "address": {
            "street": address.get("extended") or "",
            "postal-code": address.get("zip_code") or "",
            "locality": region.get("city_town") or "",
            "region": region.get("state_region") or "",
            "country": region.get("country") or "",
        }
    }
    if geo.get("latitude") is not None and geo.get("longitude") is not None:
        location["gps-coordinates"] = {"lat": geo["latitude"], "lon": geo["longitude"]}
    rows = machines.get(name, []) if isinstance(name, str) else []
    if not rows and isinstance(name, str):
        rows = machines.get(name.strip(), [])
    return {
        "id": url if isinstance(url, str) and url.strip() else fac.get("facility_id"),
        "name": name,
        "facility-type": fac.get("description") or "",
        "website": url or "",
        "location": location,
        "equipment": [
            {
                "equipment-type": row.get("class_1", ""),
                "make": row.get("brand", ""),
                "model": row.get("name", ""),
            }
            for row in rows
        ],
    }


_CLASSES = {
    "fablab": "fablab",
    "fablabs": "fablab",
    "makerspace": "fablab",
    "hackerspace": "fablab",
    "workshop": "fablab",
    "school": "fablab",
    "university": "fablab",
    "factory": "factory",
    "microfactory": "factory",
    "manufacturer": "factory",
    "shop": "factory",
    "printfarm": "factory",
    "maker": "maker",
    "home": "maker",
    "individual": "maker",
}


@dataclass
class _Record:
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


class OkwReader:
    def __init__(
        self, gazetteer: Gazetteer, machines: dict[str, list[dict[str, str]]] | None = None
    ) -> None:
        self.gazetteer = gazetteer
        self.machines = machines or {}  # the IoPA machine list by lab name

    def read(self, records: list[Any]) -> ReadResult:
        result = ReadResult([], [], [], {})
        for index, raw in enumerate(records):
            rec = _Record(index)
            spec = self._facility(raw, rec)
            result.warnings.extend(rec.issues(rec.warnings))
            if rec.errors or spec is None:
                result.bad.extend(rec.issues(rec.errors or [("record", "not readable")]))
            else:
                result.good.append((index, spec))
                how = spec_how(spec)
                if how:
                    result.located[how] = result.located.get(how, 0) + 1
        return result

    def facility(self, raw: Any) -> FacilitySpec:
        """One record, or InvalidInput with its first problem (for single records)."""
        rec = _Record(0)
        spec = self._facility(raw, rec)
        if rec.errors or spec is None:
            where, reason = rec.errors[0] if rec.errors else ("record", "not readable")
            raise InvalidInput(where, reason)
        return spec

    def _facility(self, raw: Any, rec: _Record) -> FacilitySpec | None:
        if is_iopa(raw):
            raw = from_iopa(raw, self.machines)
        if not isinstance(raw, dict):
            rec.error("record", "a facility record must be a mapping")
            return None
        data = _norm(raw)
        name = data.get("name")
        ref = data.get("id")
        if ref is not None and not isinstance(ref, str | int):
            rec.error("id", "must be a string")
            ref = None
        rec.ref = str(ref) if ref is not None else ""
        if not isinstance(name, str) or not name.strip():
            rec.error("name", "required, a non-empty string")
            name = ""
        rec.name = name.strip()
        located = self._location(data.get("location"), rec)
        status = self._status(data.get("facilitystatus", "active"), rec)
        certs = data.get("certifications", [])
        if not isinstance(certs, list) or not all(isinstance(c, str) for c in certs):
            rec.error("certifications", "must be a list of strings")
            certs = []
        equipment = data.get("equipment", [])
        if not isinstance(equipment, list):
            rec.error("equipment", "must be a list")
            equipment = []
        if len(equipment) > MAX_EQUIPMENT:
            rec.error("equipment", f"{len(equipment)} entries; at most {MAX_EQUIPMENT} a facility")
            equipment = []
        machines: list[MachineSpec] = []
        others: list[str] = []
        for i, e in enumerate(equipment):
            self._equipment(e, i, rec, machines, others)
        producer_class = self._class(data, rec)
        if rec.errors or located is None or status is None:
            return None
        lat, lon, address, found = located
        if found is not None and found.how == "country only":
            reason = "located only to its country: confirm the address to plan on it"
            machines = [_unverified(m, reason) if not m.unverified else m for m in machines]
        _unique_names(machines)
        if ref is None:
            digest = hashlib.sha256(f"{rec.name}|{lat:.5f}|{lon:.5f}".encode()).hexdigest()
            rec.ref = f"okw:{digest[:20]}"
        extra = {"other_equipment": "\n".join(others)} if others else {}
        if found is not None:
            extra["located"] = f"{found.how}: {found.city.name}, {found.city.country}"
        return FacilitySpec(
            name=rec.name,
            lat=lat,
            lon=lon,
            address=address,
            status=status,
            certifications=tuple(certs),
            external_ref=rec.ref,
            machines=tuple(machines),
            producer_class=producer_class,
            extra=extra,
        )

    def _class(self, data: dict[str, Any], rec: _Record) -> str:
        for field_name in ("producerclass", "facilityclass", "facilitytype", "typeoffacility"):
            value = data.get(field_name)
            if isinstance(value, str) and value.strip():
                found = _CLASSES.get(_key(value))
                if found:
                    return found
                rec.warn(field_name, f"unknown facility type {value!r}: imported as maker")
                return "maker"
        website = data.get("website")
        if isinstance(website, str) and "fablabs.io" in website:
            return "fablab"
        return "maker"

    def _location(self, loc: Any, rec: _Record) -> tuple[float, float, str, Found | None] | None:
        if not isinstance(loc, dict):
            rec.error("location", "required: coordinates or an address with a city")
            return None
        address = loc.get("address")
        text = ""
        if isinstance(address, dict):
            text = ", ".join(str(v).strip() for v in address.values() if str(v or "").strip())
        elif isinstance(address, str):
            text = address
        coords = loc.get("gpscoordinates", loc.get("coordinates"))
        if coords is None and "lat" in loc:
            coords = {"lat": loc.get("lat"), "lon": loc.get("lon", loc.get("lng"))}
        if coords is not None:  # coordinates always win over the address
            found_coords = self._coords(coords, rec)
            return (*found_coords, text, None) if found_coords else None
        if not isinstance(address, dict):
            rec.error("location", "give gps-coordinates or an address with a city")
            return None
        city = address.get("locality") or address.get("city") or ""
        region = address.get("region") or ""
        country = str(address.get("country") or address.get("countrycode") or "")
        if country.strip() and self.gazetteer.country_code(country) is None:
            rec.error("location.address.country", f"unknown country {country!r}")
            return None
        found = None
        for part in (city, region):
            if isinstance(part, str) and part.strip():
                found = self.gazetteer.find(part, country)
                if found is not None:
                    if part is region:
                        found = Found(found.city, found.confidence * 0.5, f"region {found.how}")
                    break
        if found is None and country.strip():
            found = self.gazetteer.capital(country)
            if found is not None:
                rec.warn(
                    "location.address",
                    f"no place {city or region or '(none given)'!r} is known in {country}; "
                    f"put at its capital, {found.city.name}, and not planned on until "
                    "its address is confirmed",
                )
        if found is None:
            where = f" in {country}" if country else ""
            what = f"no city {city!r}{where} is known" if city else "no city given"
            rec.error("location.address", f"{what}; give gps-coordinates")
            return None
        if 0 < found.confidence < 1:
            rec.warn(
                "location.address",
                f"{city or region!r} placed at {found.city.name}, {found.city.country} "
                f"({found.how}, confidence {found.confidence:.2f})",
            )
        return found.place.lat, found.place.lon, text, found

    @staticmethod
    def _coords(coords: Any, rec: _Record) -> tuple[float, float] | None:
        where = "location.gps-coordinates"
        try:
            if isinstance(coords, str):
                lat_s, lon_s = (p.strip() for p in coords.split(","))
                lat, lon = float(lat_s), float(lon_s)
            elif isinstance(coords, dict):
                lat = float(coords.get("lat", coords.get("latitude")))  # type: ignore[arg-type]
                lon = float(coords.get("lon", coords.get("lng", coords.get("longitude"))))  # type: ignore[arg-type]
            elif isinstance(coords, list | tuple) and len(coords) == 2:
                lat, lon = float(coords[0]), float(coords[1])
            else:
                raise ValueError
        except (TypeError, ValueError):
            rec.error(where, "expected 'lat, lon' or {lat, lon}")
            return None
        ok = True
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            rec.error(where, f"latitude {lat} is out of range")
            ok = False
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            rec.error(where, f"longitude {lon} is out of range")
            ok = False
        return (lat, lon) if ok else None

    @staticmethod
    def _status(value: Any, rec: _Record) -> FacilityStatus | None:
        try:
            return FacilityStatus(_key(str(value)).replace("temporaryclosure", "temporary_closure"))
        except ValueError:
            known = ", ".join(s.value for s in FacilityStatus)
            rec.error("facilityStatus", f"unknown status {value!r}; known: {known}")
            return None

    def _equipment(
        self, raw: Any, i: int, rec: _Record, machines: list[MachineSpec], others: list[str]
    ) -> None:
        where = f"equipment[{i}]"
        if not isinstance(raw, dict):
            rec.error(where, "must be a mapping")
            return
        make = str(raw.get("make", raw.get("manufacturer", "")) or "").strip()
        model = str(raw.get("model", "") or "").strip()
        label = str(raw.get("name") or " ".join(x for x in (make, model) if x)).strip()
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
            return
        term: vocabulary.ProcessTerm | None = None
        for _, value in said:
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str):
                    term = term or vocabulary.process_term(v)
        model_row = vocabulary.printer_model(make, model) if model else None
        if term is None:
            _, value = said[0]
            rec.warn(
                said[0][0],
                f"unknown process {value!r}: kept as equipment, not planned on",
            )
            others.append(f"{value}: {label}".strip().rstrip(":"))
            return
        if term.process is None:
            rec.warn(said[0][0], f"{term.canonical}: kept as equipment, not planned on")
            others.append(f"{term.canonical}: {label}".strip().rstrip(":"))
            return
        process = term.process
        if term.canonical == "3d_printing":  # which kind of 3D printing, if the model says
            if model_row is not None:
                process = model_row.process
            elif vocabulary.key(make) in vocabulary.RESIN_MAKES:
                process = Process.SLA
        errors_before = len(rec.errors)
        materials = self._materials(raw, where, process, rec)
        volume = self._volume(raw.get("buildvolume", raw.get("workingarea")), where, rec)
        unverified: list[str] = []
        if volume is None and len(rec.errors) == errors_before:
            if model_row is not None and model_row.process is process:
                volume = model_row.build_volume_mm
                rec.warn(
                    f"{where}.build-volume",
                    f"not given: {_mm(volume)} from {model_row.source} ({model_row.model})",
                )
            else:
                unverified.append("build volume not known")
        if not materials and len(rec.errors) == errors_before:
            if model_row is not None and model_row.process is process and model_row.materials:
                materials = list(model_row.materials)
                rec.warn(
                    f"{where}.materials-worked",
                    f"not given: {', '.join(materials)} assumed from {model_row.source}",
                )
            else:
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

    @staticmethod
    def _materials(raw: dict[str, Any], where: str, process: Process, rec: _Record) -> list[str]:
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

    @staticmethod
    def _volume(raw: Any, where: str, rec: _Record) -> tuple[float, float, float] | None:
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


def _unverified(spec: MachineSpec, reason: str) -> MachineSpec:
    from dataclasses import replace

    return replace(spec, unverified=reason)


def _unique_names(machines: list[MachineSpec]) -> None:
    """Machines are matched by name within a producer: two alike get (2), (3), ..."""
    from dataclasses import replace

    seen: dict[str, int] = {}
    for i, m in enumerate(machines):
        n = seen[m.name] = seen.get(m.name, 0) + 1
        if n > 1:
            machines[i] = replace(m, name=f"{m.name} ({n})")


def spec_how(spec: FacilitySpec) -> str:
    """How a facility was placed: '' (its coordinates) or the gazetteer's match kind."""
    located = spec.extra.get("located", "")
    return located.split(":", 1)[0] if located else ""


def export_records(producers: list[Producer], machines: list[Machine]) -> list[dict[str, Any]]:
    """OKW records for ``producers`` and their ``machines`` (read back by OkwReader):
    unverified machines without the build volume they lack, other equipment as
    equipment with its process's canonical id."""
    by_producer: dict[str, list[Machine]] = {}
    for m in machines:
        by_producer.setdefault(m.producer_id, []).append(m)
    out = []
    for p in producers:
        equipment: list[dict[str, Any]] = []
        for m in sorted(by_producer.get(p.id, []), key=lambda m: m.name):
            unverified = m.status is MachineStatus.UNVERIFIED
            item: dict[str, Any] = {
                "name": m.name,
                "manufacturing-process": m.process.value,
                "make": m.make,
                "model": m.model,
            }
            if not unverified or all((m.build_volume.x_mm, m.build_volume.y_mm)):
                item["build-volume"] = {
                    "x": m.build_volume.x_mm,
                    "y": m.build_volume.y_mm,
                    "z": m.build_volume.z_mm,
                }
            if m.materials:
                item["materials-worked"] = list(m.materials)
            if m.nozzle_mm is not None:
                item["nozzle-size"] = m.nozzle_mm
            item["hours-per-day"] = m.hours_per_day
            item["speed-factor"] = m.speed_factor
            equipment.append(item)
        for other in (e for e in p.extra.get("other_equipment", "").split("\n") if e):
            process, _, label = other.partition(": ")
            equipment.append({"name": label or process, "manufacturing-process": process})
        record: dict[str, Any] = {
            "id": p.external_ref or p.id,
            "name": p.name,
            "facility-type": p.producer_class.value,
            "location": {
                "gps-coordinates": f"{p.place.lat:.6f}, {p.place.lon:.6f}",
                **({"address": p.address} if p.address else {}),
            },
            "facilityStatus": p.status.value,
            "certifications": list(p.certifications),
            "equipment": equipment,
        }
        out.append(record)
    return out

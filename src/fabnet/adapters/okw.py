"""Open Know-Where (OKW) facility records: read (JSON or YAML) and write.

Reading is forgiving about spelling (``facilityStatus``, ``facility-status`` and
``facility_status`` are the same key) and strict about meaning: each record is checked
on its own, and every problem is reported as (index, field, reason) while the valid
records go on to be imported. docs/okw.md shows the accepted shape.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from fabnet.adapters.gazetteer import Gazetteer
from fabnet.domain.capabilities import parse_material, parse_process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.states import FacilityStatus
from fabnet.services.commands import FacilitySpec, MachineSpec

MAX_RECORDS = 100_000


@dataclass(frozen=True)
class RecordError:
    index: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"record {self.index}: {self.field}: {self.reason}"


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


class OkwReader:
    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    def read(self, records: list[Any]) -> tuple[list[tuple[int, FacilitySpec]], list[RecordError]]:
        good: list[tuple[int, FacilitySpec]] = []
        bad: list[RecordError] = []
        for index, raw in enumerate(records):
            try:
                good.append((index, self.facility(raw)))
            except InvalidInput as exc:
                bad.append(RecordError(index, exc.field, exc.problem))
        return good, bad

    def facility(self, raw: Any) -> FacilitySpec:
        if not isinstance(raw, dict):
            raise InvalidInput("record", "a facility record must be a mapping")
        rec = _norm(raw)
        name = rec.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("name", "required, a non-empty string")
        lat, lon, address = self._location(rec.get("location"))
        status = self._status(rec.get("facilitystatus", "active"))
        certs = rec.get("certifications", [])
        if not isinstance(certs, list) or not all(isinstance(c, str) for c in certs):
            raise InvalidInput("certifications", "must be a list of strings")
        equipment = rec.get("equipment", [])
        if not isinstance(equipment, list):
            raise InvalidInput("equipment", "must be a list")
        machines = tuple(self._machine(e, i) for i, e in enumerate(equipment))
        ref = rec.get("id")
        if ref is None:
            digest = hashlib.sha256(f"{name.strip()}|{lat:.5f}|{lon:.5f}".encode()).hexdigest()
            ref = f"okw:{digest[:20]}"
        return FacilitySpec(
            name=name.strip(),
            lat=lat,
            lon=lon,
            address=address,
            status=status,
            certifications=tuple(certs),
            external_ref=str(ref),
            machines=machines,
        )

    def _location(self, loc: Any) -> tuple[float, float, str]:
        if not isinstance(loc, dict):
            raise InvalidInput("location", "required: coordinates or an address with a city")
        address = loc.get("address")
        text = ""
        if isinstance(address, dict):
            text = ", ".join(str(v) for v in address.values() if v)
        elif isinstance(address, str):
            text = address
        coords = loc.get("gpscoordinates", loc.get("coordinates"))
        if coords is None and "lat" in loc:
            coords = {"lat": loc.get("lat"), "lon": loc.get("lon", loc.get("lng"))}
        if coords is not None:
            lat, lon = self._coords(coords)
            return lat, lon, text
        if isinstance(address, dict):
            city = address.get("locality") or address.get("city")
            country = address.get("country") or address.get("countrycode") or ""
            if isinstance(city, str) and city.strip():
                found = self.gazetteer.locate(city, str(country))
                if found is None:
                    where = f" in {country}" if country else ""
                    raise InvalidInput("location.address", f"no city {city!r}{where} is known")
                return found.place.lat, found.place.lon, text
        raise InvalidInput("location", "give gps-coordinates or an address with a city")

    @staticmethod
    def _coords(coords: Any) -> tuple[float, float]:
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
            raise InvalidInput(
                "location.gps-coordinates", "expected 'lat, lon' or {lat, lon}"
            ) from None
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            raise InvalidInput("location.gps-coordinates", f"latitude {lat} is out of range")
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            raise InvalidInput("location.gps-coordinates", f"longitude {lon} is out of range")
        return lat, lon

    @staticmethod
    def _status(value: Any) -> FacilityStatus:
        try:
            return FacilityStatus(_key(str(value)).replace("temporaryclosure", "temporary_closure"))
        except ValueError:
            known = ", ".join(s.value for s in FacilityStatus)
            raise InvalidInput(
                "facilityStatus", f"unknown status {value!r}; known: {known}"
            ) from None

    def _machine(self, raw: Any, i: int) -> MachineSpec:
        where = f"equipment[{i}]"
        if not isinstance(raw, dict):
            raise InvalidInput(where, "must be a mapping")
        process = parse_process(
            raw.get("manufacturingprocess", raw.get("process")), f"{where}.manufacturing-process"
        )
        materials_raw = raw.get("materialsworked", raw.get("materials", []))
        if not isinstance(materials_raw, list) or not materials_raw:
            raise InvalidInput(f"{where}.materials-worked", "a non-empty list of materials")
        materials = []
        for j, m in enumerate(materials_raw):
            name = m.get("name", m.get("materialtype")) if isinstance(m, dict) else m
            materials.append(parse_material(name, process, f"{where}.materials-worked[{j}]"))
        volume = self._volume(raw.get("buildvolume", raw.get("workingarea")), where)
        make = raw.get("make", raw.get("manufacturer", ""))
        label = raw.get("name") or " ".join(str(x) for x in (make, raw.get("model", "")) if x)
        nozzle = raw.get("nozzlesize")
        try:
            return MachineSpec(
                name=str(label or f"{process.value}-{i + 1}"),
                process=process.value,
                materials=tuple(materials),
                build_volume_mm=volume,
                make=str(make),
                model=str(raw.get("model", "")),
                nozzle_mm=float(nozzle) if nozzle is not None else None,
                hours_per_day=float(raw.get("hoursperday", 20.0)),
                speed_factor=float(raw.get("speedfactor", 1.0)),
            )
        except (TypeError, ValueError) as exc:
            raise InvalidInput(where, f"a number was expected: {exc}") from None

    @staticmethod
    def _volume(raw: Any, where: str) -> tuple[float, float, float]:
        field = f"{where}.build-volume"
        try:
            if isinstance(raw, str):
                text = raw.strip().removesuffix("mm")
                parts = [float(p) for p in re.split(r"\s*[x×,]\s*", text)]  # noqa: RUF001
            elif isinstance(raw, dict):
                parts = [float(raw[k]) for k in ("x", "y", "z")]
            elif isinstance(raw, list):
                parts = [float(p) for p in raw]
            else:
                raise InvalidInput(field, "required, e.g. '250 x 210 x 220' (mm)")
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                field, "expected three sizes in mm, e.g. '250 x 210 x 220'"
            ) from None
        if len(parts) != 3 or not all(math.isfinite(p) and p > 0 for p in parts):
            raise InvalidInput(field, "expected three positive sizes in mm")
        return parts[0], parts[1], parts[2]


def export_records(producers: list[Producer], machines: list[Machine]) -> list[dict[str, Any]]:
    """OKW records for ``producers`` and their ``machines`` (read back by OkwReader)."""
    by_producer: dict[str, list[Machine]] = {}
    for m in machines:
        by_producer.setdefault(m.producer_id, []).append(m)
    out = []
    for p in producers:
        record: dict[str, Any] = {
            "id": p.external_ref or p.id,
            "name": p.name,
            "location": {
                "gps-coordinates": f"{p.place.lat:.6f}, {p.place.lon:.6f}",
                **({"address": p.address} if p.address else {}),
            },
            "facilityStatus": p.status.value,
            "certifications": list(p.certifications),
            "equipment": [
                {
                    "name": m.name,
                    "manufacturing-process": m.process.value,
                    "make": m.make,
                    "model": m.model,
                    "build-volume": {
                        "x": m.build_volume.x_mm,
                        "y": m.build_volume.y_mm,
                        "z": m.build_volume.z_mm,
                    },
                    "materials-worked": list(m.materials),
                    **({"nozzle-size": m.nozzle_mm} if m.nozzle_mm is not None else {}),
                    "hours-per-day": m.hours_per_day,
                    "speed-factor": m.speed_factor,
                }
                for m in sorted(by_producer.get(p.id, []), key=lambda m: m.name)
            ],
        }
        out.append(record)
    return out

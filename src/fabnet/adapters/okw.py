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

import hashlib
import json
import math
import re
from typing import Any, NamedTuple

import yaml

from fabnet.adapters.gazetteer import Found, Gazetteer
from fabnet.adapters.okw_equipment import RecordError, RecordNotes, read_equipment
from fabnet.adapters.okw_iopa import from_iopa, is_iopa
from fabnet.domain.errors import InvalidInput
from fabnet.domain.states import FacilityStatus
from fabnet.services.commands import FacilitySpec, MachineSpec

MAX_RECORDS = 100_000


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


MAX_EQUIPMENT = 1_000  # entries of one facility record
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


class OkwReader:
    def __init__(
        self, gazetteer: Gazetteer, machines: dict[str, list[dict[str, str]]] | None = None
    ) -> None:
        self.gazetteer = gazetteer
        self.machines = machines or {}  # the IoPA machine list by lab name

    def read(self, records: list[Any]) -> ReadResult:
        result = ReadResult([], [], [], {})
        for index, raw in enumerate(records):
            rec = RecordNotes(index)
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
        rec = RecordNotes(0)
        spec = self._facility(raw, rec)
        if rec.errors or spec is None:
            where, reason = rec.errors[0] if rec.errors else ("record", "not readable")
            raise InvalidInput(where, reason)
        return spec

    def _facility(self, raw: Any, rec: RecordNotes) -> FacilitySpec | None:
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
            read_equipment(e, i, rec, machines, others)
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

    def _class(self, data: dict[str, Any], rec: RecordNotes) -> str:
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

    def _location(
        self, loc: Any, rec: RecordNotes
    ) -> tuple[float, float, str, Found | None] | None:
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
    def _coords(coords: Any, rec: RecordNotes) -> tuple[float, float] | None:
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
    def _status(value: Any, rec: RecordNotes) -> FacilityStatus | None:
        try:
            return FacilityStatus(_key(str(value)).replace("temporaryclosure", "temporary_closure"))
        except ValueError:
            known = ", ".join(s.value for s in FacilityStatus)
            rec.error("facilityStatus", f"unknown status {value!r}; known: {known}")
            return None


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

"""The IoPA's relational export of fablabs.io data as OKW records: each record's five
linked objects (``facility``, ``location``, ``region``, ``address``, ``geocoding``) and
its lab's rows of the machine list (CSV). okw.py reads the result as any OKW record."""

from __future__ import annotations

import csv
import io
from typing import Any

from fabnet.domain.errors import InvalidInput

MAX_MACHINE_ROWS = 1_000_000
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

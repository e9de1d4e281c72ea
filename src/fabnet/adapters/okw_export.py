"""OKW facility records written from fabnet's producers and machines (okw.py reads them
back)."""

from __future__ import annotations

from typing import Any

from fabnet.domain.producers import Machine, Producer
from fabnet.domain.states import MachineStatus


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

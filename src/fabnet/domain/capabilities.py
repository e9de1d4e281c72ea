"""Manufacturing processes and the materials each one works.

The catalogue is deliberately small; unknown names are refused at the edge so that a typo
("PLAA") never turns into an order no machine can make.
"""

from __future__ import annotations

from enum import StrEnum

from fabnet.domain.errors import InvalidInput


class Process(StrEnum):
    FDM = "fdm"  # fused deposition modelling (filament 3D printing)
    SLA = "sla"  # resin vat photopolymerisation
    SLS = "sls"  # powder bed fusion of polymers
    CNC_MILLING = "cnc_milling"
    LASER_CUTTING = "laser_cutting"


MATERIALS: dict[Process, frozenset[str]] = {
    Process.FDM: frozenset({"PLA", "PETG", "ABS", "ASA", "TPU", "PA", "PC"}),
    Process.SLA: frozenset({"RESIN_STANDARD", "RESIN_TOUGH", "RESIN_FLEXIBLE"}),
    Process.SLS: frozenset({"PA12", "PA11", "TPU"}),
    Process.CNC_MILLING: frozenset({"ALUMINIUM", "STEEL", "BRASS", "POM", "WOOD"}),
    Process.LASER_CUTTING: frozenset({"ACRYLIC", "PLYWOOD", "PET_SHEET", "CARDBOARD"}),
}

_PROCESS_ALIASES = {
    "3d printing": Process.FDM,
    "3d-printing": Process.FDM,
    "fff": Process.FDM,
    "fused filament fabrication": Process.FDM,
    "fused deposition modeling": Process.FDM,
    "stereolithography": Process.SLA,
    "selective laser sintering": Process.SLS,
    "cnc": Process.CNC_MILLING,
    "cnc mill": Process.CNC_MILLING,
    "milling": Process.CNC_MILLING,
    "laser cutter": Process.LASER_CUTTING,
    "laser": Process.LASER_CUTTING,
}


def parse_process(value: object, field: str = "process") -> Process:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be a process name, e.g. 'fdm'")
    key = value.strip().lower()
    if key in _PROCESS_ALIASES:
        return _PROCESS_ALIASES[key]
    try:
        return Process(key.replace(" ", "_").replace("-", "_"))
    except ValueError:
        known = ", ".join(p.value for p in Process)
        raise InvalidInput(field, f"unknown process {value!r}; known: {known}") from None


def parse_material(value: object, process: Process | None = None, field: str = "material") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be a material name, e.g. 'PLA'")
    name = value.strip().upper().replace("-", "_").replace(" ", "_")
    allowed = MATERIALS[process] if process else frozenset().union(*MATERIALS.values())
    if name not in allowed:
        where = f" for {process.value}" if process else ""
        raise InvalidInput(
            field, f"unknown material {value!r}{where}; known: {', '.join(sorted(allowed))}"
        )
    return name

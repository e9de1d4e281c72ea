"""Modes of transport and what a kilometre of each costs the climate.

Every emission factor carries its source (shared/reference/figures.md; DEFRA/DESNZ 2025 is
the UK average; all tank-to-wheel (TTW), so that modes compare on one scope: the
well-to-tank share is not in the figures for every mode). Speeds, capacities, shift
lengths and prices are the operator's parameters: placeholders here, not measured values,
except where a source is named. A factor that no source gives (an e-cargo bike's absolute
g CO2e/km) is None: the operator must set it before the mode's CO2 is counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from fabnet.domain.errors import InvalidInput

MJ_PER_KWH = 3.6
UK_GRID_KG_PER_KWH = 0.177  # DEFRA 2025, generation (figures.md 1a)


@dataclass(frozen=True, slots=True)
class Mode:
    name: str
    speed_kmh: float  # average door-to-door speed in town (a parameter)
    capacity_kg: float
    capacity_l: float
    range_km: float  # longest route (a drone: its round trip)
    shift_h: float  # longest route duration
    cost_per_km: float  # minor units (a parameter)
    cost_per_stop: float
    co2_kg_per_km: float | None  # per vehicle-km; None: unsourced, set it
    co2_source: str = ""
    co2_kg_per_tkm: float | None = None  # for freight legs (the parcel carrier)

    def __post_init__(self) -> None:
        for name in ("speed_kmh", "capacity_kg", "capacity_l", "range_km", "shift_h"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidInput(f"modes.{self.name}.{name}", "must be a number > 0")
        for name in ("cost_per_km", "cost_per_stop", "co2_kg_per_km", "co2_kg_per_tkm"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise InvalidInput(f"modes.{self.name}.{name}", "must be a number >= 0")

    def with_(self, **changes: object) -> Mode:
        return replace(self, **changes)  # type: ignore[arg-type]


def drone_kg_per_km(grid_kg_per_kwh: float = UK_GRID_KG_PER_KWH) -> float:
    """A small quadcopter's cruise energy, 0.08 MJ/km with a 0.5 kg package (Rodrigues et
    al. 2022, Patterns 3:100569), times the grid's factor."""
    return 0.08 / MJ_PER_KWH * grid_kg_per_kwh


VAN = Mode(
    "van",
    speed_kmh=30.0,
    capacity_kg=800.0,
    capacity_l=6000.0,
    range_km=400.0,
    shift_h=8.0,
    cost_per_km=60.0,
    cost_per_stop=50.0,
    co2_kg_per_km=0.25561,
    co2_source="DEFRA/DESNZ 2025, Vans: Average (up to 3.5 t), Diesel, TTW per vehicle-km",
    co2_kg_per_tkm=0.63130,
)
EV_VAN = VAN.with_(
    name="ev_van",
    co2_kg_per_km=0.06976,
    co2_source="DEFRA/DESNZ 2025, Vans: Average (up to 3.5 t), Battery EV, UK grid, "
    "TTW per vehicle-km",
    co2_kg_per_tkm=0.21992,
)
CARGO_BIKE = Mode(
    "cargo_bike",
    speed_kmh=15.0,
    capacity_kg=100.0,
    capacity_l=400.0,
    range_km=60.0,
    shift_h=8.0,
    cost_per_km=30.0,
    cost_per_stop=30.0,
    co2_kg_per_km=None,
    co2_source="UNSOURCED (figures.md: Temporelli et al. 2022 give only differences)",
)
RIDE_SHARE = Mode(
    "ride_share",
    speed_kmh=30.0,
    capacity_kg=50.0,
    capacity_l=300.0,
    range_km=200.0,
    shift_h=4.0,
    cost_per_km=40.0,
    cost_per_stop=100.0,
    co2_kg_per_km=0.16725,
    co2_source="DEFRA/DESNZ 2025, Business travel - land, Average car, Unknown fuel",
)
DRONE = Mode(
    "drone",
    speed_kmh=105.0,
    capacity_kg=2.3,
    capacity_l=5.0,
    range_km=19.0,
    shift_h=0.5,
    cost_per_km=20.0,
    cost_per_stop=100.0,
    co2_kg_per_km=drone_kg_per_km(),
    co2_source="0.08 MJ/km (Rodrigues et al. 2022) x UK grid 0.177 kg/kWh (DEFRA 2025); "
    "payload 2.3 kg, 105 km/h, 19 km round trip: Wing, 2024 (dronedj.com) [secondary]",
)
CARRIER = Mode(
    "parcel_carrier",
    speed_kmh=50.0,
    capacity_kg=30.0,
    capacity_l=200.0,
    range_km=5000.0,
    shift_h=72.0,
    cost_per_km=0.0,
    cost_per_stop=800.0,
    co2_kg_per_km=None,
    co2_source="DEFRA/DESNZ 2025, Vans: Average (up to 3.5 t), Diesel, TTW per tonne-km "
    "(DEFRA's average van load)",
    co2_kg_per_tkm=0.63130,
)

MODES: dict[str, Mode] = {m.name: m for m in (VAN, EV_VAN, CARGO_BIKE, RIDE_SHARE, DRONE, CARRIER)}

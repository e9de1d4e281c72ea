"""A routing wave's parcels and couriers, and what it decides: each parcel's leg, the
couriers' routes, and why the others wait (dispatch.py makes it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fabnet.domain.units import Place
from fabnet.routing.modes import Mode


@dataclass(frozen=True, slots=True)
class Waiting:
    """A parcel waiting for a route: at its producer, or at a hub after a first leg."""

    id: str
    origin: Place
    destination: Place
    mass_g: int
    volume_ml: int
    due: datetime
    at_hub: bool = False


@dataclass(frozen=True, slots=True)
class Courier:
    id: str
    mode: Mode
    base: Place
    free_from: datetime | None = None  # None: free now


@dataclass(frozen=True, slots=True)
class LegPlan:
    parcel_id: str
    mode: str
    courier_id: str | None
    route_id: str
    stop: int
    to: Place
    to_hub: bool
    pickup_eta: datetime
    eta: datetime
    distance_km: float
    co2_kg: float


@dataclass(frozen=True, slots=True)
class RouteSummary:
    route_id: str
    courier_id: str
    mode: str
    kind: str  # collect | deliver | fly
    stops: int
    parcels: int
    distance_km: float
    co2_kg: float
    starts: datetime
    ends: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "route_id": self.route_id,
            "courier_id": self.courier_id,
            "mode": self.mode,
            "kind": self.kind,
            "stops": self.stops,
            "parcels": self.parcels,
            "distance_km": round(self.distance_km, 3),
            "co2_kg": round(self.co2_kg, 4),
            "starts": self.starts.isoformat(),
            "ends": self.ends.isoformat(),
        }


@dataclass
class Wave:
    legs: dict[str, LegPlan] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)  # parcel id -> why it waits
    routes: list[RouteSummary] = field(default_factory=list)
    seconds: float = 0.0

"""Quantities with their unit in the name: places, sizes and money."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import permutations

from fabnet.domain.errors import InvalidInput

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


@dataclass(frozen=True, slots=True)
class Place:
    """A point on Earth in WGS84 degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise InvalidInput("lat", f"must be a number in [-90, 90], got {self.lat!r}")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise InvalidInput("lon", f"must be a number in [-180, 180], got {self.lon!r}")

    def distance_km(self, other: Place) -> float:
        """Great-circle distance (haversine)."""
        p1, p2 = math.radians(self.lat), math.radians(other.lat)
        dp = p2 - p1
        dl = math.radians(other.lon - self.lon)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned size in millimetres (a bounding box or a build volume)."""

    x_mm: float
    y_mm: float
    z_mm: float

    def __post_init__(self) -> None:
        for name in ("x_mm", "y_mm", "z_mm"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise InvalidInput(name, f"must be a finite size >= 0 mm, got {value!r}")

    def fits_in(self, volume: Box) -> bool:
        """True when some axis-aligned rotation of this box fits inside ``volume``."""
        room = (volume.x_mm, volume.y_mm, volume.z_mm)
        return any(
            all(s <= r for s, r in zip(sides, room, strict=True))
            for sides in permutations((self.x_mm, self.y_mm, self.z_mm))
        )


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units (cents) of one ISO 4217 currency."""

    minor: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise InvalidInput(
                "currency", f"must be an ISO 4217 code like EUR, got {self.currency!r}"
            )

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise InvalidInput("currency", f"cannot add {other.currency} to {self.currency}")
        return Money(self.minor + other.minor, self.currency)

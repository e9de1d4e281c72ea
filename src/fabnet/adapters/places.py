"""A place name to coordinates, for destinations given as a city (API and CLI)."""

from __future__ import annotations

from functools import cache

from fabnet.adapters.gazetteer import Gazetteer
from fabnet.domain.errors import InvalidInput


@cache
def _gazetteer() -> Gazetteer:
    # cities of 15,000 people or more only: a request cannot make the hub load the table
    # of small towns (60 MB, seconds), whatever it asks for
    return Gazetteer(tiers=(15000,))


def resolve_place(city: str, country: str, field: str) -> tuple[float, float]:
    """(lat, lon) of ``city`` in ``country``; InvalidInput naming ``field`` otherwise.
    A misspelling is accepted only with a confidence of at least 0.7."""
    gaz = _gazetteer()
    if country.strip() and gaz.country_code(country) is None:
        raise InvalidInput(f"{field}.country", f"unknown country {country!r}")
    found = gaz.find(city, country)
    if found is None or found.confidence < 0.7:
        where = f" in {country}" if country.strip() else ""
        raise InvalidInput(f"{field}.city", f"no place {city!r}{where} is known; give lat and lon")
    return found.place.lat, found.place.lon


def split_place(text: str) -> tuple[str, str]:
    """'Nairobi, KE' -> ('Nairobi', 'KE'); a last part that is no country stays in the city."""
    city, sep, last = text.rpartition(",")
    if sep and _gazetteer().country_code(last) is not None:
        return city.strip(), last.strip()
    return text.strip(), ""

"""Times as they enter fabnet: timezone-aware, converted to UTC, inside a sane window.

A time that cannot be represented in UTC (``9999-12-31T23:59:59-14:00`` is in year 10000)
or that lies outside ``EARLIEST .. LATEST`` is refused where it enters, naming the field,
so that no stored time can later fail to load.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fabnet.domain.errors import InvalidInput

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def to_utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must carry a timezone (e.g. 2026-03-01T12:00:00Z)")
    try:
        out = value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, "is not a representable time in UTC") from None
    if not EARLIEST <= out <= LATEST:
        raise InvalidInput(
            field, f"must be between {EARLIEST.year} and {LATEST.year} (UTC), got {out.isoformat()}"
        )
    return out


def stored_utc(value: datetime) -> datetime:
    """A time read back from a store: UTC, and clamped into the window if a store written
    before the bounds holds one outside it (so that one bad row cannot break a listing)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        out = value.astimezone(UTC)
    except OverflowError:
        return LATEST
    return min(max(out, EARLIEST), LATEST)

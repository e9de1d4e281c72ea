"""Shapes shared by every noun."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Strict(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not a no-op) and values of
    the wrong JSON type (`"3"` is not a quantity, `true` is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Location(Strict):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def paged(listing: Any, convert: Callable[[Any], T]) -> PageOut[T]:
    """A store listing (``services.ports.Listing``) as the API's page shape."""
    return PageOut(
        items=[convert(item) for item in listing.items],
        total=listing.total,
        limit=listing.page.limit,
        offset=listing.page.offset,
    )


class ErrorDetail(BaseModel):
    """What went wrong: a machine-readable ``type``, a message for people, the field it
    concerns (when one does), the limit that was reached (429/413), and more by type."""

    model_config = ConfigDict(extra="allow")

    type: str
    message: str
    field: str | None = None
    limit: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (400, "malformed request"),
        (401, "no key, or an unknown, revoked or expired one"),
        (403, "the key may not do this"),
        (404, "no such thing, or not yours"),
        (405, "method not allowed here"),
        (409, "clashes with the current state (a move refused, a duplicate, a stale write)"),
        (411, "a body must declare its length"),
        (413, "the body is larger than its limit"),
        (422, "invalid input: names the field and the problem"),
        (429, "a rate or quota of the hub's policy: names the limit"),
        (503, "an outside system (store, slicer, broker, worker) is unavailable"),
    )
}

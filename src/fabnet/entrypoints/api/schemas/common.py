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
    type: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail

"""Pages of listings: a module of its own so the CLI can name its bounds without loading
the whole domain (services/ports.py re-exports these)."""

from __future__ import annotations

from dataclasses import dataclass

from fabnet.domain.errors import InvalidInput

MAX_PAGE = 500
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE}")
        if not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidInput("offset", f"must be between 0 and {MAX_OFFSET}")

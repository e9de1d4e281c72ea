"""The small filter language of repositories, evaluated in Python (the in-memory store)."""

from __future__ import annotations

from typing import Any

from fabnet.adapters.rows import Row


def split(key: str) -> tuple[str, str]:
    """``"expires_at__lte"`` -> ``("expires_at", "lte")``; plain keys are ``eq``."""
    name, _, op = key.partition("__")
    return name, op or "eq"


ANY = "_any"  # the value: a list of filters, of which the row must match one


def matches(row: Row, filters: dict[str, Any]) -> bool:
    for key, value in filters.items():
        if key == ANY:
            if not any(matches(row, f) for f in value):
                return False
            continue
        name, op = split(key)
        have = row[name]
        if op == "lte":
            if have is None or have > value:
                return False
        elif op == "ne":
            if have == value:
                return False
        elif isinstance(value, tuple | list | frozenset | set):
            if have not in value:
                return False
        elif have != value:
            return False
    return True

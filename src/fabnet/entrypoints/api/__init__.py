"""The HTTP API (FastAPI). Build it with :func:`create_app` (imported on first use, so
that importing a schema from here does not load the web framework)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fabnet.entrypoints.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from fabnet.entrypoints.api.app import create_app

        return create_app
    raise AttributeError(name)

"""The HTTP API (FastAPI). Build it with :func:`create_app`."""

from fabnet.entrypoints.api.app import create_app

__all__ = ["create_app"]

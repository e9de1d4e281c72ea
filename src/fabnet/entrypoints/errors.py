"""The one table from errors to HTTP statuses and CLI exit codes."""

from __future__ import annotations

from typing import Any

from fabnet.domain import errors as e

# most specific first
TABLE: list[tuple[type[e.FabnetError], int, int, str]] = [
    (e.PayloadTooLarge, 413, 65, "payload_too_large"),
    (e.BadMesh, 422, 65, "bad_mesh"),
    (e.InvalidInput, 422, 65, "invalid_input"),
    (e.NotFound, 404, 66, "not_found"),
    (e.DuplicateOrder, 409, 75, "duplicate"),
    (e.InvalidTransition, 409, 75, "invalid_transition"),
    (e.StaleUpdate, 409, 75, "stale_update"),
    (e.Conflict, 409, 75, "conflict"),
    (e.CapabilityMismatch, 422, 65, "capability_mismatch"),
    (e.Unauthorized, 401, 77, "unauthorized"),
    (e.Forbidden, 403, 77, "forbidden"),
    (e.LimitExceeded, 429, 75, "limit_exceeded"),
    (e.ExternalSystemError, 503, 69, "external_system"),
    (e.FabnetError, 400, 1, "error"),
]


def classify(error: e.FabnetError) -> tuple[int, int, str]:
    """(HTTP status, CLI exit code, error type) for ``error``."""
    for cls, status, exit_code, kind in TABLE:
        if isinstance(error, cls):
            return status, exit_code, kind
    return 500, 1, "error"  # pragma: no cover - FabnetError is last in the table


def body(error: e.FabnetError) -> dict[str, Any]:
    _, _, kind = classify(error)
    detail: dict[str, Any] = {"type": kind, "message": error.message}
    for name in ("field", "problem", "kind", "ident", "current", "target", "limit"):
        if hasattr(error, name):
            detail[name] = getattr(error, name)
    return {"error": detail}

"""Log entries: canonical JSON bytes (sorted keys, no spaces, UTF-8, no NaN), so that the
same event always hashes the same, whoever serialises it."""

from __future__ import annotations

import json
from typing import Any


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def event_leaf(seq: int, name: str, payload: dict[str, Any]) -> bytes:
    """The log entry of one stored event. It names the event's sequence number, so that
    the same event is recognised wherever it appears (a verifier refuses a bundle that
    holds one event twice)."""
    return canonical({"event": name, "payload": payload, "seq": seq})

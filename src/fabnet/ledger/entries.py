"""Log entries: canonical JSON bytes (sorted keys, no spaces, UTF-8, no NaN), so that the
same event always hashes the same, whoever serialises it."""

from __future__ import annotations

import json
from typing import Any


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()

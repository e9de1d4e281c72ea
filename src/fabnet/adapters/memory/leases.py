"""Leases in one process (tests, the simulator)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class InMemoryLeases:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, tuple[str, datetime]] = {}

    def acquire(self, name: str, holder: str, ttl_s: float, now: datetime) -> bool:
        with self._lock:
            current = self._held.get(name)
            if current is not None and current[0] != holder and current[1] >= now:
                return False
            self._held[name] = (holder, now + timedelta(seconds=ttl_s))
            return True

    def release(self, name: str, holder: str) -> None:
        with self._lock:
            if self._held.get(name, ("", None))[0] == holder:
                del self._held[name]

"""CPU-heavy requests run off the event loop, in a bounded pool.

Mesh analysis, slicing, planning by hand and proof building run in ``workers`` threads
(numpy, the slicer's subprocess and SQLite release the GIL for most of it), never on the
event loop, so ``/health`` and every light request keep answering. Each key may run
``per_key`` of them at once (429 beyond), and each has ``timeout_s`` (503 after it; the
work in the thread is bounded by the input caps and ends on its own, the slicer is
killed by its own timeout).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fabnet.domain.errors import ExternalSystemError, LimitExceeded

T = TypeVar("T")


def too_busy(limit: int) -> LimitExceeded:
    return LimitExceeded(
        "heavy_per_key", f"this key already runs {limit} heavy request(s); try again when done"
    )


class HeavyWork:
    def __init__(self, *, workers: int, per_key: int, timeout_s: float) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="heavy")
        self.per_key = per_key
        self.timeout_s = timeout_s
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    async def run(self, key: str, work: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._running.get(key, 0) >= self.per_key:
                raise too_busy(self.per_key)
            self._running[key] = self._running.get(key, 0) + 1
        try:
            future = asyncio.get_running_loop().run_in_executor(self.pool, work, *args)
            try:
                return await asyncio.wait_for(future, self.timeout_s)
            except TimeoutError:
                raise ExternalSystemError(
                    "worker", f"the request took longer than {self.timeout_s:g} s"
                ) from None
        finally:
            with self._lock:
                self._running[key] -= 1
                if not self._running[key]:
                    del self._running[key]

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

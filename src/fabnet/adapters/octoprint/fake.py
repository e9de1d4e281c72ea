"""A fake printer behind the MachineLink port, with fault knobs (after OctoPrint's own
virtual printer): prints take ``print_s`` of wall time, can fail part way, can go away."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fabnet.domain.errors import MachineUnreachable
from fabnet.services.ports import LinkStatus


class FakeMachineLink:
    """``clock`` gives seconds (monotonic by default): a test moves it to finish a print
    at once, instead of sleeping until it does."""

    def __init__(
        self,
        *,
        print_s: float = 1.0,
        fail_at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.print_s = print_s
        self.fail_at = fail_at  # fraction of the print at which it fails (a spaghetti)
        self.reachable = True
        self.files: dict[str, bytes] = {}
        self.printed: list[str] = []
        self._lock = threading.Lock()
        self._file: str | None = None
        self._started = 0.0
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._state = "idle"
        self._error = ""

    def _check(self) -> None:
        if not self.reachable:
            raise MachineUnreachable("fake printer", "does not answer")

    def status(self) -> LinkStatus:
        self._check()
        with self._lock:
            progress = None
            if self._state in ("printing", "paused") and self._file is not None:
                now = self._paused_at or self.clock()
                progress = min(1.0, (now - self._started - self._paused_total) / self.print_s)
                if self.fail_at is not None and progress >= self.fail_at:
                    self._state, self._error = "error", "thermal runaway (fake)"
                elif progress >= 1.0:
                    self.printed.append(self._file)
                    self._state, self._file = "idle", None
            temps = {"tool0": (210.0, 210.0), "bed": (60.0, 60.0)}
            return LinkStatus(self._state, progress, temps, self._file, self._error)

    def upload(self, name: str, gcode: bytes) -> None:
        self._check()
        self.files[name] = gcode

    def start(self, name: str) -> None:
        self._check()
        with self._lock:
            if name not in self.files:
                raise MachineUnreachable("fake printer", f"no file {name!r}")
            self._file, self._state, self._error = name, "printing", ""
            self._started, self._paused_total, self._paused_at = self.clock(), 0.0, None

    def cancel(self) -> None:
        self._check()
        with self._lock:
            self._file, self._state = None, "idle"

    def pause(self) -> None:
        self._check()
        with self._lock:
            if self._state == "printing":
                self._state, self._paused_at = "paused", self.clock()

    def close(self) -> None:
        """Nothing held: a fake printer has no connection."""

    def resume(self) -> None:
        self._check()
        with self._lock:
            if self._state == "paused" and self._paused_at is not None:
                self._paused_total += self.clock() - self._paused_at
                self._state, self._paused_at = "printing", None

    def clear_error(self) -> None:
        with self._lock:
            self._state, self._error, self._file = "idle", "", None

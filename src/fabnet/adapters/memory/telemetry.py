"""Latest telemetry per machine in a dict: for unit tests and the simulator."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from fabnet.services.ports import LiveState


class InMemoryTelemetryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.live: dict[str, LiveState] = {}
        self.writes = 0  # batches written

    def upsert(self, batch: Sequence[LiveState]) -> None:
        with self._lock:
            self.writes += 1
            for s in batch:
                old = self.live.get(s.machine_id)
                total = s.messages + (old.messages if old else 0)
                self.live[s.machine_id] = replace(s, messages=total)

    def get(self, machine_id: str) -> LiveState | None:
        with self._lock:
            return self.live.get(machine_id)

    def silent_since(self, before: datetime) -> list[str]:
        with self._lock:
            return [m for m, s in self.live.items() if s.seen_at < before]


class RecordingMachineCommands:
    """The MachineCommands fake: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes]] = []

    def send(self, producer_id: str, machine_id: str, payload: bytes) -> None:
        self.sent.append((producer_id, machine_id, payload))

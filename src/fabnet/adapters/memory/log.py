"""The transparency log kept in memory (tests, the simulator)."""

from __future__ import annotations

from collections.abc import Sequence

from fabnet.adapters.memory.store import InMemoryDatabase
from fabnet.ledger.entries import canonical
from fabnet.services.ports import LeafMeta


class InMemoryLogStore:
    def __init__(self, db: InMemoryDatabase | None = None) -> None:
        self.db = db or InMemoryDatabase()
        self.rows: list[tuple[bytes, bytes, LeafMeta]] = []
        self.checkpoints: dict[int, str] = {}

    def size(self) -> int:
        return len(self.rows)

    def append(
        self, leaves: Sequence[bytes], hashes: Sequence[bytes], meta: Sequence[LeafMeta]
    ) -> int:
        start = len(self.rows)
        self.rows.extend(zip(leaves, hashes, meta, strict=True))
        return start

    def hashes(self, start: int, end: int) -> list[bytes]:
        return [h for _, h, _ in self.rows[start:end]]

    def leaves(self, start: int, end: int) -> list[bytes]:
        return [leaf for leaf, _, _ in self.rows[start:end]]

    def last_event_seq(self) -> int:
        return max((m.event_seq for _, _, m in self.rows), default=0)

    def indexes_for_order(self, order_id: str) -> list[int]:
        return [i for i, (_, _, m) in enumerate(self.rows) if m.order_id == order_id]

    def events_after(self, seq: int, limit: int) -> list[tuple[LeafMeta, bytes]]:
        with self.db.lock:
            found = [e for e in self.db.events if e["seq"] > seq][:limit]
        return [
            (
                LeafMeta(e["seq"], e["payload"].get("order_id")),
                canonical({"event": e["name"], "payload": e["payload"]}),
            )
            for e in found
        ]

    def save_checkpoint(self, size: int, note: str) -> None:
        self.checkpoints[size] = note

    def latest_checkpoint(self) -> str | None:
        return self.checkpoints[max(self.checkpoints)] if self.checkpoints else None

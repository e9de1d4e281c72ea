"""The transparency log kept in memory (tests, the simulator)."""

from __future__ import annotations

from collections.abc import Sequence

from fabnet.adapters.memory.store import InMemoryDatabase
from fabnet.ledger.entries import canonical
from fabnet.services.ports import LeafMeta


class InMemoryLogStore:
    def __init__(self, db: InMemoryDatabase | None = None) -> None:
        self.db = db or InMemoryDatabase()
        # parallel lists: bytes are not tracked by the cyclic GC, tuples would be
        self._leaves: list[bytes] = []
        self._hashes: list[bytes] = []
        self._meta: list[LeafMeta] = []
        self.checkpoints: dict[int, str] = {}

    def size(self) -> int:
        return len(self._leaves)

    def append(
        self, leaves: Sequence[bytes], hashes: Sequence[bytes], meta: Sequence[LeafMeta]
    ) -> int:
        if not len(leaves) == len(hashes) == len(meta):
            raise ValueError("leaves, hashes and meta must have the same length")
        start = len(self._leaves)
        self._leaves.extend(leaves)
        self._hashes.extend(hashes)
        self._meta.extend(meta)
        return start

    def hashes(self, start: int, end: int) -> list[bytes]:
        return self._hashes[start:end]

    def leaves(self, start: int, end: int) -> list[bytes]:
        return self._leaves[start:end]

    def last_event_seq(self) -> int:
        for meta in reversed(self._meta):  # events are appended in order: the last is newest
            if meta.event_seq:
                return meta.event_seq
        return 0

    def indexes_for_order(self, order_id: str) -> list[int]:
        return [i for i, m in enumerate(self._meta) if m.order_id == order_id]

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

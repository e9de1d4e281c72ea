"""The transparency log kept in memory (tests, the simulator)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from fabnet.adapters.memory.store import InMemoryDatabase
from fabnet.ledger.entries import event_leaf


class InMemoryLogStore:
    def __init__(self, db: InMemoryDatabase | None = None) -> None:
        self.db = db or InMemoryDatabase()
        self._lock = threading.Lock()  # the sequencer's: one append at a time
        # parallel lists: bytes are not tracked by the cyclic GC, tuples would be
        self._leaves: list[bytes] = []
        self._hashes: list[bytes] = []
        self._seqs: list[int] = []
        self._orders: list[str | None] = []
        self._event_index: dict[int, int] = {}  # event seq -> its leaf
        self.checkpoints: dict[int, str] = {}

    def size(self) -> int:
        return len(self._leaves)

    def append(self, leaves: Sequence[bytes], hashes: Sequence[bytes]) -> int:
        if len(leaves) != len(hashes):
            raise ValueError("leaves and hashes must have the same length")
        with self._lock:
            start = len(self._leaves)
            self._leaves.extend(leaves)
            self._hashes.extend(hashes)
            self._seqs.extend([0] * len(leaves))
            self._orders.extend([None] * len(leaves))
        return start

    def sequence(self, limit: int, hash_leaf: Callable[[bytes], bytes]) -> tuple[int, list[bytes]]:
        with self._lock:
            last = max(self._event_index, default=0)
            with self.db.lock:
                found = [e for e in self.db.events if e["seq"] > last][:limit]
            start = len(self._leaves)
            new = []
            for e in found:
                leaf = event_leaf(e["seq"], e["name"], e["payload"])
                h = hash_leaf(leaf)
                self._event_index[e["seq"]] = len(self._leaves)
                self._leaves.append(leaf)
                self._hashes.append(h)
                self._seqs.append(e["seq"])
                self._orders.append(e["payload"].get("order_id"))
                new.append(h)
        return start, new

    def hashes(self, start: int, end: int) -> list[bytes]:
        return self._hashes[start:end]

    def leaves(self, start: int, end: int) -> list[bytes]:
        return self._leaves[start:end]

    def last_event_seq(self) -> int:
        return max(self._event_index, default=0)

    def indexes_for_order(self, order_id: str) -> list[int]:
        return [
            i
            for i, (seq, oid) in enumerate(zip(self._seqs, self._orders, strict=True))
            if oid == order_id and (seq == 0 or self._event_index.get(seq) == i)
        ]

    def duplicate_events(self, limit: int = 100) -> list[tuple[int, list[int]]]:
        return []  # this store cannot hold one event twice

    def save_checkpoint(self, size: int, note: str) -> None:
        self.checkpoints[size] = note

    def latest_checkpoint(self) -> str | None:
        return self.checkpoints[max(self.checkpoints)] if self.checkpoints else None

"""A process-local store with the same behaviour as the SQL one (read committed,
optimistic versions, unique keys), for unit tests and the simulator."""

from __future__ import annotations

import copy
import threading
from typing import Any

from fabnet.adapters.filters import matches
from fabnet.adapters.registry import KINDS
from fabnet.adapters.rows import Row
from fabnet.adapters.tracking import TrackingUnitOfWork, Transaction
from fabnet.domain.errors import Conflict, NotFound, StaleUpdate
from fabnet.domain.events import Event, event_from, event_name, event_payload
from fabnet.services.ports import Page

UNIQUE = {k.mapper.kind: k.unique for k in KINDS}


class InMemoryDatabase:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tables: dict[str, dict[str, Row]] = {k.mapper.kind: {} for k in KINDS}
        self.events: list[dict[str, Any]] = []
        self.reactions: dict[str, int] = {}


class _MemoryTransaction(Transaction):
    def __init__(self, db: InMemoryDatabase) -> None:
        self.db = db
        self.writes: list[tuple[str, Row, int | None]] = []
        self.new_events: list[Event] = []
        self.moves: dict[str, tuple[int | None, int]] = {}  # reaction -> (old, new)

    def select(self, kind: str, filters: dict[str, Any], page: Page | None = None) -> list[Row]:
        """Rows are handed out as shallow copies: the row mappers build fresh containers
        from them, so nothing a caller changes reaches the stored row."""
        with self.db.lock:
            table = self.db.tables[kind]
            if set(filters) == {"id"} and isinstance(filters["id"], str):
                row = table.get(filters["id"])
                return [dict(row)] if row is not None else []
            rows = [r for r in table.values() if matches(r, filters)]
            rows.sort(key=lambda r: r["id"])
            if page is not None:
                rows = rows[page.offset : page.offset + page.limit]
            return [dict(r) for r in rows]

    def count(self, kind: str, filters: dict[str, Any]) -> int:
        with self.db.lock:
            return sum(1 for r in self.db.tables[kind].values() if matches(r, filters))

    def insert(self, kind: str, row: Row) -> None:
        self.writes.append((kind, copy.deepcopy(row), None))

    def update(self, kind: str, row: Row, expected_version: int) -> bool:
        with self.db.lock:
            stored = self.db.tables[kind].get(row["id"])
            if stored is None or stored["version"] != expected_version:
                return False
        self.writes.append((kind, copy.deepcopy(row), expected_version))
        return True

    def append_events(self, events: list[Event]) -> None:
        self.new_events.extend(events)

    def order_events(self, order_id: str, names: frozenset[str]) -> list[Event]:
        with self.db.lock:
            found = [
                e
                for e in self.db.events
                if e["payload"].get("order_id") == order_id and (not names or e["name"] in names)
            ]
        return [event_from(e["name"], e["payload"]) for e in found]

    def events_after(self, seq: int, limit: int) -> list[tuple[int, Event]]:
        with self.db.lock:
            found = self.db.events[seq : seq + limit]  # numbers are 1.. without gaps here
        return [(e["seq"], event_from(e["name"], e["payload"])) for e in found]

    def last_event_seq(self) -> int:
        with self.db.lock:
            return len(self.db.events)

    def reaction_position(self, name: str) -> int | None:
        if name in self.moves:
            return self.moves[name][1]
        with self.db.lock:
            return self.db.reactions.get(name)

    def move_reaction(self, name: str, old: int | None, new: int) -> bool:
        with self.db.lock:
            if self.db.reactions.get(name) != old:
                return False
        first = self.moves.get(name, (old, new))[0]
        self.moves[name] = (first, new)
        return True

    def commit(self) -> None:
        with self.db.lock:
            tables = self.db.tables
            for kind, row, expected in self.writes:  # check everything before writing
                stored = tables[kind].get(row["id"])
                if expected is None:
                    if stored is not None:
                        raise Conflict(f"{kind} {row['id']!r} already exists")
                    self._check_unique(kind, row)
                elif stored is None:
                    raise NotFound(kind, row["id"])
                elif stored["version"] != expected:
                    raise StaleUpdate(kind, row["id"])
            for name, (old, _) in self.moves.items():
                if self.db.reactions.get(name) != old:
                    raise StaleUpdate("reaction", name)
            for kind, row, _ in self.writes:
                tables[kind][row["id"]] = row
            for name, (_, new) in self.moves.items():
                self.db.reactions[name] = new
            for event in self.new_events:
                self.db.events.append(
                    {
                        "seq": len(self.db.events) + 1,
                        "name": event_name(event),
                        "at": event.at,
                        "payload": event_payload(event),
                    }
                )
        self.writes = []
        self.new_events = []
        self.moves = {}

    def _check_unique(self, kind: str, row: Row) -> None:
        for columns in UNIQUE.get(kind, ()):
            values = tuple(row.get(c) for c in columns)
            if any(v is None for v in values):
                continue  # as in SQL: a key with a NULL in it is unique by definition
            for other in self.db.tables[kind].values():
                if tuple(other.get(c) for c in columns) == values:
                    raise Conflict(f"{kind}.{'+'.join(columns)} {values!r} is already taken")

    def rollback(self) -> None:
        self.writes = []
        self.new_events = []
        self.moves = {}


class InMemoryUnitOfWork(TrackingUnitOfWork):
    def __init__(self, db: InMemoryDatabase | None = None) -> None:
        super().__init__(KINDS)
        self.db = db or InMemoryDatabase()

    def _begin(self, read_only: bool) -> Transaction:
        return _MemoryTransaction(self.db)

    def events(self) -> list[dict[str, Any]]:
        with self.db.lock:
            return list(self.db.events)


class InMemoryBlobStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.blobs[key] = data

    def get(self, key: str) -> bytes:
        try:
            return self.blobs[key]
        except KeyError:
            raise NotFound("blob", key) from None

    def exists(self, key: str) -> bool:
        return key in self.blobs

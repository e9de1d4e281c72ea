"""The unit of work both stores share: an identity map, change tracking by row snapshot,
optimistic concurrency by version, and the events of the transaction.

A store only supplies a :class:`Transaction` (read rows, insert, update-if-version,
append events, commit, rollback). What changed is found by comparing each tracked
aggregate's row with the row it was loaded as, so handlers never call ``save``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

from fabnet.adapters.rows import Mapper, Row
from fabnet.domain.aggregate import Aggregate
from fabnet.domain.errors import Conflict, NotFound, StaleUpdate
from fabnet.domain.events import Event
from fabnet.services.ports import Listing, Page

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Kind:
    """One aggregate in the stores: its unit-of-work attribute, its row mapping, its
    repository of named queries, and the unique keys the in-memory store must check."""

    attr: str
    mapper: Mapper[Any]
    repository: type[TrackingRepository[Any]]
    unique: tuple[tuple[str, ...], ...] = ()


class Transaction(Protocol):
    def select(
        self, kind: str, filters: dict[str, Any], page: Page | None = None
    ) -> builtins.list[Row]: ...
    def count(self, kind: str, filters: dict[str, Any]) -> int: ...
    def insert(self, kind: str, row: Row) -> None:
        """Raises Conflict when the id (or a unique key) is taken."""

    def update(self, kind: str, row: Row, expected_version: int) -> bool:
        """Writes ``row`` only if the stored version is ``expected_version``."""

    def append_events(self, events: list[Event]) -> None: ...
    def order_events(self, order_id: str, names: frozenset[str]) -> list[Event]:
        """Committed events about ``order_id`` with one of ``names`` (all when empty)."""

    def events_after(self, seq: int, limit: int) -> builtins.list[tuple[int, Event]]:
        """Committed events numbered above ``seq``, oldest first: (number, event)."""

    def last_event_seq(self) -> int: ...
    def reaction_position(self, name: str) -> int | None:
        """The last event the reaction ``name`` has handled; None if it never ran."""

    def move_reaction(self, name: str, old: int | None, new: int) -> bool:
        """Set the position from ``old`` to ``new`` in this transaction; False when
        another transaction moved it first."""

    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class _Tracked:
    __slots__ = ("item", "mapper", "snapshot")

    def __init__(self, item: Aggregate, mapper: Mapper[Any], snapshot: Row | None) -> None:
        self.item = item
        self.mapper = mapper
        self.snapshot = snapshot  # None: new, to insert


class TrackingRepository(Generic[A]):
    """Generic access by stored fields (``all``, ``list``, ``count`` take filters: a
    tuple means "one of", ``__lte`` "at most", ``__ne`` "not"); the services use the
    named queries of adapters/repositories.py instead, which build on these."""

    def __init__(self, uow: TrackingUnitOfWork, mapper: Mapper[A]) -> None:
        self._uow = uow
        self._mapper = mapper

    def add(self, item: A) -> None:
        key = (self._mapper.kind, str(getattr(item, "id")))  # noqa: B009
        if key in self._uow.tracked:
            raise Conflict(f"{self._mapper.kind} {key[1]!r} is already in this transaction")
        self._uow.tracked[key] = _Tracked(item, self._mapper, None)

    def get(self, ident: str) -> A:
        item = self.find(ident)
        if item is None:
            raise NotFound(self._mapper.kind.rstrip("s").replace("_", " "), ident)
        return item

    def find(self, ident: str) -> A | None:
        known = self._uow.tracked.get((self._mapper.kind, ident))
        if known is not None:
            return known.item  # type: ignore[return-value]
        rows = self._uow.tx.select(self._mapper.kind, {"id": ident})
        return self._load(rows[0]) if rows else None

    def all(self, **filters: Any) -> builtins.list[A]:
        return [self._load(r) for r in self._uow.tx.select(self._mapper.kind, filters)]

    def list(self, page: Page, **filters: Any) -> Listing[A]:
        rows = self._uow.tx.select(self._mapper.kind, filters, page)
        total = self._uow.tx.count(self._mapper.kind, filters)
        return Listing([self._load(r) for r in rows], total, page)

    def count(self, **filters: Any) -> int:
        return self._uow.tx.count(self._mapper.kind, filters)

    # for the named queries of adapters/repositories.py (the services see only those)
    def _where(self, **filters: Any) -> builtins.list[A]:
        return self.all(**filters)

    def _page(self, page: Page, filters: dict[str, Any]) -> Listing[A]:
        return self.list(page, **filters)

    def _count(self, **filters: Any) -> int:
        return self.count(**filters)

    def _rows(self, **filters: Any) -> builtins.list[Row]:
        """Stored rows as they are, untracked: for read models that need a few columns
        of many aggregates (a map of 10,000 producers), never for changes."""
        return self._uow.tx.select(self._mapper.kind, filters)

    def _load(self, row: Row) -> A:
        key = (self._mapper.kind, row["id"])
        known = self._uow.tracked.get(key)
        if known is not None:
            return known.item  # type: ignore[return-value]
        item = self._mapper.from_row(row)
        snapshot = self._mapper.to_row(item)
        self._uow.tracked[key] = _Tracked(item, self._mapper, snapshot)
        return item


U = TypeVar("U", bound="TrackingUnitOfWork")


class _Reading(Generic[U]):
    def __init__(self, uow: U) -> None:
        self.uow = uow

    def __enter__(self) -> U:
        entered = self.uow.__enter__()
        self.uow._read_only = True
        return entered

    def __exit__(self, *exc: object) -> None:
        self.uow.__exit__(*exc)


class TrackingUnitOfWork:
    """Subclasses give ``_begin()``; everything else is shared.

    Optimistic: every read goes through a read-only transaction (on SQLite it takes no
    write lock and never waits); ``commit`` ends it and writes what changed in one short
    write transaction, where each update checks the version it was read at, each insert
    the unique keys, and each reaction move the position it was read at. So the write
    lock is held for the writes alone, not for the reads and the thinking before them.
    """

    producers: Any
    machines: Any
    designs: Any
    orders: Any
    jobs: Any
    api_keys: Any
    couriers: Any
    shipments: Any
    weather: Any

    def __init__(self, kinds: tuple[Kind, ...]) -> None:
        """``kinds`` in write order: parents before children (foreign keys hold)."""
        self.kinds = kinds
        self.write_order = {k.mapper.kind: i for i, k in enumerate(kinds)}
        self.tracked: dict[tuple[str, str], _Tracked] = {}
        self._tx: Transaction | None = None
        self._open = False
        self._read_only = False
        self._moves: dict[str, tuple[int | None, int]] = {}  # reaction -> (read at, to)
        self._committed_events: list[Event] = []

    def _begin(self, read_only: bool) -> Transaction:
        raise NotImplementedError

    @property
    def tx(self) -> Transaction:
        """The read transaction, begun on first use."""
        if not self._open:
            raise RuntimeError("use the unit of work inside 'with uow:'")
        if self._tx is None:
            self._tx = self._begin(True)
        return self._tx

    def __enter__(self) -> Self:
        if self._open:
            raise RuntimeError("this unit of work is already open")
        self.tracked = {}
        self._moves = {}
        self._open = True
        for kind in self.kinds:
            setattr(self, kind.attr, kind.repository(self, kind.mapper))
        return self

    def reading(self) -> _Reading[Self]:
        """Open for reading only: ``with uow.reading():``; commit refuses."""
        return _Reading(self)

    def __exit__(self, *exc: object) -> None:
        try:
            self._end_read()
        finally:
            self._open = False
            self._read_only = False
            self._moves = {}
            self.tracked = {}

    def _end_read(self) -> None:
        tx, self._tx = self._tx, None
        if tx is not None:
            tx.rollback()

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("this unit of work was opened for reading only")
        if not self._open:
            raise RuntimeError("use the unit of work inside 'with uow:'")
        self._end_read()  # nothing more is read in this transaction: let the snapshot go
        events: list[Event] = []
        bumped: list[Aggregate] = []
        writes: list[tuple[str, str, Row, int | None]] = []
        entries = sorted(self.tracked.items(), key=lambda kv: self.write_order[kv[0][0]])
        for (kind, ident), entry in entries:
            row = entry.mapper.to_row(entry.item)
            if entry.snapshot is None:
                writes.append((kind, ident, {**row, "version": 1}, None))
                bumped.append(entry.item)
            elif row != entry.snapshot:
                version = entry.item.version
                writes.append((kind, ident, {**row, "version": version + 1}, version))
                bumped.append(entry.item)
            events.extend(entry.item.events)
        events.sort(key=lambda e: e.at)
        if writes or events or self._moves:
            tx = self._begin(False)
            try:
                for kind, ident, row, expected in writes:
                    if expected is None:
                        tx.insert(kind, row)
                    elif not tx.update(kind, row, expected):
                        raise StaleUpdate(kind.rstrip("s").replace("_", " "), ident)
                for name, (old, new) in self._moves.items():
                    if not tx.move_reaction(name, old, new):
                        raise StaleUpdate("reaction", name)
                tx.append_events(events)
                tx.commit()
            except BaseException:
                tx.rollback()
                self.tracked = {}
                self._moves = {}
                raise
        self._moves = {}
        for item in bumped:
            item.version += 1
        for entry in self.tracked.values():
            entry.item.events.clear()
            entry.snapshot = entry.mapper.to_row(entry.item)
        self._committed_events.extend(events)

    def rollback(self) -> None:
        self._end_read()
        self._moves = {}
        self.tracked = {}

    def order_events(
        self, order_id: str, kinds: tuple[type[Event], ...] = ()
    ) -> builtins.list[Event]:
        """Committed events of an order (of these kinds; all when none are named), oldest
        first, then this transaction's own."""
        names = frozenset(k.__name__ for k in kinds)
        pending = [
            e
            for entry in self.tracked.values()
            for e in entry.item.events
            if getattr(e, "order_id", None) == order_id and (not kinds or isinstance(e, kinds))
        ]
        return [*self.tx.order_events(order_id, names), *pending]

    def events_after(self, seq: int, limit: int) -> builtins.list[tuple[int, Event]]:
        return self.tx.events_after(seq, limit)

    def last_event_seq(self) -> int:
        return self.tx.last_event_seq()

    def reaction_position(self, name: str) -> int | None:
        if name in self._moves:
            return self._moves[name][1]
        return self.tx.reaction_position(name)

    def move_reaction(self, name: str, old: int | None, new: int) -> None:
        """Move a reaction's position in this transaction (written at commit with the
        reaction's effects); commit raises StaleUpdate if another moved it first."""
        first = self._moves.get(name, (old, new))[0]
        self._moves[name] = (first, new)

    def collect_events(self) -> Iterator[Event]:
        while self._committed_events:
            yield self._committed_events.pop(0)

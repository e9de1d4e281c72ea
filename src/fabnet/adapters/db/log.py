"""The transparency log in the SQL store: one row per leaf, one row per logged event.

Sequencing is serialised: on SQLite every write transaction takes the database lock up
front (BEGIN IMMEDIATE); on PostgreSQL the sequencer holds a transaction-scoped advisory
lock. The primary key of ``log_events`` is the backstop: an event appended twice fails
the whole batch instead of entering the tree a second time.

Events are read "after the newest logged one", which is sound only if events become
visible in the order of their numbers: on PostgreSQL every transaction that writes events
takes the events lock (``locks.EVENTS``) just before inserting them and keeps it to its
commit (see store.py), so a later number is never visible before an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from fabnet.adapters.db import locks
from fabnet.adapters.db.tables import events, log_checkpoints, log_events, log_leaves
from fabnet.domain.errors import Conflict
from fabnet.ledger.entries import event_leaf


class SqlLogStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def size(self) -> int:
        with self.engine.connect() as conn:
            return self._size(conn)

    @staticmethod
    def _size(conn: Connection) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(log_leaves)).scalar_one())

    def append(self, leaves: Sequence[bytes], hashes: Sequence[bytes]) -> int:
        """Rows ``size .. size+n-1`` in one transaction, under the sequencer's lock."""
        with self.engine.connect() as conn, conn.begin():
            locks.hold(conn, locks.SEQUENCER)
            start = self._size(conn)
            self._insert(
                conn, start, [(leaf, h, 0, None) for leaf, h in zip(leaves, hashes, strict=True)]
            )
        return start

    def _insert(
        self, conn: Connection, start: int, rows: list[tuple[bytes, bytes, int, Any]]
    ) -> None:
        if not rows:
            return
        try:
            conn.execute(
                log_leaves.insert(),
                [
                    {"idx": start + i, "leaf": leaf, "hash": h, "event_seq": seq, "order_id": oid}
                    for i, (leaf, h, seq, oid) in enumerate(rows)
                ],
            )
            seqs = [
                {"event_seq": seq, "idx": start + i} for i, (_, _, seq, _) in enumerate(rows) if seq
            ]
            if seqs:
                conn.execute(log_events.insert(), seqs)
        except IntegrityError as exc:
            raise Conflict("another writer appended to the log first") from exc

    def sequence(self, limit: int, hash_leaf: Callable[[bytes], bytes]) -> tuple[int, list[bytes]]:
        with self.engine.connect() as conn, conn.begin():
            locks.hold(conn, locks.SEQUENCER)
            last = self._last_event_seq(conn)
            query = (
                sa.select(events.c.seq, events.c.name, events.c.payload, events.c.order_id)
                .where(events.c.seq > last)
                .order_by(events.c.seq)
                .limit(limit)
            )
            rows = []
            for seq, name, payload, order_id in conn.execute(query):
                leaf = event_leaf(int(seq), name, payload)
                rows.append((leaf, hash_leaf(leaf), int(seq), order_id))
            start = self._size(conn)
            self._insert(conn, start, rows)
        return start, [h for _, h, _, _ in rows]

    def hashes(self, start: int, end: int) -> list[bytes]:
        return self._column(log_leaves.c.hash, start, end)

    def leaves(self, start: int, end: int) -> list[bytes]:
        return self._column(log_leaves.c.leaf, start, end)

    def _column(self, column: Any, start: int, end: int) -> list[bytes]:
        query = (
            sa.select(column)
            .where(log_leaves.c.idx >= start, log_leaves.c.idx < end)
            .order_by(log_leaves.c.idx)
        )
        with self.engine.connect() as conn:
            return [bytes(v) for v in conn.execute(query).scalars()]

    def last_event_seq(self) -> int:
        with self.engine.connect() as conn:
            return self._last_event_seq(conn)

    @staticmethod
    def _last_event_seq(conn: Connection) -> int:
        value = conn.execute(sa.select(sa.func.max(log_events.c.event_seq))).scalar_one()
        return int(value or 0)

    def indexes_for_order(self, order_id: str) -> list[int]:
        first = sa.or_(
            log_leaves.c.event_seq == 0,
            sa.exists().where(log_events.c.idx == log_leaves.c.idx),
        )
        query = (
            sa.select(log_leaves.c.idx)
            .where(log_leaves.c.order_id == order_id, first)
            .order_by(log_leaves.c.idx)
        )
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def duplicate_events(self, limit: int = 100) -> list[tuple[int, list[int]]]:
        twice = (
            sa.select(log_leaves.c.event_seq)
            .where(log_leaves.c.event_seq > 0)
            .group_by(log_leaves.c.event_seq)
            .having(sa.func.count() > 1)
            .order_by(log_leaves.c.event_seq)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            seqs = [int(s) for s in conn.execute(twice).scalars()]
            if not seqs:
                return []
            found: dict[int, list[int]] = {s: [] for s in seqs}
            query = (
                sa.select(log_leaves.c.event_seq, log_leaves.c.idx)
                .where(log_leaves.c.event_seq.in_(seqs))
                .order_by(log_leaves.c.idx)
            )
            for seq, idx in conn.execute(query):
                found[int(seq)].append(int(idx))
        return sorted(found.items())

    def save_checkpoint(self, size: int, note: str) -> None:
        with self.engine.connect() as conn, conn.begin():
            locks.hold(conn, locks.SEQUENCER)
            exists = conn.execute(
                sa.select(log_checkpoints.c.size).where(log_checkpoints.c.size == size)
            ).first()
            if exists is None:
                conn.execute(log_checkpoints.insert().values(size=size, note=note))
            else:
                conn.execute(
                    log_checkpoints.update().where(log_checkpoints.c.size == size).values(note=note)
                )

    def latest_checkpoint(self) -> str | None:
        query = sa.select(log_checkpoints.c.note).order_by(log_checkpoints.c.size.desc()).limit(1)
        with self.engine.connect() as conn:
            note = conn.execute(query).scalar_one_or_none()
        return None if note is None else str(note)

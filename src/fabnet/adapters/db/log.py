"""The transparency log in the SQL store: one row per leaf, written in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from fabnet.adapters.db.tables import events, log_checkpoints, log_leaves
from fabnet.domain.errors import Conflict
from fabnet.ledger.entries import canonical
from fabnet.services.ports import LeafMeta

NEXT_INDEX = sa.select(sa.func.coalesce(sa.func.max(log_leaves.c.idx), -1) + 1)


class SqlLogStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def size(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(log_leaves)).scalar_one()
            )

    def append(
        self, leaves: Sequence[bytes], hashes: Sequence[bytes], meta: Sequence[LeafMeta]
    ) -> int:
        """Rows ``size .. size+n-1`` in one transaction; the primary key makes a
        concurrent writer's overlapping batch fail instead of interleaving."""
        with self.engine.connect() as conn, conn.begin():
            start = int(
                conn.execute(sa.select(sa.func.count()).select_from(log_leaves)).scalar_one()
            )
            rows = [
                {
                    "idx": start + i,
                    "leaf": leaf,
                    "hash": h,
                    "event_seq": m.event_seq,
                    "order_id": m.order_id,
                }
                for i, (leaf, h, m) in enumerate(zip(leaves, hashes, meta, strict=True))
            ]
            try:
                if rows:
                    conn.execute(log_leaves.insert(), rows)
            except IntegrityError as exc:
                raise Conflict("another writer appended to the log first") from exc
        return start

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
            value = conn.execute(sa.select(sa.func.max(log_leaves.c.event_seq))).scalar_one()
        return int(value or 0)

    def indexes_for_order(self, order_id: str) -> list[int]:
        query = (
            sa.select(log_leaves.c.idx)
            .where(log_leaves.c.order_id == order_id)
            .order_by(log_leaves.c.idx)
        )
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def events_after(self, seq: int, limit: int) -> list[tuple[LeafMeta, bytes]]:
        query = (
            sa.select(events.c.seq, events.c.name, events.c.payload)
            .where(events.c.seq > seq)
            .order_by(events.c.seq)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                (LeafMeta(int(s), p.get("order_id")), canonical({"event": n, "payload": p}))
                for s, n, p in conn.execute(query)
            ]

    def save_checkpoint(self, size: int, note: str) -> None:
        with self.engine.connect() as conn, conn.begin():
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

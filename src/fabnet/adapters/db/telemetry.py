"""Latest telemetry per machine in SQL: one multi-row upsert per batch."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from fabnet.adapters.db.tables import machine_live
from fabnet.services.ports import LiveState

SQLITE_UPSERT = (
    "INSERT INTO machine_live (machine_id, producer_id, seen_at, state, job_id, progress,"
    " temps, messages) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (machine_id) DO UPDATE SET"
    " producer_id = excluded.producer_id, seen_at = excluded.seen_at, state = excluded.state,"
    " job_id = excluded.job_id, progress = excluded.progress, temps = excluded.temps,"
    " messages = machine_live.messages + excluded.messages"
)


class SqlTelemetryStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(machine_live)
        self._upsert = stmt.on_conflict_do_update(
            index_elements=[machine_live.c.machine_id],
            set_={
                "producer_id": stmt.excluded.producer_id,
                "seen_at": stmt.excluded.seen_at,
                "state": stmt.excluded.state,
                "job_id": stmt.excluded.job_id,
                "progress": stmt.excluded.progress,
                "temps": stmt.excluded.temps,
                "messages": machine_live.c.messages + stmt.excluded.messages,
            },
        )

    def upsert(self, batch: Sequence[LiveState]) -> None:
        if not batch:
            return
        if self.engine.dialect.name == "sqlite":
            self._upsert_sqlite(batch)
            return
        rows = [
            {
                "machine_id": s.machine_id,
                "producer_id": s.producer_id,
                "seen_at": s.seen_at,
                "state": s.state,
                "job_id": s.job_id,
                "progress": s.progress,
                "temps": {k: list(v) for k, v in s.temps.items()},
                "messages": s.messages,
            }
            for s in batch
        ]
        with self.engine.begin() as conn:
            conn.execute(self._upsert, rows)

    def _upsert_sqlite(self, batch: Sequence[LiveState]) -> None:
        """The hot path on the embedded store: plain executemany of tuples (4x faster
        than building a dict per row), in the text format SQLAlchemy reads back."""
        rows = [
            (
                s.machine_id,
                s.producer_id,
                s.seen_at.astimezone(UTC).replace(tzinfo=None).isoformat(" "),
                s.state,
                s.job_id,
                s.progress,
                json.dumps({k: list(v) for k, v in s.temps.items()}),
                s.messages,
            )
            for s in batch
        ]
        with self.engine.begin() as conn:
            conn.exec_driver_sql(SQLITE_UPSERT, rows)

    def get(self, machine_id: str) -> LiveState | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(machine_live).where(machine_live.c.machine_id == machine_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        seen = row["seen_at"]
        return LiveState(
            machine_id=row["machine_id"],
            producer_id=row["producer_id"],
            seen_at=seen if seen.tzinfo else seen.replace(tzinfo=UTC),
            state=row["state"],
            job_id=row["job_id"],
            progress=row["progress"],
            temps={k: (float(v[0]), float(v[1])) for k, v in row["temps"].items()},
            messages=row["messages"],
        )

    def silent_since(self, before: datetime) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(machine_live.c.machine_id).where(machine_live.c.seen_at < before)
                ).scalars()
            )

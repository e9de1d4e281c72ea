"""The agent's durable local state (SQLite beside the agent): the outbox of job events
not yet acknowledged by the broker, the per-machine event numbers, the jobs it holds,
and each machine's bed-clear flag. Nothing is lost while offline: an event is written
here before anything else knows about it, and leaves only when the broker has it."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from fabnet.domain.topics import Kind, machine_topic
from fabnet.services.machine_messages import (
    AgentEvent,
    EventType,
    JobSpec,
    encode,
    new_id,
    parse_event,
)

SCHEMA = """
create table if not exists outbox (
  id integer primary key autoincrement,
  topic text not null, payload blob not null, sent integer not null default 0
);
create table if not exists seqs (machine_id text primary key, seq integer not null);
create table if not exists jobs (
  job_id text primary key, machine_id text not null, spec text not null,
  state text not null, units_done integer not null default 0, detail text not null default ''
);
create table if not exists beds (machine_id text primary key, clear integer not null);
"""


class AgentStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=full")
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()

    def close(self) -> None:
        self._db.close()

    # -- events ------------------------------------------------------------------------

    def add_event(
        self,
        producer_id: str,
        machine_id: str,
        job_id: str,
        kind: EventType,
        at: datetime,
        **extra: Any,
    ) -> AgentEvent:
        """Number the event and put it in the outbox, in one transaction."""
        with self._lock:
            self._db.execute("begin immediate")
            try:
                row = self._db.execute(
                    "select seq from seqs where machine_id = ?", (machine_id,)
                ).fetchone()
                seq = (row[0] if row else 0) + 1
                self._db.execute(
                    "insert into seqs values (?, ?) on conflict(machine_id) do update set seq = ?",
                    (machine_id, seq, seq),
                )
                event = AgentEvent(new_id(), seq, machine_id, job_id, kind, at, **extra)
                topic = machine_topic(producer_id, machine_id, Kind.EVENTS)
                self._db.execute(
                    "insert into outbox (topic, payload) values (?, ?)", (topic, encode(event))
                )
                self._db.execute("commit")
            except BaseException:
                self._db.execute("rollback")
                raise
        return event

    def unsent(self, limit: int = 100) -> list[tuple[int, str, bytes]]:
        with self._lock:
            rows = self._db.execute(
                "select id, topic, payload from outbox where sent = 0 order by id limit ?",
                (limit,),
            ).fetchall()
        return [(r[0], r[1], bytes(r[2])) for r in rows]

    def mark_sent(self, row_id: int) -> None:
        with self._lock:
            self._db.execute("update outbox set sent = 1 where id = ?", (row_id,))

    def sent_events(self) -> list[AgentEvent]:
        """Every event the agent ever issued, oldest first (sent or not)."""
        with self._lock:
            rows = self._db.execute("select payload from outbox order by id").fetchall()
        return [parse_event(bytes(r[0])) for r in rows]

    # -- jobs --------------------------------------------------------------------------

    def put_job(self, machine_id: str, spec: JobSpec, state: str) -> bool:
        """Record an offered job; False when it is already known (a repeated offer)."""
        with self._lock:
            cur = self._db.execute(
                "insert or ignore into jobs (job_id, machine_id, spec, state) values (?, ?, ?, ?)",
                (spec.job_id, machine_id, json.dumps(asdict(spec)), state),
            )
        return cur.rowcount == 1

    def set_job(
        self, job_id: str, state: str, *, units_done: int | None = None, detail: str = ""
    ) -> None:
        with self._lock:
            if units_done is None:
                self._db.execute(
                    "update jobs set state = ?, detail = ? where job_id = ?",
                    (state, detail, job_id),
                )
            else:
                self._db.execute(
                    "update jobs set state = ?, units_done = ?, detail = ? where job_id = ?",
                    (state, units_done, detail, job_id),
                )

    def job(self, job_id: str) -> tuple[str, JobSpec, str, int] | None:
        with self._lock:
            row = self._db.execute(
                "select machine_id, spec, state, units_done from jobs where job_id = ?", (job_id,)
            ).fetchone()
        if row is None:
            return None
        return row[0], JobSpec(**json.loads(row[1])), row[2], row[3]

    def jobs(self, machine_id: str, states: tuple[str, ...]) -> list[tuple[JobSpec, str, int]]:
        marks = ",".join("?" * len(states))
        with self._lock:
            rows = self._db.execute(
                f"select spec, state, units_done from jobs where machine_id = ? "
                f"and state in ({marks}) order by rowid",
                (machine_id, *states),
            ).fetchall()
        return [(JobSpec(**json.loads(r[0])), r[1], r[2]) for r in rows]

    # -- beds --------------------------------------------------------------------------

    def bed_clear(self, machine_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "select clear from beds where machine_id = ?", (machine_id,)
            ).fetchone()
        return bool(row[0]) if row else True  # a machine never used starts clear

    def set_bed(self, machine_id: str, clear: bool) -> None:
        with self._lock:
            self._db.execute(
                "insert into beds values (?, ?) on conflict(machine_id) do update set clear = ?",
                (machine_id, int(clear), int(clear)),
            )

"""The SQL unit of work: one connection and one transaction per ``with uow:``."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from fabnet.adapters.db import locks
from fabnet.adapters.db.tables import TABLES, events, reactions
from fabnet.adapters.filters import ANY, split
from fabnet.adapters.registry import KINDS
from fabnet.adapters.rows import Row
from fabnet.adapters.tracking import TrackingUnitOfWork, Transaction
from fabnet.domain.errors import Conflict, ExternalSystemError
from fabnet.domain.events import Event, event_from, event_name, event_payload
from fabnet.services.ports import Page

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")
READ_ONLY = "fabnet_read_only"
WRITER = "fabnet_writer"  # this connection holds the process's write turn (SQLite)
WRITER_WAIT_S = 60.0


def create_engine_for(url: str) -> Engine:
    """An engine with the settings fabnet needs: for SQLite, WAL, real BEGINs, FKs on."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"timeout": 30}, pool_size=20, max_overflow=40, pool_timeout=60
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below govern
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # One writer at a time in this process, queued on a Python lock: threads that
        # all asked SQLite for its write lock would wait in its busy handler, which
        # sleeps in growing steps (up to 100 ms) and lets throughput collapse under
        # concurrency. Other processes still wait in SQLite's busy handler.
        writer = threading.Lock()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE: take the write lock up front. A deferred transaction that read
            # first and then writes fails at once (SQLITE_BUSY, no waiting) when another
            # writer committed in between; this one waits its turn (busy_timeout).
            # Readers (``uow.reading()``) begin deferred: in WAL they never wait.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
                return
            if not writer.acquire(timeout=WRITER_WAIT_S):
                raise ExternalSystemError("database", "timed out waiting to write (busy)")
            conn.info[WRITER] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                conn.info.pop(WRITER, None)
                writer.release()
                raise

        def _done(conn: Connection) -> None:
            if conn.info.pop(WRITER, False):
                writer.release()

        sa.event.listen(engine, "commit", _done)
        sa.event.listen(engine, "rollback", _done)

        @sa.event.listens_for(engine, "reset")
        def _on_reset(_dbapi: Any, record: Any, _state: Any) -> None:
            if record.info.pop(WRITER, False):  # returned to the pool mid-transaction
                writer.release()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def head_revision() -> str:
    """The newest migration: revisions are numbered, the file names start with them."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def at_head(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("select version_num from alembic_version")).scalar()
    except (OperationalError, sa.exc.ProgrammingError):
        return False  # a new store: no version table yet
    return version == head_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; a store already there is
    recognised without loading Alembic)."""
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _where(table: sa.Table, filters: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    for key, value in filters.items():
        if key == ANY:
            clauses.append(sa.or_(*(sa.and_(*_where(table, f)) for f in value)))
            continue
        name, op = split(key)
        column = table.c[name]
        if op == "lte":
            clauses.append(column <= value)
        elif op == "ne":
            clauses.append(column != value)
        elif isinstance(value, tuple | list | frozenset | set):
            clauses.append(column.in_(list(value)))
        elif value is None:
            clauses.append(column.is_(None))
        else:
            clauses.append(column == value)
    return clauses


F = TypeVar("F", bound=Callable[..., Any])


def _database_errors(fn: F) -> F:
    """The server went away, restarts or refuses: an outside system failed (503), not an
    unknown error (500)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
            raise ExternalSystemError("database", reason or type(exc).__name__) from exc

    return wrapper  # type: ignore[return-value]


def _translated(cls: type[T]) -> type[T]:
    for name, member in list(vars(cls).items()):
        if callable(member) and not name.startswith("__"):
            setattr(cls, name, _database_errors(member))
    return cls


@_translated
class _SqlTransaction(Transaction):
    def __init__(self, engine: Engine, read_only: bool = False) -> None:
        try:
            self.conn = engine.connect()
            if read_only:
                self.conn = self.conn.execution_options(**{READ_ONLY: True})
                if engine.dialect.name == "postgresql":
                    # one snapshot for all the reads (READ COMMITTED gives each statement
                    # its own: orders read before a plan's commit, jobs after it, would
                    # disagree); a read-only transaction never fails serialization
                    self.conn = self.conn.execution_options(isolation_level="REPEATABLE READ")
            self.conn.begin()
        except OperationalError as exc:
            raise ExternalSystemError("database", str(exc.orig)) from exc

    def select(self, kind: str, filters: dict[str, Any], page: Page | None = None) -> list[Row]:
        table = TABLES[kind]
        query = sa.select(table).where(*_where(table, filters)).order_by(table.c.id)
        if page is not None:
            query = query.limit(page.limit).offset(page.offset)
        return [dict(r) for r in self.conn.execute(query).mappings()]

    def count(self, kind: str, filters: dict[str, Any]) -> int:
        table = TABLES[kind]
        query = sa.select(sa.func.count()).select_from(table).where(*_where(table, filters))
        return int(self.conn.execute(query).scalar_one())

    def insert(self, kind: str, row: Row) -> None:
        try:
            self.conn.execute(TABLES[kind].insert().values(**row))
        except IntegrityError as exc:
            raise Conflict(f"{kind}: {row.get('id')!r} clashes with a stored row") from exc

    def update(self, kind: str, row: Row, expected_version: int) -> bool:
        table = TABLES[kind]
        try:
            result = self.conn.execute(
                table.update()
                .where(table.c.id == row["id"], table.c.version == expected_version)
                .values(**row)
            )
        except OperationalError as exc:  # SQLite: another writer holds the database
            if "locked" in str(exc.orig):
                return False
            raise
        return result.rowcount == 1

    def append_events(self, new: list[Event]) -> None:
        if new:
            # events become visible in the order of their numbers (the log reads "after
            # the newest logged"): the lock is held from here to the commit
            locks.hold(self.conn, locks.EVENTS)
            self.conn.execute(
                events.insert(),
                [
                    {
                        "name": event_name(e),
                        "at": e.at,
                        "payload": event_payload(e),
                        "order_id": getattr(e, "order_id", None),
                    }
                    for e in new
                ],
            )

    def order_events(self, order_id: str, names: frozenset[str]) -> list[Event]:
        query = (
            sa.select(events.c.name, events.c.payload)
            .where(events.c.order_id == order_id)
            .order_by(events.c.seq)
        )
        if names:
            query = query.where(events.c.name.in_(sorted(names)))
        return [event_from(n, p) for n, p in self.conn.execute(query)]

    def events_after(self, seq: int, limit: int) -> list[tuple[int, Event]]:
        query = (
            sa.select(events.c.seq, events.c.name, events.c.payload)
            .where(events.c.seq > seq)
            .order_by(events.c.seq)
            .limit(limit)
        )
        return [(int(s), event_from(n, p)) for s, n, p in self.conn.execute(query)]

    def last_event_seq(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.max(events.c.seq))).scalar_one() or 0)

    def reaction_position(self, name: str) -> int | None:
        query = sa.select(reactions.c.position).where(reactions.c.name == name)
        value = self.conn.execute(query).scalar_one_or_none()
        return None if value is None else int(value)

    def move_reaction(self, name: str, old: int | None, new: int) -> bool:
        if old is None:
            try:
                with self.conn.begin_nested():
                    self.conn.execute(reactions.insert().values(name=name, position=new))
            except IntegrityError:
                return False
            return True
        result = self.conn.execute(
            reactions.update()
            .where(reactions.c.name == name, reactions.c.position == old)
            .values(position=new)
        )
        return result.rowcount == 1

    def commit(self) -> None:
        try:
            self.conn.commit()
        finally:
            self.conn.close()

    def rollback(self) -> None:
        if self.conn.closed:
            return
        try:
            self.conn.rollback()
        except (OperationalError, InterfaceError):  # the connection is gone: nothing to undo
            self.conn.invalidate()
        finally:
            self.conn.close()


class SqlUnitOfWork(TrackingUnitOfWork):
    def __init__(self, engine: Engine) -> None:
        super().__init__(KINDS)
        self.engine = engine

    def _begin(self, read_only: bool) -> Transaction:
        return _SqlTransaction(self.engine, read_only)

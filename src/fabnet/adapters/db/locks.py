"""Transaction-scoped locks of the SQL store.

On PostgreSQL they are advisory locks, held to the end of the transaction. SQLite has one
database lock, which every write transaction takes up front (BEGIN IMMEDIATE), so there
these are no-ops.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

SEQUENCER = 0x6661626E6574  # one log sequencer (or checkpoint writer) at a time
EVENTS = 0x6661626E6576  # event writers, in the order of their numbers


def hold(conn: Connection, key: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def try_hold(conn: Connection, key: int) -> bool:
    """Take the lock if it is free; False if another transaction holds it."""
    if conn.dialect.name == "postgresql":
        return bool(conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(key))).scalar_one())
    return True

"""Leases in the SQL store: one row per task, taken with a conditional write."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from fabnet.adapters.db.tables import leases


class SqlLeases:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def acquire(self, name: str, holder: str, ttl_s: float, now: datetime) -> bool:
        until = now + timedelta(seconds=ttl_s)
        with self.engine.connect() as conn, conn.begin():
            taken = conn.execute(
                leases.update()
                .where(
                    leases.c.name == name,
                    sa.or_(leases.c.holder == holder, leases.c.expires_at < now),
                )
                .values(holder=holder, expires_at=until)
            )
            if taken.rowcount == 1:
                return True
            exists = conn.execute(sa.select(leases.c.name).where(leases.c.name == name)).first()
            if exists is not None:
                return False  # held by someone else, not expired
            try:
                with conn.begin_nested():
                    conn.execute(leases.insert().values(name=name, holder=holder, expires_at=until))
            except IntegrityError:
                return False  # another process inserted it first
            return True

    def release(self, name: str, holder: str) -> None:
        with self.engine.connect() as conn, conn.begin():
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))

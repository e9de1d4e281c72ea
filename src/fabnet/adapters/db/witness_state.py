"""A witness's record of the latest checkpoint it cosigned per log, in its own database.

The check-and-record of the protocol is one conditional UPDATE (or INSERT for a first
checkpoint), so two concurrent requests can never roll the recorded size back."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

metadata = sa.MetaData()
witness_state = sa.Table(
    "witness_state",
    metadata,
    sa.Column("origin", sa.String(500), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
)


class SqlWitnessState:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        query = sa.select(witness_state.c.size, witness_state.c.root).where(
            witness_state.c.origin == origin
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def advance(self, origin: str, old_size: int, size: int, root: bytes) -> bool:
        with self.engine.connect() as conn, conn.begin():
            result = conn.execute(
                witness_state.update()
                .where(witness_state.c.origin == origin, witness_state.c.size == old_size)
                .values(size=size, root=root)
            )
            if result.rowcount == 1:
                return True
            if old_size != 0:
                return False
            try:
                conn.execute(witness_state.insert().values(origin=origin, size=size, root=root))
            except IntegrityError:
                return False
            return True

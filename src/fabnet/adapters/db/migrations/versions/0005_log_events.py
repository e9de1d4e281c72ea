"""The log records each event once: ``log_events`` maps an event to its one leaf.

Stores written before this revision may hold an event more than once (concurrent
sequencers). The tree is append-only and may be cosigned, so those leaves stay; this
migration indexes each event's first leaf, and the hub reports the extra ones at start-up
(``fabnet ledger check``). docs/ledger.md describes the path.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_events",
        sa.Column("event_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, nullable=False, unique=True),
    )
    op.execute(
        "INSERT INTO log_events (event_seq, idx) "
        "SELECT event_seq, MIN(idx) FROM log_leaves WHERE event_seq > 0 GROUP BY event_seq"
    )


def downgrade() -> None:
    op.drop_table("log_events")

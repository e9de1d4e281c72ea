"""The transparency log: leaves with a gapless index, signed checkpoints; events by order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("order_id", sa.String(40), nullable=True))
    op.create_index("ix_events_order", "events", ["order_id"])
    op.create_table(
        "log_leaves",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("leaf", sa.LargeBinary, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("order_id", sa.String(40), nullable=True),
    )
    op.create_index("ix_log_leaves_order", "log_leaves", ["order_id"])
    op.create_index("ix_log_leaves_event", "log_leaves", ["event_seq"])
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("note", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_index("ix_events_order", "events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("order_id")
    op.drop_table("log_checkpoints")
    op.drop_table("log_leaves")

"""Machines: the last agent event applied, unreachable flag; latest telemetry per machine.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("machines") as batch:
        batch.add_column(sa.Column("event_seq", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("unreachable", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "machine_live",
        sa.Column("machine_id", sa.String(40), primary_key=True),
        sa.Column("producer_id", sa.String(40), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("job_id", sa.String(40), nullable=True),
        sa.Column("progress", sa.Double, nullable=True),
        sa.Column("temps", Json, nullable=False),
        sa.Column("messages", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_machine_live_seen", "machine_live", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_machine_live_seen", "machine_live")
    op.drop_table("machine_live")
    with op.batch_alter_table("machines") as batch:
        batch.drop_column("unreachable")
        batch.drop_column("event_seq")

"""Learned reliability: discounted outcome counts per producer and per machine.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("producers", "machines"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("rel_successes", sa.Double, nullable=False, server_default="0")
            )
            batch.add_column(
                sa.Column("rel_failures", sa.Double, nullable=False, server_default="0")
            )
            batch.add_column(sa.Column("rel_at", sa.DateTime(timezone=True), nullable=True))
    # what was counted before (undiscounted) seeds the producers' belief
    op.execute("UPDATE producers SET rel_successes = jobs_done, rel_failures = jobs_failed")


def downgrade() -> None:
    for table in ("producers", "machines"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("rel_at")
            batch.drop_column("rel_failures")
            batch.drop_column("rel_successes")

"""Machines whose results contradict their declared capacity are flagged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("machines") as batch:
        batch.add_column(sa.Column("slow_runs", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("capacity_flag", sa.String(300), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("machines") as batch:
        batch.drop_column("capacity_flag")
        batch.drop_column("slow_runs")

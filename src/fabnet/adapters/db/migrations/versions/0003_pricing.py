"""Producers: their class (maker, fablab, factory) and their own pricing rule.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("producers") as batch:
        batch.add_column(
            sa.Column("producer_class", sa.String(30), nullable=False, server_default="maker")
        )
        batch.add_column(sa.Column("pricing", Json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("producers") as batch:
        batch.drop_column("pricing")
        batch.drop_column("producer_class")

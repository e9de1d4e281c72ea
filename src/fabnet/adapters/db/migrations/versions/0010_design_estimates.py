"""Designs carry their fast estimate (filament volume, print time on the reference
machine): the planner prices and weighs units as quotes do.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("designs") as batch:
        batch.add_column(sa.Column("filament_mm3", sa.Double, nullable=True))
        batch.add_column(sa.Column("estimated_print_time_s", sa.Double, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("designs") as batch:
        batch.drop_column("estimated_print_time_s")
        batch.drop_column("filament_mm3")

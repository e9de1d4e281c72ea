"""API keys expire and carry scopes; keys are listed by principal.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("scopes", Json, nullable=True))
    op.create_index("ix_api_keys_principal", "api_keys", ["principal_id"])


def downgrade() -> None:
    op.drop_index("ix_api_keys_principal", "api_keys")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("scopes")
        batch.drop_column("expires_at")

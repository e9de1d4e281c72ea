"""Each party's own design record over one stored file: designs carry their content
hash and whether they are in everyone's catalogue; jobs the hash they were planned with.

Records made before this revision are keyed by the hash itself; they keep that id, get
it as their content hash, and stay public (knowing the id was enough to read them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("designs") as batch:
        batch.add_column(sa.Column("content_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()))
    op.execute("UPDATE designs SET content_hash = id, public = TRUE")
    op.create_index("ix_designs_content", "designs", ["content_hash"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("design_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("design_hash")
    op.drop_index("ix_designs_content", "designs")
    with op.batch_alter_table("designs") as batch:
        batch.drop_column("public")
        batch.drop_column("content_hash")

"""The first schema: producers, machines, designs, orders, jobs, api keys, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def _id(length: int = 40) -> sa.Column[str]:
    return sa.Column("id", sa.String(length), primary_key=True)


def _version() -> sa.Column[int]:
    return sa.Column("version", sa.Integer, nullable=False)


def upgrade() -> None:
    op.create_table(
        "producers",
        _id(),
        _version(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lat", sa.Double, nullable=False),
        sa.Column("lon", sa.Double, nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("certifications", Json, nullable=False),
        sa.Column("external_ref", sa.String(200), nullable=True, unique=True),
        sa.Column("jobs_done", sa.Integer, nullable=False),
        sa.Column("jobs_failed", sa.Integer, nullable=False),
        sa.Column("extra", Json, nullable=False),
    )
    op.create_table(
        "machines",
        _id(),
        _version(),
        sa.Column("producer_id", sa.String(40), sa.ForeignKey("producers.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("process", sa.String(30), nullable=False),
        sa.Column("make", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("volume_x_mm", sa.Double, nullable=False),
        sa.Column("volume_y_mm", sa.Double, nullable=False),
        sa.Column("volume_z_mm", sa.Double, nullable=False),
        sa.Column("materials", Json, nullable=False),
        sa.Column("nozzle_mm", sa.Double, nullable=True),
        sa.Column("hours_per_day", sa.Double, nullable=False),
        sa.Column("speed_factor", sa.Double, nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
    )
    op.create_index("ix_machines_producer", "machines", ["producer_id"])
    op.create_table(
        "designs",
        _id(64),
        _version(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("process", sa.String(30), nullable=False),
        sa.Column("materials", Json, nullable=False),
        sa.Column("bbox_x_mm", sa.Double, nullable=False),
        sa.Column("bbox_y_mm", sa.Double, nullable=False),
        sa.Column("bbox_z_mm", sa.Double, nullable=False),
        sa.Column("triangles", sa.Integer, nullable=False),
        sa.Column("print_time_s", sa.Double, nullable=False),
        sa.Column("owner_id", sa.String(40), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("extra", Json, nullable=False),
    )
    op.create_index("ix_designs_owner", "designs", ["owner_id"])
    op.create_table(
        "orders",
        _id(),
        _version(),
        sa.Column("consumer_id", sa.String(40), nullable=False),
        sa.Column("placed_at", Time, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("updated_at", Time, nullable=True),
        sa.Column("lines", Json, nullable=False),
        sa.UniqueConstraint("consumer_id", "reference", name="uq_orders_consumer_reference"),
    )
    op.create_index("ix_orders_consumer_state", "orders", ["consumer_id", "state"])
    op.create_index("ix_orders_state", "orders", ["state"])
    op.create_table(
        "jobs",
        _id(),
        _version(),
        sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("line_id", sa.String(40), nullable=False),
        sa.Column("design_id", sa.String(64), sa.ForeignKey("designs.id"), nullable=False),
        sa.Column("machine_id", sa.String(40), sa.ForeignKey("machines.id"), nullable=False),
        sa.Column("producer_id", sa.String(40), sa.ForeignKey("producers.id"), nullable=False),
        sa.Column("material", sa.String(40), nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("unit_time_s", sa.Double, nullable=False),
        sa.Column("due", Time, nullable=False),
        sa.Column("offered_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("updated_at", Time, nullable=True),
        sa.Column("started_at", Time, nullable=True),
        sa.Column("finished_at", Time, nullable=True),
        sa.Column("units_made", sa.Integer, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
    )
    op.create_index("ix_jobs_order", "jobs", ["order_id"])
    op.create_index("ix_jobs_machine_state", "jobs", ["machine_id", "state"])
    op.create_index("ix_jobs_producer_state", "jobs", ["producer_id", "state"])
    op.create_index("ix_jobs_state_expires", "jobs", ["state", "expires_at"])
    op.create_table(
        "api_keys",
        _id(),
        _version(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("principal_id", sa.String(40), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("producer_id", sa.String(40), sa.ForeignKey("producers.id"), nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("revoked_at", Time, nullable=True),
    )
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("payload", Json, nullable=False),
    )


def downgrade() -> None:
    for table in ("events", "api_keys", "jobs", "orders", "designs", "machines", "producers"):
        op.drop_table(table)

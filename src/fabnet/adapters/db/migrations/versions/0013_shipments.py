"""Shipments and couriers: parcels from producers to destinations, and who carries them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "couriers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(40), nullable=False),
        sa.Column("lat", sa.Double, nullable=False),
        sa.Column("lon", sa.Double, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "shipments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("line_id", sa.String(40), nullable=False),
        sa.Column("producer_id", sa.String(40), sa.ForeignKey("producers.id"), nullable=False),
        sa.Column("job_ids", Json, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("mass_g", sa.Integer, nullable=False),
        sa.Column("volume_ml", sa.Integer, nullable=False),
        sa.Column("origin_lat", sa.Double, nullable=False),
        sa.Column("origin_lon", sa.Double, nullable=False),
        sa.Column("dest_lat", sa.Double, nullable=False),
        sa.Column("dest_lon", sa.Double, nullable=False),
        sa.Column("due", Time, nullable=False),
        sa.Column("made_days_late", sa.Integer, nullable=False),
        sa.Column("proof_code", sa.String(20), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("leg_no", sa.Integer, nullable=False),
        sa.Column("leg", Json, nullable=True),
        sa.Column("courier_id", sa.String(40), sa.ForeignKey("couriers.id"), nullable=True),
        sa.Column("updated_at", Time, nullable=True),
        sa.Column("delivered_at", Time, nullable=True),
        sa.Column("distance_km", sa.Double, nullable=False),
        sa.Column("co2_kg", sa.Double, nullable=False),
        sa.Column("modes", Json, nullable=False),
        sa.Column("proof_attempts", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
    )
    op.create_index("ix_shipments_order", "shipments", ["order_id"])
    op.create_index("ix_shipments_state", "shipments", ["state"])
    op.create_index("ix_shipments_courier_state", "shipments", ["courier_id", "state"])
    op.create_index("ix_shipments_producer", "shipments", ["producer_id"])


def downgrade() -> None:
    op.drop_table("shipments")
    op.drop_table("couriers")

"""The schema, one column per key of adapters/rows.py. Migrations must match it
(tests/contract/test_migrations.py compares them)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

producers = sa.Table(
    "producers",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
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
    sa.Column("producer_class", sa.String(30), nullable=False, server_default="maker"),
    sa.Column("pricing", Json, nullable=True),
    sa.Column("rel_successes", sa.Double, nullable=False, server_default="0"),
    sa.Column("rel_failures", sa.Double, nullable=False, server_default="0"),
    sa.Column("rel_at", Time, nullable=True),
)

machines = sa.Table(
    "machines",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
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
    sa.Column("event_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("unreachable", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("slow_runs", sa.Integer, nullable=False, server_default="0"),
    sa.Column("capacity_flag", sa.String(300), nullable=False, server_default=""),
    sa.Column("rel_successes", sa.Double, nullable=False, server_default="0"),
    sa.Column("rel_failures", sa.Double, nullable=False, server_default="0"),
    sa.Column("rel_at", Time, nullable=True),
    sa.Column("probation", Json, nullable=True),
    sa.Index("ix_machines_producer", "producer_id"),
)

# the latest telemetry of each machine: written in batches by the MQTT bridge
machine_live = sa.Table(
    "machine_live",
    metadata,
    sa.Column("machine_id", sa.String(40), primary_key=True),
    sa.Column("producer_id", sa.String(40), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.String(30), nullable=False),
    sa.Column("job_id", sa.String(40), nullable=True),
    sa.Column("progress", sa.Double, nullable=True),
    sa.Column("temps", Json, nullable=False),
    sa.Column("messages", sa.BigInteger, nullable=False),
    sa.Index("ix_machine_live_seen", "seen_at"),
)

designs = sa.Table(
    "designs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
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
    sa.Column("content_hash", sa.String(64), nullable=True),
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("filament_mm3", sa.Double, nullable=True),
    sa.Column("estimated_print_time_s", sa.Double, nullable=True),
    sa.Index("ix_designs_owner", "owner_id"),
    sa.Index("ix_designs_content", "content_hash"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("consumer_id", sa.String(40), nullable=False),
    sa.Column("placed_at", Time, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("reference", sa.String(200), nullable=True),
    sa.Column("state", sa.String(30), nullable=False),
    sa.Column("updated_at", Time, nullable=True),
    sa.Column("lines", Json, nullable=False),
    sa.UniqueConstraint("consumer_id", "reference", name="uq_orders_consumer_reference"),
    sa.Index("ix_orders_consumer_state", "consumer_id", "state"),
    sa.Index("ix_orders_state", "state"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
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
    sa.Column("design_hash", sa.String(64), nullable=True),
    sa.Index("ix_jobs_order", "order_id"),
    sa.Index("ix_jobs_machine_state", "machine_id", "state"),
    sa.Index("ix_jobs_producer_state", "producer_id", "state"),
    sa.Index("ix_jobs_state_expires", "state", "expires_at"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("principal_id", sa.String(40), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("producer_id", sa.String(40), sa.ForeignKey("producers.id"), nullable=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("revoked_at", Time, nullable=True),
    sa.Column("expires_at", Time, nullable=True),
    sa.Column("scopes", Json, nullable=True),
    sa.Index("ix_api_keys_principal", "principal_id"),
)

couriers = sa.Table(
    "couriers",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("mode", sa.String(40), nullable=False),
    sa.Column("lat", sa.Double, nullable=False),
    sa.Column("lon", sa.Double, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)

shipments = sa.Table(
    "shipments",
    metadata,
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
    sa.Index("ix_shipments_order", "order_id"),
    sa.Index("ix_shipments_state", "state"),
    sa.Index("ix_shipments_courier_state", "courier_id", "state"),
    sa.Index("ix_shipments_producer", "producer_id"),
)

weather_switches = sa.Table(
    "weather_switches",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("flyable", sa.Boolean, nullable=False),
    sa.Column("set_at", Time, nullable=False),
    sa.Column("set_by", sa.String(40), nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(60), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("order_id", sa.String(40), nullable=True),
    sa.Index("ix_events_order", "order_id"),
)

# how far each reaction has read the events (services/reactions.py)
reactions = sa.Table(
    "reactions",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

# who runs each background task of the hub now (entrypoints/hub.py)
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("holder", sa.String(100), nullable=False),
    sa.Column("expires_at", Time, nullable=False),
)

TABLES = {
    t.name: t
    for t in (
        producers,
        machines,
        designs,
        orders,
        jobs,
        api_keys,
        couriers,
        shipments,
        weather_switches,
    )
}

log_leaves = sa.Table(
    "log_leaves",
    metadata,
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("leaf", sa.LargeBinary, nullable=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
    sa.Column("event_seq", sa.BigInteger, nullable=False),
    sa.Column("order_id", sa.String(40), nullable=True),
    sa.Index("ix_log_leaves_order", "order_id"),
    sa.Index("ix_log_leaves_event", "event_seq"),
)

# each event's one leaf: the primary key makes a second append of an event fail
log_events = sa.Table(
    "log_events",
    metadata,
    sa.Column("event_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, nullable=False, unique=True),
)

log_checkpoints = sa.Table(
    "log_checkpoints",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("note", sa.Text, nullable=False),
)

"""Alembic environment: run with a connection handed over by fabnet's ``migrate``."""

from __future__ import annotations

from alembic import context

from fabnet.adapters.db.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

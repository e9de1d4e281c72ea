"""SQL store (SQLAlchemy 2 Core, Alembic migrations): SQLite by default, PostgreSQL too."""

from fabnet.adapters.db.store import SqlUnitOfWork, create_engine_for, migrate

__all__ = ["SqlUnitOfWork", "create_engine_for", "migrate"]

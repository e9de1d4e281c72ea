"""The migrations build exactly the schema that adapters/db/tables.py describes."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fabnet.adapters.db import create_engine_for, migrate
from fabnet.adapters.db.tables import metadata


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_match_the_tables(backend, tmp_path, request):
    url = (
        f"sqlite:///{tmp_path / 'm.sqlite'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = create_engine_for(url)
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        version = conn.execute(sa.text("select version_num from alembic_version")).scalar_one()
    engine.dispose()
    assert diff == []
    assert version == "0014"

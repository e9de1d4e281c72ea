"""Copies of the store: SQLite's online backup API (a consistent copy while the hub
runs), ``pg_dump``/``pg_restore`` for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from fabnet.domain.errors import Conflict, ExternalSystemError, InvalidInput

SQLITE_FILE = "fabnet.sqlite"
PG_FILE = "fabnet.pgdump"


def kind_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore arguments and environment for a SQLAlchemy URL."""
    u = make_url(url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-d", u.database or ""]
    if u.username:
        args += ["-U", u.username]
    env = {"PGPASSWORD": u.password} if u.password else {}
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        if not candidates:
            raise ExternalSystemError(name, "not installed (the postgresql-client package)")
        found = str(candidates[-1])
    return found


def back_up(url: str, folder: Path) -> Path:
    """Write a consistent copy of the store into ``folder``; returns the file."""
    if kind_of(url) == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise InvalidInput("database_url", f"{source}: no such store")
        target = folder / SQLITE_FILE
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # pages copied consistently while writers go on
        dst.close()
        return target
    target = folder / PG_FILE
    args, env = _libpq(url)
    done = subprocess.run(
        [_tool("pg_dump"), "-Fc", "-f", str(target), *args],
        capture_output=True,
        text=True,
        env={**_base_env(), **env},
        timeout=3600,
    )
    if done.returncode != 0:
        raise ExternalSystemError("pg_dump", done.stderr.strip()[-500:])
    return target


def restore(url: str, folder: Path, engine: sa.Engine) -> None:
    """Load a backup into the store at ``url``, which must hold no fabnet data."""
    if _has_data(engine):
        raise Conflict("the target store already holds data; restore into an empty one")
    if kind_of(url) == "sqlite":
        source = folder / SQLITE_FILE
        if not source.exists():
            raise InvalidInput("backup", f"{folder}: no {SQLITE_FILE} in it")
        engine.dispose()
        target = _sqlite_path(url)
        for suffix in ("", "-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        dst.close()
        return
    source = folder / PG_FILE
    if not source.exists():
        raise InvalidInput("backup", f"{folder}: no {PG_FILE} in it")
    engine.dispose()
    args, env = _libpq(url)
    done = subprocess.run(
        [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", *args, str(source)],
        capture_output=True,
        text=True,
        env={**_base_env(), **env},
        timeout=3600,
    )
    if done.returncode != 0:
        raise ExternalSystemError("pg_restore", done.stderr.strip()[-500:])


def _has_data(engine: sa.Engine) -> bool:
    names = set(sa.inspect(engine).get_table_names())
    if "events" not in names:
        return False
    with engine.connect() as conn:
        return bool(conn.execute(sa.text("select count(*) from events")).scalar_one())


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}

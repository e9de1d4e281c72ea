"""A PostgreSQL server of the test's own (initdb in a temporary folder, a free port), so
that a test may restart or kill it without touching the machine's server."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from fabnet.adapters.mqtt.mosquitto import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (scripts/ensure-postgres.sh)")
    return found[-1]


class PgCluster:
    def __init__(self) -> None:
        # its own folder outside the test's (pytest's is private to root, and PostgreSQL
        # runs as the postgres user)
        self.root = Path(tempfile.mkdtemp(prefix="fabnet-pg-"))
        self.dir = self.root / "pg"
        self.port = free_port()
        self.as_root = os.geteuid() == 0  # PostgreSQL refuses to run as root

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_root:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in cmd)]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PgCluster:
        self.dir.mkdir(parents=True)
        if self.as_root:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.dir, "postgres")
        self._run(_bin("initdb"), "-D", str(self.dir), "-U", "postgres", "-A", "trust", "--no-sync")
        self._ctl("start")
        return self

    def _ctl(self, action: str, *extra: str) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} -c fsync=off"
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.dir),
            "-o",
            opts,
            "-l",
            str(self.dir / "log"),
            "-w",
            action,
            *extra,
        )

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.dir), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_ready(self, timeout_s: float = 30) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            done = subprocess.run(
                [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
            )
            if done.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("the test's PostgreSQL did not come up")

"""What the benchmarks that drive a real `fabnet serve` share: a free port, and the
server started and answering /health."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(
    env: dict[str, str], *args: str, log: IO[str] | None = None
) -> tuple[subprocess.Popen, str]:
    """`fabnet serve` on a free port; returns the process and its base URL once /health
    answers (or raises after 30 s)."""
    port = free_port()
    sink = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "fabnet", "serve", "--port", str(port), *args],
        env=env,
        stdout=sink,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("fabnet serve did not come up")

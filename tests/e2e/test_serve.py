"""`fabnet demo --serve` keeps the real API up over the demo's store."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_then_serve_answers_with_the_demo_orders(tmp_path):
    port = free_port()
    env = os.environ | {"FABNET_DATA_DIR": str(tmp_path)}
    env.pop("FABNET_DATABASE_URL", None)
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fabnet",
                "demo",
                "--size",
                "small",
                "--seed",
                "2",
                "--serve",
                "--port",
                str(port),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        key = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and key is None:
            match = re.search(r"operator key: (fab_\S+)", log.read_text())
            key = match.group(1) if match else None
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        assert key, log.read_text()
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        orders = httpx.get(
            f"{base}/orders", headers={"X-API-Key": key}, params={"limit": 500}
        ).json()
        assert orders["total"] == 18
        assert sum(o["units_made"] for o in orders["items"]) > 2000
        assert httpx.get(f"{base}/orders").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=20)

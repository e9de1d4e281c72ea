"""OctoPrint 1.11 with its virtual printer, in its own virtualenv (its pins clash with
ours), started as a subprocess on a free port for the test session."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from fabnet.adapters.mqtt.mosquitto import free_port

REPO = Path(__file__).resolve().parents[2]
EXECUTABLE = Path(os.environ.get("FABNET_OCTOPRINT", REPO / ".octoprint-venv/bin/octoprint"))

CONFIG = """\
api:
  key: {key}
server:
  firstRun: false
  onlineCheck:
    enabled: false
  pluginBlacklist:
    enabled: false
plugins:
  virtual_printer:
    enabled: true
  tracking:
    enabled: false
  announcements:
    enabled: false
  errortracking:
    enabled: false
  softwareupdate:
    check_providers: {{}}
"""


@contextmanager
def octoprint(basedir: Path) -> Iterator[tuple[str, str]]:
    if not EXECUTABLE.exists():
        pytest.fail(f"OctoPrint is not installed at {EXECUTABLE} (`make test` makes its venv)")
    key = secrets.token_hex(16)
    basedir.mkdir(parents=True, exist_ok=True)
    (basedir / "config.yaml").write_text(CONFIG.format(key=key))
    subprocess.run(
        [str(EXECUTABLE), "--basedir", str(basedir), "user", "add", "--admin",
         "--password", secrets.token_hex(8), "fabnet"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = free_port()
    log = (basedir / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(EXECUTABLE), "serve", "--basedir", str(basedir), "--host", "127.0.0.1",
         "--port", str(port), "--iknowwhatimdoing"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"OctoPrint exited: {(basedir / 'serve.log').read_text()[-800:]}")
            try:
                if httpx.get(f"{url}/api/version", headers={"X-Api-Key": key}).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("OctoPrint did not answer within 120 s")
            time.sleep(0.25)
        yield url, key
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()

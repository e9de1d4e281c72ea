"""The README's picture: the operator page after `fabnet demo` (as `fabnet demo --serve`
serves it), taken in Debian's Chromium. Writes docs/img/operator.png.

    .venv/bin/python scripts/screenshot-operator.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from fabnet.bootstrap import bootstrap
from fabnet.config import Settings
from fabnet.domain.states import Role
from fabnet.entrypoints.api import create_app
from fabnet.services import commands as cmd

OUT = Path(__file__).parents[1] / "docs" / "img" / "operator.png"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "FABNET_DATA_DIR": tmp}
        subprocess.run([sys.executable, "-m", "fabnet", "demo", "--json"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/demo.sqlite")
        app = bootstrap(settings)
        key = app.bus().handle(cmd.CreateApiKey("readme", Role.OPERATOR)).secret
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(fabnet=app, hub=False),
                                               host="127.0.0.1", port=port, log_level="warning"))  # fmt: skip
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_label("API key").fill(key)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_selector("#map[data-drawn-ms]")
            OUT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT))
            browser.close()
        server.should_exit = True
        thread.join(timeout=10)
        app.close()
    print(OUT)


if __name__ == "__main__":
    main()

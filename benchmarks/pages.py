"""The operator page's first render with many machines (issue 16): 10,000 producers with a
machine each, against an empty network in the same run (the baseline), in Debian's
Chromium driven by Playwright.

The figure is the page's own: milliseconds from navigation start until the map is drawn
(operator.js stamps `data-drawn-ms` on the canvas), after signing in. Target: under 2 s.

    .venv/bin/python benchmarks/pages.py [--producers 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from fabnet.bootstrap import App, bootstrap
from fabnet.config import Settings
from fabnet.domain.capabilities import Process
from fabnet.domain.ids import MachineId, ProducerId
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.states import MachineStatus, Role
from fabnet.domain.units import Box, Place
from fabnet.entrypoints.api import create_app
from fabnet.services import commands as cmd

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def seed(app: App, producers: int) -> None:
    rng = random.Random(7)
    for start in range(0, producers, 1000):
        with app.new_uow() as uow:
            for i in range(start, min(producers, start + 1000)):
                pid = ProducerId(f"prd_bench{i:08d}")
                uow.producers.add(
                    Producer(
                        id=pid,
                        name=f"maker {i}",
                        place=Place(rng.uniform(47.5, 54.5), rng.uniform(6.0, 14.5)),
                    )
                )
                uow.machines.add(
                    Machine(
                        id=MachineId(f"mch_bench{i:08d}"),
                        producer_id=pid,
                        name="printer",
                        process=Process.FDM,
                        build_volume=Box(250, 210, 210),
                        materials=("PLA", "PETG"),
                        nozzle_mm=0.4,
                        status=MachineStatus.BUSY if rng.random() < 0.4 else MachineStatus.IDLE,
                    )
                )
            uow.commit()


def first_render_ms(producers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        app = bootstrap(Settings(data_dir=Path(tmp), rate_per_s=1000, rate_burst=1000))
        started = time.perf_counter()
        seed(app, producers)
        seeded_s = time.perf_counter() - started
        key = app.bus().handle(cmd.CreateApiKey("bench", Role.OPERATOR)).secret
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(fabnet=app, hub=False), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_label("API key").fill(key)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_selector("#map[data-drawn-ms]", timeout=120_000)
                drawn = float(page.get_attribute("#map", "data-drawn-ms") or "nan")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            app.close()
    return {"producers": producers, "first_render_ms": drawn, "seed_s": round(seeded_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--producers", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    empty = first_render_ms(0)
    full = first_render_ms(args.producers)
    out = {
        "empty": empty,
        "full": full,
        "ratio": round(full["first_render_ms"] / empty["first_render_ms"], 2),
        "target_met": full["first_render_ms"] < 2000,
    }
    print(json.dumps(out, indent=None if args.json else 2))


if __name__ == "__main__":
    main()

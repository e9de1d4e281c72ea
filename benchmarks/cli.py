"""Whole-process times of the CLI, against the bare interpreter in the same run.

Each command runs as a fresh process (what a user waits for), on a SQLite hub with 300
imported producers and 20 orders: `fabnet --help`, `fabnet orders list --json`, and
`fabnet quote` of a 100k-triangle part; beside them the quote's in-process figure (the
service call the API makes) and `python -c pass`. Median of --runs runs.
Targets (issue 13): --help and orders list at most 0.5 s; quote of 100k at most 1.5 s.

    .venv/bin/python benchmarks/cli.py [--json] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quote import dense_part, quote_bus, timed  # benchmarks/quote.py

from fabnet.domain.access import Principal
from fabnet.domain.states import Role
from fabnet.services import commands as cmd

ROOT = Path(__file__).resolve().parent.parent
IOPA = ROOT / "tests" / "data" / "okw-iopa"


def run(args: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, check=False)
        samples.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    fabnet = [sys.executable, "-m", "fabnet"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "FABNET_DATA_DIR": tmp}
        env.pop("FABNET_DATABASE_URL", None)
        facilities = IOPA / "preliminary_iop_okw_fac_source_01.sample300.json"
        subprocess.run(
            [*fabnet, "producers", "import", str(facilities)],
            env=env,
            capture_output=True,
            check=False,
        )
        part = Path(tmp) / "part100k.stl"
        part.write_bytes(dense_part(100_000))
        small = Path(tmp) / "box.stl"
        from fabnet.sim.parts import box_stl

        small.write_bytes(box_stl(40, 30, 10))
        added = subprocess.run(
            [*fabnet, "designs", "add", str(small), "--json"],
            env=env,
            capture_output=True,
            check=True,
        )
        design = json.loads(added.stdout)["id"]
        due = (datetime.now(UTC) + timedelta(days=20)).isoformat()
        for i in range(20):
            subprocess.run(
                [*fabnet, "orders", "create", "--design", design, "--quantity", str(5 + i),
                 "--deadline", due, "--lat", "48.85", "--lon", "2.35"],
                env=env, capture_output=True, check=True,
            )  # fmt: skip
        figures: dict[str, object] = {
            "python_c_pass_s": run([sys.executable, "-c", "pass"], env, args.runs),
            "help_s": run([*fabnet, "--help"], env, args.runs),
            "orders_list_s": run([*fabnet, "orders", "list", "--json"], env, args.runs),
            "quote_100k_process_s": run([*fabnet, "quote", str(part), "--json"], env, args.runs),
        }
    bus = quote_bus()
    data = part_bytes = dense_part(100_000)
    actor = Principal(id="c", role=Role.CONSUMER)  # type: ignore[arg-type]
    request = cmd.RequestQuote(actor=actor, filename="p.stl", data=part_bytes, quantity=100)
    bus.handle(request)
    figures["quote_100k_in_process_s"] = timed(lambda: bus.handle(request), args.runs)
    del data
    base = float(figures["python_c_pass_s"])  # type: ignore[arg-type]
    for key in ("help_s", "orders_list_s", "quote_100k_process_s"):
        figures[f"{key} / python_c_pass_s"] = round(float(figures[key]) / base, 1)  # type: ignore[arg-type]
    figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for k, v in figures.items():
            print(f"{k:>40}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

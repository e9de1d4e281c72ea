"""OKW import on data other projects published: the IoPA's fablabs.io export and its
machine list (tests/data/okw-iopa, from ../shared/testdata). Prints what was kept,
assumed and refused, and
the time, against the baseline of only parsing the files in the same run; then the same
import as a whole process twice (the second must change nothing).

    .venv/bin/python benchmarks/okw_import.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IOPA = ROOT / "tests" / "data" / "okw-iopa"
FACILITIES = IOPA / "preliminary_iop_okw_fac_source_01.sample300.json"
MACHINES = IOPA / "mvp_machinery.sample300.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from fabnet.adapters.gazetteer import Gazetteer
    from fabnet.adapters.okw import OkwReader, load_records
    from fabnet.adapters.okw_iopa import load_iopa_machines

    t0 = time.perf_counter()
    records = load_records(FACILITIES.read_text(), "json")
    machines = load_iopa_machines(MACHINES.read_text())
    parse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = OkwReader(Gazetteer(), machines).read(records)
    read_s = time.perf_counter() - t0
    specs = [spec for _, spec in result.good]
    fdm_like = {"fdm", "sla", "sls"}
    kept_machines = [m for s in specs for m in s.machines]
    others = sum(
        len(s.extra["other_equipment"].split("\n")) for s in specs if s.extra.get("other_equipment")
    )
    figures: dict[str, object] = {
        "records": len(records),
        "machine_rows": sum(len(v) for v in machines.values()),
        "facilities_kept": len(specs),
        "records_refused": len({e.index for e in result.bad}),
        "machines": len(kept_machines),
        "machines_planned_on": sum(1 for m in kept_machines if not m.unverified),
        "printers_planned_on": sum(
            1 for m in kept_machines if not m.unverified and m.process in fdm_like
        ),
        "printers": sum(1 for m in kept_machines if m.process in fdm_like),
        "machines_unverified": sum(1 for m in kept_machines if m.unverified),
        "other_equipment": others,
        "located_from_address": dict(sorted(result.located.items())),
        "warnings": len(result.warnings),
        "parse_s": round(parse_s, 3),
        "read_s": round(read_s, 3),
        "read_s / parse_s": round(read_s / parse_s, 1) if parse_s else None,
    }
    env = dict(os.environ)
    env.pop("FABNET_DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as data_dir:
        env["FABNET_DATA_DIR"] = data_dir
        runs = []
        for _ in range(2):
            t0 = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "fabnet",
                    "producers",
                    "import",
                    str(FACILITIES),
                    "--machines",
                    str(MACHINES),
                    "--json",
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            elapsed = time.perf_counter() - t0
            summary = json.loads(done.stdout) if done.stdout.strip() else {}
            runs.append((elapsed, done.returncode, summary))
    figures["process_first_s"] = round(runs[0][0], 2)
    figures["process_first_created"] = runs[0][2].get("created")
    figures["process_second_s"] = round(runs[1][0], 2)
    figures["process_second_unchanged"] = runs[1][2].get("unchanged")
    figures["process_second_changed"] = (runs[1][2].get("created") or 0) + (
        runs[1][2].get("updated") or 0
    )
    figures["exit_codes"] = [r[1] for r in runs]
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for k, v in figures.items():
            print(f"{k:>28}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

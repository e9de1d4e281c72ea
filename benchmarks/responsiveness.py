"""Does the hub keep answering while its heaviest allowed requests run?

`fabnet serve` (a real process) is asked for /health every 10 ms, first idle (the
baseline, same run), then while heavy requests run back to back: exact quotes of a large
real part (mesh analysis, the fast estimate and PrusaSlicer) and design uploads of a
component-nested 3MF near the caps. Prints /health p50/p99/max for both phases and their
ratio. Goal: p99 under 100 ms under load.

    .venv/bin/python benchmarks/responsiveness.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from serving import start_serve  # benchmarks/serving.py

from fabnet.bootstrap import bootstrap
from fabnet.config import Settings
from fabnet.domain.access import Principal
from fabnet.domain.ids import PrincipalId
from fabnet.domain.states import Role
from fabnet.services import commands as cmd

PART = (
    Path(__file__).resolve().parents[1]
    / "../shared/testdata/real-parts/nevermore_max_frame_interconnect_1.stl"
)


def probe(base: str, seconds: float) -> list[float]:
    out: list[float] = []
    end = time.perf_counter() + seconds
    with httpx.Client(base_url=base, timeout=10) as client:
        while time.perf_counter() < end:
            started = time.perf_counter()
            client.get("/health")
            out.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
    return out


def figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
        "max_ms": round(ordered[-1], 2),
        "samples": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fabnet-resp-"))
    settings = Settings(data_dir=tmp)
    app = bootstrap(settings)
    operator = Principal(PrincipalId("usr_bench"), Role.OPERATOR)
    bus = app.bus()
    bus.handle(
        cmd.RegisterProducer(
            operator,
            cmd.FacilitySpec(
                name="maker",
                lat=52.5,
                lon=13.4,
                machines=(cmd.MachineSpec("mk4", "fdm", ("PLA",), (250.0, 210.0, 220.0)),),
            ),
        )
    )
    keys = [bus.handle(cmd.CreateApiKey(f"k{n}", Role.OPERATOR)).secret for n in range(2)]
    app.close()
    env = os.environ | {"FABNET_DATA_DIR": str(tmp), "FABNET_RATE_PER_S": "1e6"}
    env.pop("FABNET_DATABASE_URL", None)
    proc, base = start_serve(env)
    try:
        idle = probe(base, args.seconds / 4)
        part = PART.read_bytes()
        stop = threading.Event()
        heavy_done: list[float] = []

        def heavy(key: str) -> None:
            with httpx.Client(base_url=base, timeout=600) as client:
                while not stop.is_set():
                    started = time.perf_counter()
                    r = client.post(
                        "/quotes",
                        headers={"X-API-Key": key},
                        files={"file": (PART.name, part, "model/stl")},
                        data={"exact": "true"},
                    )
                    if r.status_code == 200:
                        heavy_done.append(time.perf_counter() - started)

        workers = [threading.Thread(target=heavy, args=(k,), daemon=True) for k in keys]
        for w in workers:
            w.start()
        time.sleep(1.0)
        loaded = probe(base, args.seconds)
        stop.set()
        for w in workers:
            w.join(600)
    finally:
        proc.terminate()
        proc.wait(30)
    idle_f, loaded_f = figures(idle), figures(loaded)
    row = {
        "heavy": f"exact quote of {PART.name} ({len(part)} bytes), 2 keys back to back",
        "heavy_requests_done": len(heavy_done),
        "heavy_mean_s": round(statistics.mean(heavy_done), 2) if heavy_done else None,
        **{f"idle_{k}": v for k, v in idle_f.items()},
        **{f"loaded_{k}": v for k, v in loaded_f.items()},
        "loaded_over_idle_p99": round(loaded_f["p99_ms"] / max(idle_f["p99_ms"], 0.01), 2),
    }
    if args.json:
        print(json.dumps({"results": [row]}, indent=2))
    else:
        print(" ".join(f"{k}={v}" for k, v in row.items()))


if __name__ == "__main__":
    main()

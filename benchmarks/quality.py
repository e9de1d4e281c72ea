"""Quality benchmark (issue 15), the part built so far: the telemetry anomaly detector on
labelled simulated traces (sim/traces.py): precision, recall and time to detect, overall
and per fault, with a baseline detector in the same run (the machine's own error state
only, what a hub without the rules would see).

With --reliability: the simulator's demo (size small) with a population of hidden,
heterogeneous makers (a share fail 30% of jobs, the rest 5%), planned with the learned
reliability priced in (risk 500 per failed unit) and ignoring it (risk 0), same seeds:
failed_units_ratio and on_time_ratio for both.

Not yet here: recorded OctoPrint virtual-printer traces.

    .venv/bin/python benchmarks/quality.py [--json] [--normal 300] [--per-fault 60]
        [--reliability --seeds 3 --unreliable-share 0.2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from fabnet.fabrication.anomaly import JobWatch
from fabnet.sim.traces import FAULTS, traces

SEED = 2026  # not the seeds of the unit tests


def run(all_traces, *, baseline: bool) -> dict[str, object]:
    tp = fp = fn = 0
    delays: list[float] = []
    per_fault: dict[str, dict[str, float]] = {}
    for t in all_traces:
        watch = JobWatch(t.expected_s)
        first = None
        for s in t.samples:
            if baseline:
                flags = ["error"] if s.state == "error" else []
                if flags:
                    first = s.at_s
                    break
                continue
            found = watch.feed(s)
            if found:
                first = found[0].at_s
                break
        if t.fault is None:
            fp += first is not None
            continue
        stats = per_fault.setdefault(t.fault, {"caught": 0, "missed": 0, "delays": []})  # type: ignore[dict-item]
        if first is not None and first >= (t.fault_at_s or 0):
            tp += 1
            stats["caught"] += 1
            delay = first - (t.fault_at_s or 0)
            delays.append(delay)
            stats["delays"].append(delay)  # type: ignore[attr-defined]
        else:
            fn += 1
            stats["missed"] += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "false_positives": fp,
        "median_time_to_detect_s": round(statistics.median(delays), 1) if delays else None,
        "per_fault": {
            f: {
                "recall": round(v["caught"] / (v["caught"] + v["missed"]), 3),
                "median_time_to_detect_s": round(statistics.median(v["delays"]), 1)  # type: ignore[arg-type]
                if v["delays"]
                else None,
            }
            for f, v in sorted(per_fault.items())
        },
    }


def reliability_run(seed: int, share: float, risk: float) -> dict[str, float]:
    from dataclasses import replace
    from datetime import UTC, datetime

    from fabnet.adapters.geometry import TrimeshAnalyzer
    from fabnet.adapters.memory import InMemoryBlobStore, InMemoryDatabase, InMemoryUnitOfWork
    from fabnet.adapters.solvers import OrToolsFlow
    from fabnet.domain.states import JobState
    from fabnet.services.messagebus import MessageBus
    from fabnet.services.ports import FixedClock, Policy, SeededIds
    from fabnet.sim.demo import run_demo
    from fabnet.sim.scenarios import SIZES

    db = InMemoryDatabase()
    clock = FixedClock(datetime(2026, 3, 2, 8, tzinfo=UTC))
    bus = MessageBus(
        uow=InMemoryUnitOfWork(db),
        clock=clock,
        ids=SeededIds(seed),
        blobs=InMemoryBlobStore(),
        mesh=TrimeshAnalyzer(wall_samples=500),
        policy=Policy(risk_per_unit=risk),
        flow_solver=OrToolsFlow(),
    )
    config = replace(SIZES["small"], unreliable_share=share, failure_rate=0.05)
    summary = run_demo(
        bus=bus, new_uow=lambda: InMemoryUnitOfWork(db), clock=clock, config=config, seed=seed
    )
    with InMemoryUnitOfWork(db) as uow:
        failed = sum(j.units - j.units_made for j in uow.jobs.all() if j.state is JobState.FAILED)
    return {
        "failed_units_ratio": round(failed / summary.units_ordered, 4),
        "on_time_ratio": round(summary.on_time_ratio, 4),
        "jobs_failed": summary.jobs_failed,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--normal", type=int, default=300)
    ap.add_argument("--per-fault", type=int, default=60)
    ap.add_argument("--reliability", action="store_true")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--unreliable-share", type=float, default=0.2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    labelled = traces(args.normal, args.per_fault, SEED)
    made_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rules = run(labelled, baseline=False)
    rules_s = time.perf_counter() - t0
    figures = {
        "traces": len(labelled),
        "normal": args.normal,
        "faults": dict.fromkeys(FAULTS, args.per_fault),
        "samples": sum(len(t.samples) for t in labelled),
        "detector": rules,
        "baseline_error_state_only": run(labelled, baseline=True),
        "detector_s": round(rules_s, 2),
        "traces_made_s": round(made_s, 2),
        "learned_reliability_vs_ignoring_it": "run with --reliability",
    }
    if args.reliability:
        runs = []
        for seed in range(1, args.seeds + 1):
            learned = reliability_run(seed, args.unreliable_share, 500.0)
            ignored = reliability_run(seed, args.unreliable_share, 0.0)
            runs.append({"seed": seed, "learned": learned, "ignored": ignored})
        total = {
            k: {
                m: round(statistics.mean(r[k][m] for r in runs), 4)  # type: ignore[index]
                for m in ("failed_units_ratio", "on_time_ratio")
            }
            for k in ("learned", "ignored")
        }
        cut = 1 - total["learned"]["failed_units_ratio"] / max(
            total["ignored"]["failed_units_ratio"], 1e-9
        )
        figures["learned_reliability_vs_ignoring_it"] = {
            "runs": runs,
            "mean": total,
            "failed_units_cut": round(cut, 4),
        }
    print(
        json.dumps(figures, indent=2)
        if args.json
        else "\n".join(f"{k}: {v}" for k, v in figures.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

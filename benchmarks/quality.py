"""Quality benchmark (issue 15), the part built so far: the telemetry anomaly detector on
labelled simulated traces (sim/traces.py): precision, recall and time to detect, overall
and per fault, with a baseline detector in the same run (the machine's own error state
only, what a hub without the rules would see).

Not yet here: planning with learned reliability against ignoring it in the simulator
(failed_units_ratio, on_time_ratio), and recorded OctoPrint virtual-printer traces.

    .venv/bin/python benchmarks/quality.py [--json] [--normal 300] [--per-fault 60]
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--normal", type=int, default=300)
    ap.add_argument("--per-fault", type=int, default=60)
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
        "learned_reliability_vs_ignoring_it": "not measured yet",
    }
    print(
        json.dumps(figures, indent=2)
        if args.json
        else "\n".join(f"{k}: {v}" for k, v in figures.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

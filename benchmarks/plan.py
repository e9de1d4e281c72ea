"""The planner against the baselines an OR person would run, on one seeded instance
with mixed print times (parts of 24 minutes to 4.6 hours, sim/instances.py).

Prints one JSON object (--json) or a table: our flow planner (one model in machine time,
priced to a bound over every capable machine), then in the same run: HiGHS's LP of the
same model over every capable (line, machine, day) column where it has at most
--highs-columns columns (its time and optimum: the bound must equal it), the old
approach (one print-time class after another, each a separate min-cost flow, with the sum
of the classes' bounds it used to report as a certificate), and the greedy planner, all
scored by the same objective. Then a re-plan after 1% of the machines fail, and the
fixed-charge model.

    .venv/bin/python benchmarks/plan.py --size medium --json
    .venv/bin/python benchmarks/plan.py --size small --save small.json
    .venv/bin/python benchmarks/plan.py --size national --json --deadline-s 600
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import resource
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from fabnet.adapters.solvers import OrToolsFlow
from fabnet.planning import solve
from fabnet.planning.evaluate import objective
from fabnet.planning.files import to_dict
from fabnet.planning.fixed_charge import solve_fixed_charge
from fabnet.planning.flow import solve_flow
from fabnet.planning.highs import solve_highs
from fabnet.planning.highs_lp import solve_highs_lp
from fabnet.planning.plan import Plan
from fabnet.planning.problem import Problem
from fabnet.planning.replan import replan
from fabnet.planning.steps import STEPS
from fabnet.sim.instances import SIZES, generate

PARCEL_CENTS = 1_500.0  # fixed-charge run: one parcel per (line, machine) pair; assumption
# HiGHS's LP through SciPy: the medium size (about 30M columns) was killed out of memory
# at 24 GB on 2026-12-03 (anon-rss 24,077,668 kB), so at least 800 bytes a column
HIGHS_BYTES_PER_COLUMN = 800
HIGHS_MEMORY_SHARE = 0.75  # of the memory available, at most, for that estimate


def available_gb() -> float:
    """MemAvailable of /proc/meminfo (Linux), or no limit elsewhere."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return float("inf")


def jittered(problem: Problem, share: float, seed: int) -> Problem:
    """Each order's print time times a uniform factor in [1 - share, 1 + share]."""
    rng = random.Random(seed)
    demands = tuple(
        replace(d, unit_time_s=round(d.unit_time_s * rng.uniform(1 - share, 1 + share)))
        for d in problem.demands
    )
    return replace(problem, demands=demands)


def over(a: float, b: float) -> float | None:
    """a / b, or None where either is not a number (nan: HiGHS found nothing in its
    time) or b is not positive."""
    return a / b if math.isfinite(a) and math.isfinite(b) and b > 0 else None


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_kb(status: str, field: str) -> int:
    return int(status.split(f"{field}:", 1)[1].split()[0])


class WorkerPeak:
    """The largest peak RSS of this process's worker processes (the MIPs' pools), read
    from /proc every half second while they live: VmHWM after exec (getrusage's
    RUSAGE_CHILDREN counts the parent's pages a spawned child holds before its exec);
    and ``together_mb``, the most this process and its workers held at once: the sum of
    their resident sets (VmRSS, shared library pages counted in each) at each reading."""

    def __init__(self) -> None:
        self.mb = 0.0
        self.together_mb = 0.0
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        me = str(os.getpid())
        proc = Path("/proc")
        while True:
            together = 0
            with contextlib.suppress(OSError, IndexError, ValueError):
                together = _status_kb((proc / "self" / "status").read_text(), "VmRSS")
            for entry in proc.iterdir() if proc.is_dir() else ():
                if entry.name.isdigit():
                    with contextlib.suppress(OSError, IndexError, ValueError):
                        if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == me:
                            status = (entry / "status").read_text()
                            self.mb = max(self.mb, _status_kb(status, "VmHWM") / 1024)
                            together += _status_kb(status, "VmRSS")
            self.together_mb = max(self.together_mb, together / 1024)
            time.sleep(0.5)


def one_class_at_a_time(problem: Problem, flow: OrToolsFlow) -> tuple[Plan, float]:
    """The planner as it was: each print time a separate problem, the most urgent first,
    each taking machine time from the next. Returns the plan and the sum of the classes'
    own bounds (what it reported as the whole problem's bound)."""
    classes: dict[float, list] = {}
    for d in problem.demands:
        classes.setdefault(d.unit_time_s, []).append(d)
    order = sorted(classes, key=lambda t: (-max(d.priority for d in classes[t]), t))
    busy = {s.machine_id: s.busy_s for s in problem.supplies}
    assignments, unmet, claimed = [], [], 0.0
    for unit_s in order:
        supplies = tuple(replace(s, busy_s=busy[s.machine_id]) for s in problem.supplies)
        sub = replace(problem, demands=tuple(classes[unit_s]), supplies=supplies)
        plan = solve_flow(sub, flow)
        claimed += plan.stats["lp_bound"]
        speed = {s.machine_id: s.speed_factor for s in problem.supplies}
        for a in plan.assignments:
            busy[a.machine_id] += a.units * unit_s / speed[a.machine_id]
        assignments.extend(plan.assignments)
        unmet.extend(plan.unmet)
    return Plan(tuple(assignments), tuple(unmet), "one-class-at-a-time"), claimed


def progress(out: dict[str, object]) -> None:
    """The figures so far, on stderr: a long run shows where it is and loses nothing."""
    print(json.dumps(out), file=sys.stderr, flush=True)


def within_deadline(deadline_s: float, as_json: bool) -> None:
    """This benchmark again as a child process, without --deadline-s, stopped after
    ``deadline_s``: its figures when it finished in time, or what it printed by then."""
    argv, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
        elif arg == "--deadline-s":
            skip = True
        elif not arg.startswith("--deadline-s="):
            argv.append(arg)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, *argv, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = child.communicate(timeout=deadline_s)
        finished = child.returncode == 0
    except subprocess.TimeoutExpired:
        child.kill()
        stdout, stderr = child.communicate()
        finished = False
    lines = [line for line in (stdout + "\n" + stderr).splitlines() if line.startswith("{")]
    out: dict[str, object] = json.loads(lines[-1]) if lines else {}
    out |= {
        "deadline_s": deadline_s,
        "finished_within_deadline": finished,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    if not finished:
        out["note"] = (
            f"not finished within {deadline_s:.0f} s (exit {child.returncode}); "
            "the figures above are what it had printed by then"
        )
    if as_json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:<36} {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--save", type=Path, help="write the instance as a problem file")
    parser.add_argument("--fixed-charge", choices=("yes", "no", "auto"), default="auto")
    parser.add_argument("--highs-columns", type=int, default=40_000_000)
    parser.add_argument("--highs-limit-s", type=float, default=1800.0)
    parser.add_argument("--baselines", choices=("yes", "no"), default="yes")
    parser.add_argument(
        "--mip-limit-s",
        type=float,
        default=0.0,
        help="also run HiGHS's MIP of the whole problem this long (0: not): its best plan "
        "and the lower bound it proves, against which the integrality gap is measured",
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=600.0,
        help="pricing stops after this long (the national size's 10 minutes)",
    )
    parser.add_argument(
        "--parts",
        choices=("mixed", "reference"),
        default="mixed",
        help="mixed print times, or every order for the 80-minute reference part",
    )
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        help="each order's print time times a uniform factor in [1 - J, 1 + J] (seeded): "
        "every design its own print time, as in a real hub (0: the parts' own times)",
    )
    parser.add_argument(
        "--deadline-s",
        type=float,
        default=0.0,
        help="run the whole benchmark in a child process and stop it after this long, "
        "saying so with the figures it printed by then (the national size: 600)",
    )
    args = parser.parse_args()
    if args.deadline_s > 0:
        within_deadline(args.deadline_s, args.json)
        return

    problem, gen_s = timed(
        lambda: generate(SIZES[args.size], seed=args.seed, mixed=args.parts == "mixed")
    )
    if not 0.0 <= args.jitter < 1.0:
        parser.error("--jitter must be at least 0 and below 1")
    if args.jitter > 0:
        problem = jittered(problem, args.jitter, args.seed)
    if args.save:
        args.save.write_text(json.dumps(to_dict(problem)))
    flow = OrToolsFlow()
    workers = WorkerPeak()
    started = time.perf_counter()

    def over_budget() -> bool:
        return time.perf_counter() - started > args.budget_s

    ours, plan_s = timed(lambda: solve(problem, solver="flow", flow_solver=flow, stop=over_budget))
    ours_rss = rss_mb()

    out: dict[str, object] = {
        "size": args.size,
        "parts": args.parts,
        "jitter": args.jitter,
        "print_times": len({d.unit_time_s for d in problem.demands}),
        "producers": len(problem.supplies),
        "orders": len(problem.demands),
        "units": sum(d.units for d in problem.demands),
        "print_times_min": sorted({round(d.unit_time_s / 60) for d in problem.demands}),
        "arcs": int(ours.stats["arcs"]),
        "rounds": int(ours.stats["rounds"]),
        "plan_s": round(plan_s, 3),
        # where the plan's time went (planning/steps.py): greedy, model, lp, rounding,
        # bound, neighbourhoods, assignments
        "steps_s": {k[:-2]: round(v, 1) for k, v in ours.stats.items() if k[:-2] in STEPS},
        "objective": round(ours.stats["objective"], 2),
        "lp_objective": round(ours.stats["lp_objective"], 2),
        "lp_bound": round(ours.stats["lp_bound"], 2),
        # the LP relaxation's bound (lp_bound is the knapsack bound where that is higher)
        "lp_relaxation": round(ours.stats["lp_relaxation"], 2),
        "gap": ours.stats["gap"],
        "lp_gap": (ours.stats["lp_objective"] - ours.stats["lp_relaxation"])
        / ours.stats["lp_objective"],
        "certified": bool(ours.stats["certified"]),
        "unmet_units": ours.units_unmet,
        "peak_rss_mb_after_plan": round(ours_rss, 1),
        "peak_rss_mb_largest_worker_after_plan": round(workers.mb, 1),
        "rss_mb_with_workers_at_most_after_plan": round(workers.together_mb, 1),
        "within_budget": plan_s <= args.budget_s,
    }
    progress(out)
    if args.baselines == "yes":
        greedy, greedy_s = timed(lambda: solve(problem, solver="greedy"))
        old, old_s = timed(lambda: one_class_at_a_time(problem, flow))
        old_plan, claimed = old
        out |= {
            "greedy_s": round(greedy_s, 3),
            "greedy_objective": round(objective(problem, greedy), 2),
            "greedy_unmet_units": greedy.units_unmet,
            "one_class_s": round(old_s, 3),
            "one_class_objective": round(objective(problem, old_plan), 2),
            "one_class_claimed_bound": round(claimed, 2),
            "one_class_claim_above_true_bound": claimed > ours.stats["lp_relaxation"] * (1 + 1e-9),
            "one_class_unmet_units": old_plan.units_unmet,
        }
    capable = (
        sum(1 for d in problem.demands for s in problem.supplies if s.can_make(d))
        if len(problem.demands) * len(problem.supplies) <= 2e7
        else None
    )
    window = problem.costs.late_window_days + 1
    need_gb = (capable or 0) * window * HIGHS_BYTES_PER_COLUMN / 1e9
    # 800 bytes a column is a floor: on a fresh 24 GiB machine (23.9 GB available) the
    # medium LP's 23.8 GB passed a bare comparison and HiGHS took 20 GB within minutes
    if capable is not None and need_gb > HIGHS_MEMORY_SHARE * available_gb():
        out["highs_lp"] = (
            f"not run: at least {need_gb:.1f} GB for {capable * window:,} columns, more "
            f"than {HIGHS_MEMORY_SHARE:.0%} of the {available_gb():.1f} GB available "
            "(benchmarks/plan_highs_lp.py hands the same LP to HiGHS itself, in less memory)"
        )
    elif capable is not None and capable * window <= args.highs_columns:
        lp, _ = timed(lambda: solve_highs_lp(problem, time_limit_s=args.highs_limit_s))
        out |= {
            "highs_lp_columns": lp.variables,
            "highs_lp_s": round(lp.seconds, 3),
            "highs_lp_status": lp.status,
            "highs_lp_objective": round(lp.objective, 2) if lp.objective == lp.objective else None,
            "plan_over_highs_lp_s": round(plan_s / lp.seconds, 4),
            "bound_over_highs_lp": (
                ours.stats["lp_bound"] / lp.objective if lp.objective == lp.objective else None
            ),
            "lp_relaxation_over_highs_lp": (
                ours.stats["lp_relaxation"] / lp.objective if lp.objective == lp.objective else None
            ),
        }
    else:
        out["highs_lp"] = (
            "not run: more columns than --highs-columns "
            "(benchmarks/plan_highs_lp.py hands the same LP to HiGHS itself)"
        )

    if args.mip_limit_s > 0:
        mip = solve_highs(problem, integral=True, time_limit_s=args.mip_limit_s)
        out |= {
            "highs_mip_s": round(mip.seconds, 3),
            "highs_mip_status": mip.status,
            "highs_mip_incumbent": round(mip.incumbent, 2),
            "highs_mip_dual_bound": round(mip.dual_bound, 2),
            "plan_over_highs_mip_incumbent": over(ours.stats["objective"], mip.incumbent),
            # None where HiGHS proved nothing in its time (a bound of 0 under load)
            "plan_over_highs_mip_dual_bound": over(ours.stats["objective"], mip.dual_bound),
            "highs_mip_dual_bound_over_lp_bound": over(mip.dual_bound, ours.stats["lp_bound"]),
        }

    progress(out)
    rng = random.Random(args.seed)
    lost = frozenset(
        rng.sample([s.machine_id for s in problem.supplies], max(1, len(problem.supplies) // 100))
    )
    again = replan(problem, ours, flow, lost_machines=lost)
    planned = ours.units_assigned
    out |= {
        "replan_s": round(again.replan_s, 3),
        "replan_over_plan_s": round(again.replan_s / plan_s, 3),
        "replan_units_displaced": again.units_displaced,
        "replan_moved_beyond_failed_ratio": round(
            (again.units_moved - again.units_displaced) / max(planned, 1), 6
        ),
        "replan_objective": round(objective(problem, again.plan), 2),
        "replan_unmet_units": again.plan.units_unmet,
        "replan_rounds": int(again.plan.stats["rounds"]),
        "replan_gap": again.plan.stats["gap"],
        "generate_s": round(gen_s, 3),
    }
    if args.fixed_charge == "yes" or (
        args.fixed_charge == "auto" and args.size in ("tiny", "small", "medium")
    ):
        charged = replace(problem, costs=replace(problem.costs, fixed_per_pair=PARCEL_CENTS))
        fc, fc_s = timed(lambda: solve_fixed_charge(charged, flow))
        out |= {
            "fixed_charge_s": round(fc_s, 3),
            "fixed_charge_objective": round(fc.stats["objective"], 2),
            "fixed_charge_lp_bound": round(fc.stats["lp_bound"], 2),
            "fixed_charge_gap": fc.stats["gap"],
            "fixed_charge_pairs": int(fc.stats["pairs"]),
            "splittable_pairs_at_parcel_cost": len(
                {(a.line_id, a.machine_id) for a in ours.assignments}
            ),
        }
    out["peak_rss_mb"] = round(rss_mb(), 1)
    out["peak_rss_mb_largest_worker"] = round(workers.mb, 1)
    out["rss_mb_with_workers_at_most"] = round(workers.together_mb, 1)
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:<36} {value}")


if __name__ == "__main__":
    main()

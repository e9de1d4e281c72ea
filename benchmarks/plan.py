"""The planner against the baselines an OR person would run, on one seeded instance.

Prints one JSON object (--json) or a table: our flow planner (merged demand, widened
nearest candidates, priced to a certified bound over every capable machine), then in the
same run OR-Tools min-cost flow over each line's 50 and 20 nearest capable machines
("direct", no tricks) and the greedy planner, all scored by the same objective. Then a
re-plan after 1% of the machines fail, and the fixed-charge model.

    .venv/bin/python benchmarks/plan.py --size medium --json
    .venv/bin/python benchmarks/plan.py --size small --save small.json
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from dataclasses import replace
from pathlib import Path

from fabnet.adapters.solvers import OrToolsFlow
from fabnet.planning import solve
from fabnet.planning.costs import CostParams
from fabnet.planning.evaluate import objective
from fabnet.planning.files import to_dict
from fabnet.planning.fixed_charge import solve_fixed_charge
from fabnet.planning.flow import FlowOptions, solve_flow
from fabnet.planning.replan import replan
from fabnet.sim.instances import SIZES, generate

DIRECT = FlowOptions(widen=False, aggregate=False, pricing=False)
PARCEL_CENTS = 1_500.0  # fixed-charge run: one parcel per (line, machine) pair; assumption


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--save", type=Path, help="write the instance as a problem file")
    parser.add_argument("--fixed-charge", choices=("yes", "no", "auto"), default="auto")
    args = parser.parse_args()

    problem, gen_s = timed(lambda: generate(SIZES[args.size], seed=args.seed))
    if args.save:
        args.save.write_text(json.dumps(to_dict(problem)))
    flow = OrToolsFlow()
    ours, plan_s = timed(lambda: solve(problem, solver="flow", flow_solver=flow))
    ours_rss = rss_mb()
    direct, direct_s = timed(lambda: solve_flow(problem, flow, options=replace(DIRECT, k=50)))
    k20 = solve_flow(problem, flow, options=replace(DIRECT, k=20))
    greedy, greedy_s = timed(lambda: solve(problem, solver="greedy"))

    rng = random.Random(args.seed)
    lost = frozenset(
        rng.sample([s.machine_id for s in problem.supplies], max(1, len(problem.supplies) // 100))
    )
    again = replan(problem, ours, flow, lost_machines=lost)
    planned = ours.units_assigned

    out = {
        "size": args.size,
        "producers": len(problem.supplies),
        "orders": len(problem.demands),
        "units": sum(d.units for d in problem.demands),
        "arcs": int(ours.stats["arcs"]),
        "plan_s": round(plan_s, 3),
        "objective": round(ours.stats["objective"], 2),
        "lp_bound": round(ours.stats["lp_bound"], 2),
        "gap": ours.stats["gap"],
        "certified": bool(ours.stats["certified"]),
        "unmet_units": ours.units_unmet,
        "mcf_direct_s": round(direct_s, 3),
        "mcf_direct_objective": round(direct.stats["objective"], 2),
        "mcf_direct_unmet_units": direct.units_unmet,
        "mcf_k20_objective": round(k20.stats["objective"], 2),
        "greedy_s": round(greedy_s, 3),
        "greedy_objective": round(objective(problem, greedy), 2),
        "greedy_unmet_units": greedy.units_unmet,
        "plan_over_direct_s": round(plan_s / direct_s, 3),
        "objective_over_direct": round(ours.stats["objective"] / direct.stats["objective"], 6),
        "replan_s": round(again.replan_s, 3),
        "replan_over_plan_s": round(again.replan_s / plan_s, 3),
        "replan_units_displaced": again.units_displaced,
        "replan_moved_beyond_failed_ratio": round(
            (again.units_moved - again.units_displaced) / max(planned, 1), 6
        ),
        "replan_objective": round(objective(problem, again.plan), 2),
        "peak_rss_mb_after_plan": round(ours_rss, 1),
        "generate_s": round(gen_s, 3),
    }
    if args.fixed_charge == "yes" or (args.fixed_charge == "auto" and args.size != "large"):
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
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:<36} {value}")


if __name__ == "__main__":
    _ = CostParams
    main()

"""The planner on facilities other projects published: the ~250 facilities with
coordinates in the IoPA's OKW sample (../shared/testdata/okw-iopa, worldwide fablabs),
one machine at each, lines sent to the facilities' places (sim/instances.generate_at).
Another shape than plan.py's European cities: few machines, far apart, few units a line.

In the same run, the independent answers: HiGHS's LP of the same model over every capable
(line, machine, day) column (our bound must not exceed it) and HiGHS's MIP for
--mip-limit-s (its best plan and the lower bound it proves: our plan's gap against that
bound is the part of our gap that is surely ours, not the LP's integrality gap).

    .venv/bin/python benchmarks/plan_okw.py --json
    .venv/bin/python benchmarks/plan_okw.py --seeds 1 2 --mip-limit-s 600 --json
    .venv/bin/python benchmarks/plan_okw.py --orders 200 --seeds 2 \
        --on-probation 1.0 --job-units 1000000000

``--on-probation SHARE --job-units N``: that share of the machines, drawn at random (the
seed's own draw), on probation with jobs of N units (made by each line's first usable day
only, docs/planning.md); a machine on probation with the largest job is on time only.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

from fabnet.adapters.solvers import OrToolsFlow
from fabnet.domain.units import Place
from fabnet.planning import solve
from fabnet.planning.highs import solve_highs
from fabnet.planning.highs_lp import solve_highs_lp
from fabnet.planning.plan_files import check_plan
from fabnet.planning.problem import Problem
from fabnet.sim.instances import generate_at

OKW = Path(__file__).resolve().parents[2] / "shared/testdata/okw-iopa"
FACILITIES = OKW / "preliminary_iop_okw_fac_source_01.sample300.json"


def places(path: Path = FACILITIES) -> list[Place]:
    """The facilities' coordinates as the export states them (records without are left
    out), in the file's order."""
    out = []
    for record in json.loads(path.read_text()):
        geo = record.get("geocoding") or {}
        lat, lon = geo.get("latitude"), geo.get("longitude")
        if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
            out.append(Place(float(lat), float(lon)))
    return out


def on_probation(problem: Problem, seed: int, share: float, job_units: int) -> Problem:
    """``problem`` with a ``share`` of its machines, drawn with ``seed``, on jobs of
    ``job_units``."""
    rng = random.Random(seed)
    supplies = tuple(
        replace(s, job_units_max=job_units) if rng.random() < share else s for s in problem.supplies
    )
    return replace(problem, supplies=supplies)


def one_seed(
    at: list[Place], orders: int, seed: int, mip_limit_s: float, probation: tuple[float, int]
) -> dict[str, object]:
    problem = on_probation(generate_at(at, orders=orders, seed=seed), seed, *probation)
    started = time.perf_counter()
    ours = solve(problem, solver="flow", flow_solver=OrToolsFlow())
    plan_s = time.perf_counter() - started
    lp = solve_highs_lp(problem)
    out: dict[str, object] = {
        "seed": seed,
        "machines": len(problem.supplies),
        "orders": len(problem.demands),
        "units": sum(d.units for d in problem.demands),
        "on_probation": sum(1 for s in problem.supplies if s.on_probation),
        "plan_s": round(plan_s, 3),
        "objective": round(ours.stats["objective"], 2),
        "lp_bound": round(ours.stats["lp_bound"], 2),
        # the LP relaxation's bound (lp_bound is the knapsack bound where that is higher)
        "lp_relaxation": round(ours.stats["lp_relaxation"], 2),
        "gap": ours.stats["gap"],
        "certified": bool(ours.stats["certified"]),
        "unmet_units": ours.units_unmet,
        "violations": len(check_plan(problem, ours)),
        "highs_lp_s": round(lp.seconds, 3),
        "highs_lp_objective": round(lp.objective, 2),
        "bound_over_highs_lp": ours.stats["lp_bound"] / lp.objective,
    }
    if mip_limit_s > 0:
        mip = solve_highs(problem, integral=True, time_limit_s=mip_limit_s)
        out |= {
            "highs_mip_s": round(mip.seconds, 3),
            "highs_mip_status": mip.status,
            "highs_mip_incumbent": round(mip.incumbent, 2),
            "highs_mip_dual_bound": round(mip.dual_bound, 2),
            "gap_to_mip_dual_bound": (
                1 - mip.dual_bound / ours.stats["objective"]
                if math.isfinite(mip.dual_bound) and ours.stats["objective"] > 0
                else None
            ),
            "plan_over_highs_mip_incumbent": (
                ours.stats["objective"] / mip.incumbent
                if math.isfinite(mip.incumbent) and mip.incumbent > 0
                else None
            ),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mip-limit-s", type=float, default=120.0)
    parser.add_argument("--on-probation", type=float, default=0.0, metavar="SHARE")
    parser.add_argument("--job-units", type=int, default=5, metavar="N")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.orders < 1:
        parser.error(f"--orders must be at least 1, not {args.orders}")
    if not 0.0 <= args.on_probation <= 1.0:
        parser.error(f"--on-probation must be a share from 0 to 1, not {args.on_probation}")
    if args.job_units < 1:
        parser.error(f"--job-units must be at least 1, not {args.job_units}")
    if args.mip_limit_s < 0:
        parser.error("--mip-limit-s must be 0 (no MIP) or more")
    if not FACILITIES.is_file():
        sys.exit(f"plan_okw: {FACILITIES} not found (../shared/testdata beside the checkout)")
    at = places()
    if not at:
        sys.exit(f"plan_okw: no facility in {FACILITIES} states its coordinates")
    for seed in args.seeds:
        probation = (args.on_probation, args.job_units)
        out = one_seed(at, args.orders, seed, args.mip_limit_s, probation)
        if args.json:
            print(json.dumps(out), flush=True)
        else:
            for key, value in out.items():
                print(f"{key:<30} {value}")


if __name__ == "__main__":
    main()

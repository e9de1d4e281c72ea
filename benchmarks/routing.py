"""Routing benchmark (issue 14): last-mile routes against the naive baselines and plain
PyVRP, and the Gehring-Homberger VRPTW instances against their best-known solutions.

Metro rows (200 and 1,000 stops): delivery points drawn from real places within 40 km of
Berlin's centre, population-weighted (sim/metro.py), 2-hour windows between 08:00 and
18:00, 100 g to 2 kg, vans (DEFRA 2025 average diesel van, TTW) from one hub at the
centre, great-circle km (no road network offline). fabnet's plan gets 10 s on every core
(DecomposedPyVrp: a PyVRP search per core on a sector of the stops, then the joined
routes improved as one; instance building included in the 10 s); the same run
gives one van round trip per parcel (direct), everything by parcel carrier (carrier),
and plain PyVRP on one core for 60 s on the same stops (pyvrp_60s_distance_km).

Instance rows: each .vrp with a .sol in the instance folder, 60 s, distances truncated
to one decimal (DIMACS, as the .sol files), gap_to_bks = distance / bks - 1. fabnet's
solver (every core) and plain PyVRP (one core, same budget) side by side.

    .venv/bin/python benchmarks/routing.py [--json] [--metro 200,1000] [--budget 10]
        [--reference 60] [--instances ../shared/testdata/pyvrp-instances] [--gh-budget 60]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fabnet.adapters.solvers.pyvrp_routing import DecomposedPyVrp, PyVrpSolver
from fabnet.domain.units import Place
from fabnet.routing.costmodel import courier_rate
from fabnet.routing.deliveries import DeliveryProblem, Fleet, build, plan_deliveries, report
from fabnet.routing.instance import evaluate
from fabnet.routing.modes import VAN
from fabnet.routing.vrplib import read_solution, read_vrptw
from fabnet.sim.metro import metro_parcels

BERLIN = Place(52.5200, 13.4050)
SEED = 2026


def metro_row(stops: int, budget: float, reference: float) -> dict[str, object]:
    parcels = metro_parcels(BERLIN, stops, country="DE", seed=SEED + stops)
    problem = DeliveryProblem(tuple(parcels), (Fleet(VAN, stops, BERLIN, 7 * 3600, 20 * 3600),))
    _, ours = plan_deliveries(problem, DecomposedPyVrp(), time_limit_s=budget, seed=SEED)
    built = build(problem)
    plain = PyVrpSolver()(built.instance, time_limit_s=reference, seed=SEED)
    ref = report(problem, built, plain)
    return {
        "kind": "metro",
        "stops": stops,
        "routes": ours.routes,
        "feasible": ours.feasible,
        "distance_km": round(ours.distance_km, 1),
        "co2_kg": round(ours.co2_kg, 1),
        "cost": round(ours.cost),
        "cost_per_kg_km": round(courier_rate(ours, parcels, BERLIN), 3),
        "plan_s": round(ours.plan_s, 2),
        "direct_distance_km": round(ours.direct_distance_km, 1),
        "direct_co2_kg": round(ours.direct_co2_kg, 1),
        "carrier_co2_kg": round(ours.carrier_co2_kg, 2),
        "pyvrp_60s_distance_km": round(ref.distance_km, 1),
        "pyvrp_60s_feasible": ref.feasible,
        "distance_vs_direct": round(ours.distance_km / ours.direct_distance_km, 4),
        "co2_vs_direct": round(ours.co2_kg / ours.direct_co2_kg, 4),
        "distance_vs_pyvrp_60s": round(ours.distance_km / ref.distance_km, 4),
    }


def instance_row(vrp: Path, budget: float) -> dict[str, object]:
    inst = read_vrptw(vrp)
    _, bks = read_solution(vrp.with_suffix(".sol"))
    scale = int(inst.meta["scale"])
    ours = DecomposedPyVrp()(inst, time_limit_s=budget, seed=SEED)
    plain = PyVrpSolver()(inst, time_limit_s=budget, seed=SEED)
    e_ours, e_plain = evaluate(inst, ours), evaluate(inst, plain)
    return {
        "kind": "instance",
        "instance": vrp.stem,
        "customers": inst.n - 1,
        "bks": bks,
        "distance": e_ours.distance / scale,
        "feasible": e_ours.feasible,
        "routes": sum(1 for r in ours.routes if r.visits),
        "gap_to_bks": round(e_ours.distance / scale / bks - 1, 5),
        "seconds": round(ours.seconds, 1),
        "pyvrp_1core_distance": e_plain.distance / scale,
        "pyvrp_1core_gap_to_bks": round(e_plain.distance / scale / bks - 1, 5),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--metro", default="200,1000")
    ap.add_argument("--budget", type=float, default=10.0)
    ap.add_argument("--reference", type=float, default=60.0)
    ap.add_argument("--instances", default="../shared/testdata/pyvrp-instances")
    ap.add_argument("--gh-budget", type=float, default=60.0)
    args = ap.parse_args()
    rows = []
    for stops in [int(s) for s in args.metro.split(",") if s.strip()]:
        rows.append(metro_row(stops, args.budget, args.reference))
        print(json.dumps(rows[-1]), file=sys.stderr)
    folder = Path(args.instances)
    for vrp in sorted(folder.glob("*.vrp")) if folder.is_dir() else []:
        if vrp.with_suffix(".sol").exists():
            rows.append(instance_row(vrp, args.gh_budget))
            print(json.dumps(rows[-1]), file=sys.stderr)
    if args.json:
        print(json.dumps({"results": rows}, indent=2))
    else:
        for row in rows:
            print(", ".join(f"{k}={v}" for k, v in row.items()))


if __name__ == "__main__":
    main()

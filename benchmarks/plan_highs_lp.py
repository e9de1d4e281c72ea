"""The planner against HiGHS's LP of the whole problem at sizes where SciPy's ``linprog``
cannot hold it (plan.py says "not run" at medium): the same LP (``highs_lp.lp_arrays``:
every capable (line, machine, day) column) handed to HiGHS as one column-wise matrix,
with each of HiGHS's LP solvers given ``--limit-s``. In the same run, the plan's time
first, then each solver's: the ratio plan_s / HiGHS's seconds (the issue's target at
medium: at most 0.25), HiGHS's status and objective, and where it is optimal, the plan's
bound against it (at most 1).

HiGHS through SciPy's bundled module (``scipy.optimize._highspy._core``, not a public
API: the same HiGHS that ``linprog`` runs, without its copies). At medium it held
19 GB at its peak (dual simplex): the run is refused where the estimate below is more
than the memory available.

    .venv/bin/python benchmarks/plan_highs_lp.py --size small --json
    .venv/bin/python benchmarks/plan_highs_lp.py --size medium --limit-s 1200 --json
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from typing import Any

import numpy as np
from plan import available_gb  # benchmarks/plan.py, beside this script

from fabnet.adapters.solvers import OrToolsFlow
from fabnet.planning import solve
from fabnet.planning.highs_lp import LpArrays, lp_arrays
from fabnet.sim.instances import SIZES, generate

# measured at medium (2026-12-07): 19,054 MB peak for 27,653,330 columns, dual simplex
BYTES_PER_COLUMN = 700
SOLVERS = ("simplex", "ipm")


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def highs_run(lp: LpArrays, solver: str, limit_s: float) -> dict[str, Any]:
    """HiGHS's ``solver`` on ``lp`` for at most ``limit_s``: its status, objective, seconds
    (the run alone: the arrays are built once, before)."""
    from scipy.optimize._highspy import _core
    from scipy.sparse import vstack

    inf = _core.kHighsInf
    matrix = vstack([lp.demand_rows, lp.time_rows]).tocsc()
    h = _core._Highs()
    for key, value in {
        "time_limit": float(limit_s),
        "solver": solver,
        "output_flag": False,
        # the objective is what is compared: no basis is needed after the interior point
        **({"run_crossover": "off"} if solver == "ipm" else {}),
    }.items():
        h.setOptionValue(key, value)
    model = _core.HighsLp()
    model.num_col_, model.num_row_ = int(lp.cost.size), int(matrix.shape[0])
    model.col_cost_ = lp.cost
    model.col_lower_ = np.zeros(lp.cost.size)
    model.col_upper_ = np.where(np.isfinite(lp.upper), lp.upper, inf)
    model.row_lower_ = np.concatenate([lp.units, np.full(lp.time.size, -inf)])
    model.row_upper_ = np.concatenate([lp.units, lp.time])
    a = model.a_matrix_
    a.format_ = _core.MatrixFormat.kColwise
    a.num_col_, a.num_row_ = model.num_col_, model.num_row_
    a.start_ = matrix.indptr.astype(np.int32)
    a.index_ = matrix.indices.astype(np.int32)
    a.value_ = matrix.data
    del matrix
    h.passModel(model)
    del model
    started = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - started
    status = h.modelStatusToString(h.getModelStatus())
    return {
        "solver": solver,
        "status": status,
        "seconds": round(seconds, 3),
        "objective": h.getInfo().objective_function_value,
        "optimal": status == "Optimal",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit-s", type=float, default=1200.0, help="each HiGHS solver's")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help="of: simplex, ipm")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (math.isfinite(args.limit_s) and args.limit_s > 0):
        parser.error(f"--limit-s: a finite number of seconds > 0, not {args.limit_s}")
    solvers = [s for s in args.solvers.split(",") if s]
    if not solvers or any(s not in SOLVERS for s in solvers):
        parser.error(f"--solvers: each of {', '.join(SOLVERS)}, not {args.solvers!r}")
    problem = generate(SIZES[args.size], seed=args.seed, mixed=True)
    started = time.perf_counter()
    plan = solve(problem, solver="flow", flow_solver=OrToolsFlow())
    plan_s = time.perf_counter() - started
    out: dict[str, Any] = {
        "size": args.size,
        "seed": args.seed,
        "plan_s": round(plan_s, 3),
        "objective": plan.stats["objective"],
        "lp_bound": plan.stats["lp_bound"],
        "lp_relaxation": plan.stats["lp_relaxation"],
        "peak_rss_mb_after_plan": peak_mb(),
    }
    started = time.perf_counter()
    lp = lp_arrays(problem)
    out |= {"columns": int(lp.cost.size), "arrays_s": round(time.perf_counter() - started, 1)}
    need_gb = lp.cost.size * BYTES_PER_COLUMN / 1e9
    if need_gb > available_gb():
        out["highs"] = (
            f"not run: about {need_gb:.1f} GB, more than the {available_gb():.1f} available"
        )
    else:
        out["highs"] = []
        for solver in solvers:
            run = highs_run(lp, solver, args.limit_s)
            run["plan_over_highs_s"] = round(plan_s / max(run["seconds"], 1e-9), 4)
            if run["optimal"]:
                run["lp_relaxation_over_highs"] = plan.stats["lp_relaxation"] / run["objective"]
            out["highs"].append(run)
    out["peak_rss_mb"] = peak_mb()
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

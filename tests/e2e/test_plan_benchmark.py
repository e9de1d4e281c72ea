"""The planner benchmark runs end to end at the tiny size and its figures agree with the
independent solvers it prints beside them (HiGHS's LP and a short run of its MIP)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _figures(script: str, *args: str) -> dict[str, object]:
    """The last JSON line a benchmark prints, after it exits 0."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return out


def assert_bounds_hold(out: dict) -> None:  # type: ignore[type-arg]
    lp, relaxation = out["highs_lp_objective"], out["lp_relaxation"]
    assert abs(relaxation - lp) <= 1e-6 * lp
    assert out["lp_bound"] >= relaxation * (1 - 1e-9)
    dual = out["highs_mip_dual_bound"]
    if dual == dual:  # HiGHS proved a bound within its time (0 where it proved nothing)
        assert out["objective"] >= dual * (1 - 1e-9)
    incumbent = out["highs_mip_incumbent"]
    if incumbent == incumbent:  # HiGHS found a plan within its time
        assert out["lp_bound"] <= incumbent * (1 + 1e-9)


def test_the_plan_benchmark_prints_figures_that_hold_against_highs():
    out: dict = _figures(
        "plan.py", "--size", "tiny", "--json", "--fixed-charge", "yes", "--mip-limit-s", "3"
    )
    bound, cost = out["lp_bound"], out["objective"]
    # the LP bound is HiGHS's LP optimum of the whole problem, no plan is below the lower
    # bound HiGHS's MIP proves, and the reported bound (the knapsack bound where higher)
    # is never above a plan HiGHS's MIP found
    assert_bounds_hold(out)
    assert abs(out["gap"] - (cost - bound) / cost) < 1e-8  # the figures are rounded to cents
    assert out["certified"] == (out["gap"] <= 1e-3)
    dual = out["highs_mip_dual_bound"]
    assert dual != dual or out["greedy_objective"] >= dual * (1 - 1e-9)
    assert out["replan_moved_beyond_failed_ratio"] == 0
    assert out["fixed_charge_objective"] >= out["fixed_charge_lp_bound"] * (1 - 1e-9)
    # memory read from /proc while it ran: this process at least (about 100 MB with
    # NumPy and SciPy loaded), and never more than all of them could hold together
    assert (
        50
        < out["rss_mb_with_workers_at_most"]
        <= out["peak_rss_mb"] + 4 * max(out["peak_rss_mb_largest_worker"], 1.0)
    )


def test_a_size_that_does_not_fit_its_deadline_is_said_not_to():
    def run(deadline: str) -> dict[str, object]:
        args = ["--size", "tiny", "--json", "--baselines", "no", "--fixed-charge", "no"]
        done = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "plan.py"), *args, "--deadline-s", deadline],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        out: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return out

    stopped = run("0.2")
    assert stopped["finished_within_deadline"] is False
    assert "not finished within" in str(stopped["note"])
    done = run("120")
    assert done["finished_within_deadline"] is True
    assert "note" not in done and done["certified"] is True


def test_the_okw_benchmark_plans_the_published_facilities_and_holds_against_highs():
    out: dict = _figures(
        "plan_okw.py", "--orders", "40", "--seeds", "3", "--mip-limit-s", "5", "--json"
    )
    assert out["machines"] > 200  # the sample's facilities with coordinates
    assert out["violations"] == 0
    bound, cost = out["lp_bound"], out["objective"]
    assert_bounds_hold(out)
    assert abs(out["gap"] - (cost - bound) / cost) < 1e-8  # the figures are rounded to cents
    assert out["certified"] == (out["gap"] <= 1e-3)


def test_the_okw_benchmark_puts_machines_on_probation_and_refuses_bad_shares():
    """Every machine on jobs of 3: the plan keeps them (the checker), the bounds hold
    against HiGHS's LP and MIP; a share outside 0-1 or a job under 1 is refused."""
    out: dict = _figures(
        "plan_okw.py",
        *("--orders", "40", "--seeds", "3", "--mip-limit-s", "5", "--json"),
        *("--on-probation", "1.0", "--job-units", "3"),
    )
    assert out["on_probation"] == out["machines"] > 200
    assert out["violations"] == 0
    assert_bounds_hold(out)
    for flag, bad in (("--on-probation", "1.5"), ("--on-probation", "nan"), ("--job-units", "0")):
        refused = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "plan_okw.py"), f"{flag}={bad}"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert refused.returncode == 2 and flag in refused.stderr, refused.stderr


def test_the_highs_lp_benchmark_times_both_solvers_on_the_same_lp():
    out: dict = _figures("plan_highs_lp.py", "--size", "tiny", "--limit-s", "60", "--json")
    runs = out["highs"]
    assert [r["solver"] for r in runs] == ["simplex", "ipm"]
    for run in runs:
        assert run["optimal"], run
        # the plan's LP relaxation is HiGHS's optimum of the same LP (the interior point
        # without crossover: to its tolerance)
        assert abs(run["lp_relaxation_over_highs"] - 1) <= 1e-6, run
        assert run["plan_over_highs_s"] > 0 and run["seconds"] > 0
    assert out["objective"] >= out["lp_bound"] >= out["lp_relaxation"] * (1 - 1e-9)
    for flag, bad in (("--solvers", "barrier"), ("--limit-s", "nan"), ("--limit-s", "-1")):
        refused = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "plan_highs_lp.py"), f"{flag}={bad}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode == 2 and flag in refused.stderr, (flag, bad)

"""``fabnet plan``: solve a problem file and print (or write) the plan; ``fabnet plan
check`` verifies a plan against its problem."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from fabnet.domain.errors import FabnetError
from fabnet.entrypoints.cli import files
from fabnet.entrypoints.cli.common import emit_json, fail, out
from fabnet.entrypoints.errors import classify

if TYPE_CHECKING:  # the planner is imported where a command runs (`fabnet plan` starts fast)
    from fabnet.planning.plan import Plan
    from fabnet.planning.problem import Problem


class SolveByDefault(TyperGroup):
    """``fabnet plan FILE`` means ``fabnet plan solve FILE``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["solve", *args]
        return super().resolve_command(ctx, args)


plan = typer.Typer(
    rich_markup_mode=None,
    cls=SolveByDefault,
    help="Solve planning problem files (fabnet-problem/1) and check plans (fabnet-plan/1).",
    no_args_is_help=True,
)


OutFile = Annotated[Path | None, typer.Option("--out", help="write the plan (fabnet-plan/1) here")]
AsJson = Annotated[bool, typer.Option("--json", help="print the whole plan as JSON")]


def _give(
    document: dict[str, Any], head: dict[str, Any], out_file: Path | None, as_json: bool
) -> None:
    """Write the plan to ``out_file``, print it (``as_json``) or its summary: ``head``
    then the plan's figures."""
    import json

    if out_file is not None:
        files.write_text(out_file, json.dumps(document, indent=1))
    if as_json:
        emit_json(document)
        return
    summary: dict[str, Any] = {
        **head,
        **{k: document[k] for k in ("objective", "lp_bound", "gap", "certified")},
        "units_assigned": document["units_assigned"],
        "unmet_units": document["units_unmet"],
    }
    for key, value in summary.items():
        out.print(f"{key:<15} {value}", highlight=False)


# sysexits' EX_SOFTWARE: the planner made a plan its own checker refuses
PLANNER_FAULT = 70
# `plan check` says at most this many violations one a line; --json gives every one (a
# plan wrong in each of its 300,000 assignments would be 300,000 lines)
SHOWN = 50


def _checked(problem: Problem, plan: Plan) -> dict[str, Any]:
    """The plan as its file states it, checked against its problem by the checker
    `fabnet plan check` runs before anything is written or printed: a plan that breaks a
    limit (a re-plan once gave machines on probation a second job) or states a figure
    that does not hold is a fault of the planner, said as one."""
    from fabnet.planning.plan_files import check_plan, plan_from_dict, plan_to_dict

    document = plan_to_dict(problem, plan)
    violations = check_plan(problem, plan_from_dict(document), claims=True)
    if violations:
        raise fail(
            f"the planner made a plan that breaks the problem's limits ({len(violations)} "
            f"violation(s), the first: {violations[0]}); nothing was written. This is a "
            "fault of fabnet's planner: please report it with the problem file",
            PLANNER_FAULT,
        )
    return document


@contextmanager
def _progress_on_stderr(on: bool) -> Iterator[None]:
    """The planner's INFO log (each step and pricing round as it ends) on stderr, with the
    seconds since the solve began."""
    if not on:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Since())
    planner = logging.getLogger("fabnet.planning")
    level, propagate = planner.level, planner.propagate
    planner.addHandler(handler)
    planner.setLevel(logging.INFO)
    planner.propagate = False  # once, not again by the root's handler
    try:
        yield
    finally:
        planner.removeHandler(handler)
        planner.setLevel(level)
        planner.propagate = propagate


class _Since(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self.began = time.time()

    def format(self, record: logging.LogRecord) -> str:
        return f"[{record.created - self.began:7.1f} s] {record.getMessage()}"


class PlanSolver(StrEnum):
    flow = "flow"
    greedy = "greedy"


@plan.command("solve")
def solve_file(
    problem_file: Annotated[Path, typer.Argument(help="a fabnet-problem/1 JSON file")],
    solver: Annotated[
        PlanSolver,
        typer.Option(help="flow (priced flow, its gap to a lower bound stated) or greedy"),
    ] = PlanSolver.flow,
    fixed_charge: Annotated[
        bool, typer.Option("--fixed-charge", help="charge costs.fixed_per_pair per parcel")
    ] = False,
    out_file: OutFile = None,
    as_json: AsJson = False,
    pricing_limit_s: Annotated[
        float | None,
        typer.Option(
            "--pricing-limit-s",
            help="stop pricing after this many seconds (the flow planner; with "
            "--fixed-charge its search's rounds too): the plan is made from the LP found by "
            "then and states the best bound found; whole units and the neighbourhoods take "
            "their own time after it (the neighbourhoods at most 60 s)",
        ),
    ] = None,
    progress: Annotated[
        bool,
        typer.Option("--progress", help="say each step and pricing round on stderr as it ends"),
    ] = False,
) -> None:
    """Solve a problem file. Prints objective, lp_bound, gap, certified and the units;
    --json prints the plan itself (assignments with day and cost parts, unmet units with
    their reasons, seconds by step); --out writes it to a file for `fabnet plan check`."""

    from fabnet.adapters.solvers import OrToolsFlow
    from fabnet.planning import solve
    from fabnet.planning.files import from_dict
    from fabnet.planning.fixed_charge import solve_fixed_charge

    if pricing_limit_s is not None and not (math.isfinite(pricing_limit_s) and pricing_limit_s > 0):
        raise fail(
            f"--pricing-limit-s: must be a finite number of seconds > 0, not {pricing_limit_s}"
        )
    raw = files.read_json(problem_file)
    started = time.perf_counter()

    def stop() -> bool:
        return pricing_limit_s is not None and time.perf_counter() - started > pricing_limit_s

    try:
        problem = from_dict(raw)
        with _progress_on_stderr(progress):
            if fixed_charge:
                result = solve_fixed_charge(problem, OrToolsFlow(), stop=stop)
            elif solver is PlanSolver.flow:
                result = solve(problem, solver="flow", flow_solver=OrToolsFlow(), stop=stop)
            else:  # greedy does not price: the limit is not its to keep
                result = solve(problem, solver="greedy")
    except FabnetError as exc:
        raise fail(exc.message, classify(exc)[1]) from None
    document = _checked(problem, result)
    document["plan_s"] = round(time.perf_counter() - started, 3)
    head = {
        "solver": document["solver"],
        "lines": len(problem.demands),
        "machines": len(problem.supplies),
        "plan_s": document["plan_s"],
    }
    _give(document, head, out_file, as_json)


@plan.command("check")
def check_file(
    problem_file: Annotated[Path, typer.Argument(help="the fabnet-problem/1 file")],
    plan_file: Annotated[Path, typer.Argument(help="a fabnet-plan/1 file")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify a plan against its problem: capability, capacity in machine time by day,
    every unit assigned or unmet once, lateness flags, each assignment's stated producer,
    distance and cost parts, the stated objective and units, and a bound and gap that can
    hold (a bound above the plan's cost is false; the bound itself is the solver's claim).
    Exit 0 when it holds, 1 with each violation when not."""
    from fabnet.planning.files import from_dict
    from fabnet.planning.plan_files import check_plan, plan_from_dict

    try:
        problem = from_dict(files.read_json(problem_file))
        candidate = plan_from_dict(files.read_json(plan_file))
    except FabnetError as exc:
        raise fail(exc.message, classify(exc)[1]) from None
    violations = check_plan(problem, candidate, claims=True)
    if as_json:
        emit_json({"valid": not violations, "violations": [str(v) for v in violations]})
    else:
        for v in violations[:SHOWN]:
            out.print(f"violation: {v}", highlight=False, soft_wrap=True)
        if len(violations) > SHOWN:
            out.print(f"... {len(violations) - SHOWN} more (--json lists every one)")
        out.print("valid" if not violations else f"{len(violations)} violation(s)")
    if violations:
        raise typer.Exit(1)


@plan.command("replan")
def replan_file(
    problem_file: Annotated[Path, typer.Argument(help="the fabnet-problem/1 file")],
    plan_file: Annotated[Path, typer.Argument(help="its plan (fabnet-plan/1), to re-plan")],
    lost: Annotated[
        list[str] | None,
        typer.Option(
            "--lost",
            metavar="MACHINE_ID",
            help="a machine that is lost (failed, left, declined); repeat for more",
        ),
    ] = None,
    out_file: OutFile = None,
    as_json: AsJson = False,
) -> None:
    """Re-plan after machines are lost or lines are added: the units on the lost machines,
    the lines' units the plan does not hold, and the units it left unmet are planned on
    the time the kept assignments leave; every other assignment stays where it was. The
    plan must hold against the problem (`fabnet plan check`)."""

    from fabnet.adapters.solvers import OrToolsFlow
    from fabnet.domain.errors import InvalidInput
    from fabnet.planning.files import from_dict
    from fabnet.planning.plan_files import check_plan, plan_from_dict
    from fabnet.planning.replan import replan

    gone = frozenset(lost or ())
    try:
        problem = from_dict(files.read_json(problem_file))
        previous = plan_from_dict(files.read_json(plan_file))
        unknown = sorted(gone - {s.machine_id for s in problem.supplies})
        if unknown:
            names = ", ".join(repr(m) for m in unknown[:5])
            raise InvalidInput("--lost", f"no machine {names} in the problem")
        violations = check_plan(problem, previous, claims=True)
        if violations:
            raise InvalidInput(
                "plan",
                f"does not hold against the problem ({len(violations)} violation(s), the "
                f"first: {violations[0]}); `fabnet plan check` names each",
            )
        report = replan(problem, previous, OrToolsFlow(), lost_machines=gone)
    except FabnetError as exc:
        raise fail(exc.message, classify(exc)[1]) from None
    document = _checked(problem, report.plan)
    document["replan"] = {
        "lost_machines": sorted(gone),
        "units_displaced": report.units_displaced,
        "units_moved": report.units_moved,
        "replan_s": round(report.replan_s, 3),
    }
    _give(document, {**document["replan"], "lost_machines": len(gone)}, out_file, as_json)

"""Re-planning moves only what it must; the fixed-charge model ships fewer parcels within
its bound; problem files round-trip and refuse bad input naming the field."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace

import pytest

from fabnet.domain.errors import InvalidInput
from fabnet.planning.costs import CostParams
from fabnet.planning.evaluate import objective
from fabnet.planning.files import from_dict, to_dict
from fabnet.planning.fixed_charge import solve_fixed_charge
from fabnet.planning.flow import solve_flow
from fabnet.planning.plan_files import check_plan
from fabnet.planning.replan import replan
from tests.unit.planning.test_flow import ALL, SOLVER, demand, random_problem


def test_replanning_moves_only_the_units_of_lost_machines():
    problem = random_problem(4, 30, 12)
    first = solve_flow(problem, SOLVER)
    lost = frozenset({first.assignments[0].machine_id})
    report = replan(problem, first, SOLVER, lost_machines=lost)
    held = sum(a.units for a in first.assignments if a.machine_id in lost)
    assert report.units_displaced == held > 0
    assert report.units_moved == held
    assert not any(a.machine_id in lost for a in report.plan.assignments)
    before = {
        (a.line_id, a.machine_id): a.units for a in first.assignments if a.machine_id not in lost
    }
    after = defaultdict(int)
    for a in report.plan.assignments:
        after[(a.line_id, a.machine_id)] += a.units
    assert all(after[key] >= units for key, units in before.items())  # nobody else lost work
    totals = defaultdict(int)
    for a in report.plan.assignments:
        totals[a.line_id] += a.units
    for u in report.plan.unmet:
        totals[u.line_id] += u.units
    assert all(totals[d.line_id] == d.units for d in problem.demands)


def test_new_urgent_demand_is_planned_without_moving_the_rest():
    problem = random_problem(5, 20, 10)
    first = solve_flow(problem, SOLVER)
    urgent = demand(999, 30, 51.0, 9.0, 2, priority=5)
    grown = replace(problem, demands=(*problem.demands, urgent))
    report = replan(grown, first, SOLVER)
    assert report.units_displaced == 0
    assert sum(a.units for a in report.plan.assignments if a.line_id == urgent.line_id) == 30
    kept = {(a.line_id, a.machine_id, a.units) for a in first.assignments}
    assert kept <= {(a.line_id, a.machine_id, a.units) for a in report.plan.assignments}


def test_fixed_charge_uses_fewer_parcels_and_stays_above_its_bound():
    problem = random_problem(7, 25, 15)
    charged = replace(problem, costs=CostParams(fixed_per_pair=5_000.0))
    splittable = solve_flow(charged, SOLVER, options=ALL)
    plan = solve_fixed_charge(charged, SOLVER)
    assert plan.stats["lp_bound"] <= plan.stats["objective"] + 1e-6
    assert plan.stats["objective"] == pytest.approx(objective(charged, plan), rel=1e-6)
    assert plan.stats["objective"] <= objective(charged, splittable) + 1e-6
    pairs = len({(a.line_id, a.machine_id) for a in plan.assignments})
    assert pairs <= len({(a.line_id, a.machine_id) for a in splittable.assignments})
    assert plan.stats["gap"] == pytest.approx(
        (plan.stats["objective"] - plan.stats["lp_bound"]) / plan.stats["objective"]
    )


def test_problem_files_round_trip():
    problem = random_problem(9, 10, 6)
    again = from_dict(json.loads(json.dumps(to_dict(problem))))
    assert again == problem
    assert (
        solve_flow(again, SOLVER).stats["objective"]
        == solve_flow(problem, SOLVER).stats["objective"]
    )


def _edit(path: str, value):
    data = to_dict(random_problem(1, 3, 2))
    target = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    target[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("lines.0.units", 50_000_000, "lines[0].units"),
        ("lines.0.units", 2.5, "lines[0].units"),
        ("lines.0.due_s", -3600, "lines[0].due_s"),
        ("lines.0.material", "UNOBTAINIUM", "lines[0].material"),
        ("lines.1.lat", 123, "lines[1].lat"),
        ("machines.0.seconds_per_day", 0, "machines[0].seconds_per_day"),
        ("machines.1.materials", [], "machines[1].materials"),
        ("costs.unmet_per_unit", -1, "costs.unmet_per_unit"),
        ("costs.colour", 1, "costs.colour"),
        ("format", "other/9", "format"),
        ("horizon_days", 0, "horizon_days"),
    ],
)
def test_bad_problem_files_name_the_field(path, value, field):
    with pytest.raises(InvalidInput) as err:
        from_dict(_edit(path, value))
    assert err.value.field == field


def test_units_unmet_before_and_placed_now_did_not_move():
    """A re-plan also places units the previous plan left unmet (new room, new demand):
    they had no place, so they are not counted as moved."""
    problem = random_problem(4, 30, 12)
    first = solve_flow(problem, SOLVER)
    dropped = first.assignments[0].line_id
    partial = replace(
        first, assignments=tuple(a for a in first.assignments if a.line_id != dropped)
    )
    report = replan(problem, partial, SOLVER)
    assert report.units_displaced == 0
    assert report.units_moved == 0
    placed = sum(a.units for a in report.plan.assignments if a.line_id == dropped)
    assert placed > 0


@pytest.mark.parametrize("seed", range(6))
def test_the_fixed_charge_plan_is_never_dearer_than_the_splittable_one_with_its_parcels(seed):
    problem = random_problem(seed, 12, 6, short=True)
    charged = replace(problem, costs=replace(problem.costs, fixed_per_pair=1_500.0))
    plan = solve_fixed_charge(charged, SOLVER)
    split = solve_flow(problem, SOLVER)
    parcels = len({(a.line_id, a.machine_id) for a in split.assignments}) * 1_500.0
    assert plan.stats["objective"] <= split.stats["objective"] + parcels + 1e-6
    assert plan.stats["objective"] >= plan.stats["lp_bound"] * (1 - 1e-9)
    assert check_plan(charged, plan) == []

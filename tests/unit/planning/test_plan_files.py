"""Plan files and the plan checker: the flow planner's plans pass it on random problems
(load factors, busy machines, deadlines in the past and far ahead, several unit times),
survive a round trip through the file format, and every kind of breach is named."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.adapters.solvers import OrToolsFlow
from fabnet.domain.errors import InvalidInput
from fabnet.planning import solve
from fabnet.planning.plan import gap_of
from fabnet.planning.plan_files import check_plan, plan_from_dict, plan_to_dict
from tests.unit.planning.test_flow import random_problem


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    lines=st.integers(1, 25),
    machines=st.integers(1, 12),
    load=st.sampled_from([1.0, 0.85, 0.5]),
)
def test_the_flow_planners_plans_pass_the_checker_and_round_trip(seed, lines, machines, load):
    problem = replace(random_problem(seed, lines, machines), load_factor=load)
    plan = solve(problem, solver="flow", flow_solver=OrToolsFlow())
    document = plan_to_dict(problem, plan)
    assert check_plan(problem, plan) == []
    again = plan_from_dict(json.loads(json.dumps(document)))
    assert check_plan(problem, again, claims=True) == []
    assert again.units_assigned == plan.units_assigned


def test_each_breach_is_named():
    problem = random_problem(3, 10, 4)
    plan = solve(problem, solver="flow", flow_solver=OrToolsFlow())
    document = plan_to_dict(problem, plan)
    first = document["assignments"][0]
    line = next(d for d in problem.demands if d.line_id == first["line"])
    overbooked = {**first, "units": first["units"] + 10_000}
    unflagged = {**first, "day": 8, "late": False} if line.due_s < 7 * 86_400 else first
    for breach, expected in (
        (overbooked, "machine time promised"),
        ({**first, "machine": "m-none"}, "not in the problem"),
        ({**first, "day": 99}, "beyond the horizon"),
        (unflagged, "not late"),
    ):
        broken = {**document, "assignments": [breach, *document["assignments"][1:]]}
        found = [str(v) for v in check_plan(problem, plan_from_dict(broken))]
        assert any(expected in v for v in found), (expected, found)


def test_a_malformed_plan_file_names_the_field():
    with pytest.raises(InvalidInput, match=r"assignments\[0\]\.units"):
        plan_from_dict(
            {
                "format": "fabnet-plan/1",
                "assignments": [{"line": "l", "machine": "m", "units": 0, "day": 1}],
            }
        )


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("transport_per_unit_km", "NaN", "finite"),
        ("late_per_unit_day", "Infinity", "finite"),
        ("unmet_per_unit", "-1", "finite"),
        ("late_window_days", "2.5", "whole"),
        ("late_window_days", "1e300", "whole"),
        ("late_window_days", "400", "[0, 366]"),
        ("scale", "true", "whole"),
    ],
)
def test_cost_parameters_that_are_not_finite_or_not_whole_are_refused(key, value, problem):
    """A NaN cost once reached HiGHS and crashed `fabnet plan` with a traceback."""
    from fabnet.planning.files import from_dict, to_dict

    raw = to_dict(random_problem(1, 3, 2))
    raw["costs"][key] = json.loads(value)  # as a JSON reader would take it
    with pytest.raises(InvalidInput) as err:
        from_dict(raw)
    assert err.value.field == f"costs.{key}" and problem in err.value.problem


def test_a_splittable_plan_of_a_problem_with_parcels_states_the_gap_of_its_printed_cost():
    """Found by a user's file with a parcel cost planned without --fixed-charge: the plan
    printed the objective with the parcels and the gap of the model without them (0.18%
    beside an objective 250,000 times its bound)."""
    from fabnet.planning.flow import solve_flow
    from fabnet.planning.plan_files import plan_to_dict
    from tests.unit.planning.test_flow import SOLVER, random_problem

    problem = random_problem(3, 12, 5, short=True)
    charged = replace(problem, costs=replace(problem.costs, fixed_per_pair=1e9))
    document = plan_to_dict(charged, solve_flow(charged, SOLVER))
    stated = (document["objective"] - document["lp_bound"]) / document["objective"]
    assert document["gap"] == pytest.approx(stated)
    assert document["certified"] is False


@pytest.mark.parametrize(
    ("objective", "bound", "gap"),
    [(100.0, 90.0, 0.1), (100.0, 101.0, 0.0), (0.0, 0.0, 0.0), (0.0, -5.0, 0.0)],
)
def test_the_gap_is_a_share_of_the_plans_cost_never_below_zero(objective, bound, gap):
    assert gap_of(objective, bound) == pytest.approx(gap)


@pytest.mark.parametrize("bound", [math.nan, math.inf, -math.inf])
def test_no_gap_without_a_finite_bound(bound):
    assert math.isnan(gap_of(100.0, bound))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), lines=st.integers(1, 25), machines=st.integers(1, 12))
def test_greedys_plan_files_state_their_cost_parts_and_pass_the_checker(seed, lines, machines):
    """Greedy's plan files stated every cost part as 0 beside an objective of thousands;
    the parts are now the problem's own (``parts_of``) for every solver's plans."""
    problem = random_problem(seed, lines, machines)
    plan = solve(problem, solver="greedy")
    document = plan_to_dict(problem, plan)
    assert check_plan(problem, plan_from_dict(document), claims=True) == []
    unmet = {d.line_id: d for d in problem.demands}
    parts = sum(sum(row["costs"].values()) for row in document["assignments"])
    left = sum(
        u["units"] * problem.costs.unmet_per_unit * (1 + unmet[u["line"]].priority)
        for u in document["unmet"]
    )
    assert parts + left == pytest.approx(document["objective"], rel=1e-6, abs=0.01)


def _flow_document():
    problem = random_problem(3, 10, 4)
    plan = solve(problem, solver="flow", flow_solver=OrToolsFlow())
    return problem, plan_to_dict(problem, plan)


@pytest.mark.parametrize(
    ("change", "where", "expected"),
    [
        ({"producer": "p-other"}, "assignments[0]", "producer 'p-other' stated"),
        ({"finish_s": 1e7}, "assignments[0]", "is not within day"),
        ({"distance_km": 0.5}, "assignments[0].distance_km", "stated"),
        ({"costs": {"production": 1.0}}, "assignments[0].costs.production", "1.0000 stated"),
        ({"costs": {"transport": -1e-9}}, "assignments[0].costs.transport", "stated"),
        ({"costs": {"risk": 9e18}}, "assignments[0].costs.risk", "stated"),
    ],
)
def test_an_assignments_stated_figures_are_checked(change, where, expected):
    """A plan file once passed the checker with any producer, finish time, distance or
    cost part in its assignments (only lateness and the total were compared)."""
    problem, document = _flow_document()
    first = {**document["assignments"][0], **change}
    if "costs" in change:
        first["costs"] = {**document["assignments"][0]["costs"], **change["costs"]}
    broken = {**document, "assignments": [first, *document["assignments"][1:]]}
    found = check_plan(problem, plan_from_dict(broken))
    assert [v.where for v in found] == [where] and expected in found[0].problem, found


def test_figures_left_out_of_a_plan_file_are_not_checked():
    problem, document = _flow_document()
    bare = [
        {k: row[k] for k in ("line", "machine", "units", "day", "late", "transit_days")}
        for row in document["assignments"]
    ]
    assert check_plan(problem, plan_from_dict({**document, "assignments": bare})) == []


@pytest.mark.parametrize(
    ("change", "where", "expected"),
    [
        ({"units_assigned": 1}, "units_assigned", "1 stated"),
        ({"units_unmet": 7}, "units_unmet", "7 stated"),
        ({"lp_bound": 1e12}, "lp_bound", "not a lower bound"),
        ({"gap": 0.0, "lp_bound": "half"}, "gap", "above its bound"),
        ({"certified": True, "lp_bound": None, "gap": None}, "certified", "without a bound"),
    ],
)
def test_a_plans_claims_about_itself_are_checked(change, where, expected):
    """The bound is the solver's claim, which only solving confirms; but a bound above
    the plan's cost is false, and a gap smaller than the one between them is too."""
    problem, document = _flow_document()
    if change.get("lp_bound") == "half":
        change = {**change, "lp_bound": document["objective"] / 2}
    read = plan_from_dict({**document, **change})
    found = check_plan(problem, read, claims=True)
    assert [v.where for v in found] == [where] and expected in found[0].problem, found
    assert check_plan(problem, read) == []  # a solver's own working figures: not claims
    bare = {k: v for k, v in document.items() if k != "objective"}
    assert [
        v.where for v in check_plan(problem, plan_from_dict({**bare, **change}), claims=True)
    ] == [where]


@pytest.mark.parametrize(
    ("row", "key", "value", "field"),
    [
        (True, "late", "yes", "assignments[0].late"),
        (True, "producer", 7, "assignments[0].producer"),
        (False, "certified", "yes", "certified"),
        (False, "gap", "0.1", "gap"),
        (False, "lp_bound", math.inf, "lp_bound"),
        (False, "solver", {}, "solver"),
    ],
)
def test_a_plan_figure_of_the_wrong_type_names_its_field(row, key, value, field):
    """``"late": "yes"`` was read as true, ``"certified": "yes"`` and a solver of {}
    were passed over."""
    _, document = _flow_document()
    if row:
        document["assignments"][0] = {**document["assignments"][0], key: value}
    else:
        document = {**document, key: value}
    with pytest.raises(InvalidInput) as err:
        plan_from_dict(document)
    assert err.value.field == field

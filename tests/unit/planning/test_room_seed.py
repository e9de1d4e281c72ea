"""First candidates with room (a re-plan's machines are mostly full), and a re-plan's
tailing-off measured against the whole plan: the LP the pricing ends at and a plan's
promises stay as they were."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.domain.errors import InvalidInput
from fabnet.planning.columns import tailed_off
from fabnet.planning.costs import CostParams
from fabnet.planning.flow import solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.highs import solve_highs
from fabnet.planning.plan_files import check_plan
from fabnet.planning.problem import SECONDS_PER_DAY as DAY
from fabnet.planning.problem import Problem
from fabnet.planning.seeds import room_candidates
from fabnet.planning.time_model import TimeModel
from tests.unit.planning.test_flow import SOLVER, demand, random_problem, supply

HOUR = 3600.0


def _row() -> Problem:
    """Three machines east of two lines of 10 one-hour units: the nearest busy for the
    whole horizon, the next with 10 hours, the farthest with 20."""
    return Problem(
        demands=(
            demand(1, 10, 52.0, 13.0, 2, unit_s=HOUR),
            demand(2, 10, 52.0, 13.0, 2, unit_s=HOUR),
        ),
        supplies=(
            supply(1, 52.0, 13.1, hours=10.0, busy_s=2 * DAY),
            supply(2, 52.0, 13.2, hours=5.0),
            supply(3, 52.0, 13.3, hours=10.0),
        ),
        horizon_s=2 * DAY,
        load_factor=1.0,
        costs=CostParams(late_window_days=0),
    )


def test_each_line_looks_past_the_full_machine_and_the_room_the_other_took():
    problem = _row()
    options = FlowOptions(k=1, margin=1.0, aggregate=False, room_seed=True)
    model = TimeModel(problem, list(problem.demands), options)
    pa, pm = room_candidates(model, options.k)
    machine = {s.machine_id: i for i, s in enumerate(problem.supplies)}
    # the nearest machine has no time: no line gets it; the first line takes the 10 hours
    # of the next, so the second looks on to the farthest
    assert machine["m001"] not in pm.tolist()
    assert sorted(pa.tolist()) == [0, 1]
    assert sorted(pm.tolist()) == [machine["m002"], machine["m003"]]
    plan = solve_flow(problem, SOLVER, options=options)
    assert plan.units_unmet == 0 and check_plan(problem, plan) == []


def test_a_line_the_others_left_no_room_gets_the_machines_they_took():
    """20 units and then 10, two machines of 10 hours: the first line takes both; the
    second finds no room left, and gets both machines it would have had (margin 2: 20
    hours of their time at the start), so that the flow may share them out."""
    problem = replace(
        _row(),
        demands=(
            demand(1, 20, 52.0, 13.0, 2, unit_s=HOUR),
            demand(2, 10, 52.0, 13.0, 2, unit_s=HOUR),
        ),
        supplies=(supply(2, 52.0, 13.2, hours=5.0), supply(3, 52.0, 13.3, hours=5.0)),
    )
    options = FlowOptions(k=1, margin=2.0, aggregate=False, room_seed=True)
    model = TimeModel(problem, list(problem.demands), options)
    pa, pm = room_candidates(model, options.k)
    second = sorted(pm[pa == 1].tolist())
    assert second == [0, 1]
    plan = solve_flow(problem, SOLVER, options=options)
    assert plan.units_unmet == 10 and check_plan(problem, plan) == []


def test_a_line_with_no_room_anywhere_still_gets_its_nearest_for_the_prices():
    problem = replace(_row(), supplies=_row().supplies[:1])
    options = FlowOptions(k=1, margin=1.0, aggregate=False, room_seed=True)
    model = TimeModel(problem, list(problem.demands), options)
    assert model.group_machines[0].size == 0  # busy all along: not even capable of time
    pa, _pm = room_candidates(model, 1)
    assert pa.size == 0
    plan = solve_flow(problem, SOLVER, options=options)
    assert plan.units_unmet == 20 and check_plan(problem, plan) == []


def test_the_tailing_off_may_be_measured_against_a_larger_objective():
    """A re-plan's LP is the displaced units' only: against the whole plan's objective
    (``tail_off_of``) a fall of 1,000 in three rounds is small, against its own it is not."""
    history = [110_000.0, 109_500.0, 109_200.0, 109_000.0]
    own = FlowOptions(tail_off=1e-3)
    assert not tailed_off(history, own)
    assert tailed_off(history, replace(own, tail_off_of=1e7))
    assert not tailed_off(history, replace(own, tail_off_of=1e5))  # smaller: its own LP


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
def test_a_bad_tailing_off_objective_is_refused_naming_the_field(value):
    with pytest.raises(InvalidInput) as err:
        FlowOptions(tail_off_of=value)
    assert err.value.field == "tail_off_of"


@pytest.mark.parametrize("value", [0.0, -2.0, float("nan"), float("inf")])
def test_a_bad_room_margin_is_refused_naming_the_field(value):
    with pytest.raises(InvalidInput) as err:
        FlowOptions(room_margin=value)
    assert err.value.field == "room_margin"


@pytest.mark.parametrize("field", ["max_new_per_demand", "room_new_per_demand"])
@pytest.mark.parametrize("value", [0, -3])
def test_no_new_arcs_a_round_is_refused_naming_the_field(field, value):
    with pytest.raises(InvalidInput) as err:
        FlowOptions(**{field: value})
    assert err.value.field == field


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, 12),
    st.integers(1, 8),
    st.booleans(),
)
def test_seeding_by_room_ends_at_the_same_lp(seed, n_lines, n_machines, room):
    """Against HiGHS on the same model: priced to the end, the bound is still the LP
    optimum of the whole problem, and the plan keeps its promises."""
    problem = random_problem(seed, n_lines, n_machines, short=True)
    options = FlowOptions(k=2, margin=1.0, gap_tolerance=0.0, room_seed=room)
    plan = solve_flow(problem, SOLVER, options=options)
    lp = solve_highs(problem)
    assert lp.status == "optimal"
    assert plan.stats["lp_relaxation"] == pytest.approx(lp.objective, rel=1e-6, abs=1e-6)
    assert check_plan(problem, plan) == []
    assert plan.units_assigned + plan.units_unmet == sum(d.units for d in problem.demands)

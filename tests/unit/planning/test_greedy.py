from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.domain.capabilities import Process
from fabnet.domain.errors import InvalidInput
from fabnet.domain.units import Box, Place
from fabnet.planning import Demand, Problem, Supply, solve
from fabnet.planning.problem import SECONDS_PER_DAY

DAY = SECONDS_PER_DAY


def demand(
    line_id="l1",
    units=10,
    due_days=2.0,
    lat=50.0,
    lon=10.0,
    material="PLA",
    size=(50, 50, 50),
    unit_time_s=3600.0,
    priority=0,
    excluded=frozenset(),
):
    return Demand(
        line_id=line_id,
        order_id="o",
        process=Process.FDM,
        material=material,
        size=Box(*size),
        units=units,
        unit_time_s=unit_time_s,
        due_s=due_days * DAY,
        destination=Place(lat, lon),
        priority=priority,
        excluded_machines=excluded,
    )


def supply(
    machine_id, lat, lon, hours=24.0, materials=("PLA",), volume=(250, 210, 210), busy_s=0.0
):
    return Supply(
        machine_id=machine_id,
        producer_id=f"p_{machine_id}",
        process=Process.FDM,
        materials=frozenset(materials),
        build_volume=Box(*volume),
        place=Place(lat, lon),
        seconds_per_day=hours * 3600,
        busy_s=busy_s,
    )


def test_nearest_capable_machine_gets_the_work():
    problem = Problem((demand(units=5),), (supply("far", 52, 10), supply("near", 50.1, 10)))
    plan = solve(problem)
    assert [(a.machine_id, a.units) for a in plan.assignments] == [("near", 5)]
    assert plan.is_complete()


def test_work_spills_to_the_next_machine_when_the_nearest_is_full():
    # 24 h/day, 1 h/unit, 2 days, load factor 0.5 -> 24 units fit before the deadline
    problem = Problem(
        (demand(units=40),), (supply("a", 50, 10), supply("b", 51, 10)), load_factor=0.5
    )
    plan = solve(problem)
    units = {a.machine_id: a.units for a in plan.assignments}
    assert units == {"a": 24, "b": 16}
    assert not any(a.late for a in plan.assignments)


def test_late_units_are_planned_when_nothing_is_on_time():
    problem = Problem((demand(units=30, due_days=1.0),), (supply("a", 50, 10),), load_factor=1.0)
    plan = solve(problem)
    assert plan.units_assigned == 30
    # one machine: 24 units by the end of day 1, 6 more on day 2 (late by one day)
    assert sorted((a.units, a.day, a.late) for a in plan.assignments) == [
        (6, 2, True),
        (24, 1, False),
    ]
    assert max(a.finish_s for a in plan.assignments) == pytest.approx(30 * 3600)


@pytest.mark.parametrize(
    ("machines", "reason"),
    [
        ((), "no available machine does fdm"),
        ((supply("a", 50, 10, materials=("PETG",)),), "works PLA"),
        ((supply("a", 50, 10, volume=(10, 10, 10)),), "build volume"),
    ],
)
def test_unmet_demand_says_why(machines, reason):
    plan = solve(Problem((demand(units=3),), machines))
    assert plan.units_unmet == 3
    assert reason in plan.unmet[0].reason


def test_excluded_machines_are_not_offered_the_line_again():
    plan = solve(Problem((demand(units=3, excluded=frozenset({"a"})),), (supply("a", 50, 10),)))
    assert plan.units_unmet == 3
    assert "declined or failed" in plan.unmet[0].reason


def test_urgent_lines_are_served_first():
    lines = (
        demand("normal", units=24, priority=0, due_days=1),
        demand("urgent", units=24, priority=5, due_days=3),
    )
    plan = solve(Problem(lines, (supply("a", 50, 10),), horizon_s=1 * DAY, load_factor=1.0))
    assert {a.line_id for a in plan.assignments} == {"urgent"}


def test_existing_load_is_respected():
    problem = Problem(
        (demand(units=48),),
        (supply("a", 50, 10, busy_s=40 * 3600),),
        load_factor=1.0,
        horizon_s=2 * DAY,
    )
    plan = solve(problem)
    assert plan.units_assigned == 8


def test_problem_refuses_duplicate_machines():
    with pytest.raises(InvalidInput, match="supplies"):
        Problem((), (supply("a", 0, 0), supply("a", 1, 1)))


machines_st = st.lists(
    st.tuples(
        st.floats(45, 55),
        st.floats(5, 15),
        st.floats(1, 24),
        st.floats(0, 40 * 3600),
        st.sampled_from([("PLA",), ("PETG",), ("PLA", "PETG")]),
    ),
    min_size=0,
    max_size=12,
)
lines_st = st.lists(
    st.tuples(
        st.integers(0, 80),
        st.floats(0.2, 10),
        st.floats(600, 20000),
        st.sampled_from(["PLA", "PETG"]),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(machines_st, lines_st)
def test_plans_conserve_units_and_never_overfill_a_machine(machines, lines):
    supplies = tuple(
        supply(f"m{i}", lat, lon, hours=h, materials=mats, busy_s=busy)
        for i, (lat, lon, h, busy, mats) in enumerate(machines)
    )
    demands = tuple(
        demand(f"l{i}", units=u, due_days=d, unit_time_s=t, material=mat, priority=p)
        for i, (u, d, t, mat, p) in enumerate(lines)
    )
    problem = Problem(demands, supplies, horizon_s=14 * DAY)
    plan = solve(problem)
    by_line = defaultdict(int)
    for a in plan.assignments:
        assert a.units > 0
        by_line[a.line_id] += a.units
    for u in plan.unmet:
        by_line[u.line_id] += u.units
    for d in demands:
        assert by_line[d.line_id] == d.units  # every unit is planned or reported unmet, once
    used = defaultdict(float)
    lookup = {d.line_id: d for d in demands}
    for a in plan.assignments:
        used[a.machine_id] += a.units * lookup[a.line_id].unit_time_s
        assert next(s for s in supplies if s.machine_id == a.machine_id).can_make(lookup[a.line_id])
    for s in supplies:
        room = max(0.0, s.capacity_s(problem.horizon_s) - s.busy_s)
        assert used[s.machine_id] <= room + 1e-6

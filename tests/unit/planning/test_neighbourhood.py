"""Units that rounding leaves unmet: the machines nearest their line are planned again
whole by HiGHS's MIP, so that shorter parts move and the long one fits; nothing is lost,
no machine is overbooked, the plan never costs more."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.domain.errors import InvalidInput
from fabnet.planning import day_groups, mip_pool
from fabnet.planning.arcs import Arcs
from fabnet.planning.costs import CostParams
from fabnet.planning.flow import above_lp_time, solve_flow
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.neighbourhood import improve
from fabnet.planning.plan import Plan
from fabnet.planning.plan_files import check_plan
from fabnet.planning.problem import SECONDS_PER_DAY as DAY
from fabnet.planning.problem import Demand, Problem, Supply
from fabnet.planning.time_model import TimeModel
from tests.unit.planning.test_flow import SOLVER, demand, random_problem, supply

HOUR = 3600.0


def _two_machines() -> tuple[Problem, TimeModel]:
    """Two machines of 10 hours a day side by side; one 6-hour part and ten 1-hour parts,
    all due on day 1, no late window."""
    problem = Problem(
        demands=(
            demand(1, 1, 52.0, 13.0, 1, unit_s=6 * HOUR),
            demand(2, 10, 52.0, 13.0, 1, unit_s=HOUR),
        ),
        supplies=(supply(1, 52.0, 13.0, hours=10.0), supply(2, 52.0, 13.0, hours=10.0)),
        horizon_s=2 * DAY,
        load_factor=1.0,
        costs=CostParams(late_window_days=0),
    )
    demands = list(problem.demands)
    return problem, TimeModel(problem, demands, FlowOptions(aggregate=False))


def test_short_parts_move_so_that_the_long_one_fits():
    """Five short parts on each machine leave 5 hours on each: the 6-hour part fits on
    neither until the short parts gather on one machine."""
    _problem, model = _two_machines()
    long_a = next(a for a, g in enumerate(model.d.members) if g[0][0].line_id == "l001")
    short_a = 1 - long_a
    arcs = Arcs(np.array([short_a, short_a]), np.array([0, 1]), np.array([1, 1]))
    units = np.array([5, 5])
    out, got = improve(model, arcs, units, np.zeros(2))
    made = Counter()
    for a, u in zip(out.a.tolist(), got.tolist(), strict=True):
        made[a] += u
    assert made == {long_a: 1, short_a: 10}
    ticks = model.d.ticks[out.a] * got
    per_machine = np.bincount(out.m, weights=ticks, minlength=2)
    assert (per_machine <= model.cum_ticks[:, 1]).all()


def test_a_line_the_lp_left_unmet_is_not_searched():
    """Where the fractional plan itself left the unit unmade, time is short rather than
    cut up: nothing is tried, the plan comes back as it was."""
    _problem, model = _two_machines()
    long_a = next(a for a, g in enumerate(model.d.members) if g[0][0].line_id == "l001")
    short_a = 1 - long_a
    arcs = Arcs(np.array([short_a, short_a]), np.array([0, 1]), np.array([1, 1]))
    units = np.array([5, 5])
    lp_unmet = np.zeros(2)
    lp_unmet[long_a] = 1.0
    out, got = improve(model, arcs, units, lp_unmet)
    assert got.sum() == 10 and set(out.a.tolist()) == {short_a}


def test_the_budget_is_an_option_and_bad_values_are_refused():
    with pytest.raises(InvalidInput) as err:
        FlowOptions(neighbourhood_s=-1.0)
    assert err.value.field == "neighbourhood_s"
    with pytest.raises(InvalidInput):
        FlowOptions(neighbourhood_s=float("nan"))


def _accounted(plan: Plan) -> Counter[str]:
    """Each line's units, made or stated unmet."""
    out: Counter[str] = Counter()
    for a in plan.assignments:
        out[a.line_id] += a.units
    for u in plan.unmet:
        out[u.line_id] += u.units
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), lines=st.integers(3, 16), machines=st.integers(2, 6))
def test_filling_never_costs_more_loses_nothing_and_passes_the_checker(seed, lines, machines):
    problem = random_problem(seed, lines, machines, short=True)
    rounding = FlowOptions(polish_max_arcs=0, neighbourhood_s=0.0)
    before = solve_flow(problem, SOLVER, options=rounding)
    after = solve_flow(problem, SOLVER, options=replace(rounding, neighbourhood_s=30.0))
    # the cost never rises; the units unmet may (hypothesis found a plan that left two
    # more units of a line unmade to make one of a line three times as urgent)
    assert after.stats["objective"] <= before.stats["objective"] + 1e-6
    assert check_plan(problem, after) == []
    assert _accounted(after) == {d.line_id: d.units for d in problem.demands if d.units > 0}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    lines=st.integers(3, 14),
    machines=st.integers(2, 6),
    capped=st.lists(st.sampled_from([0, 0, 2, 5]), min_size=6, max_size=6),
)
def test_filling_keeps_probation_jobs_and_transit_days(seed, lines, machines, capped):
    """Machines on probation (a bounded job per line) and transit bands (days on the way,
    machines out of reach): the fill keeps both, as the checker says."""
    problem = random_problem(seed, lines, machines, short=True)
    supplies = tuple(
        replace(s, job_units_max=cap) for s, cap in zip(problem.supplies, capped, strict=False)
    )
    costs = replace(problem.costs, transit=((150.0, 0), (400.0, 1), (900.0, 2)))
    problem = replace(problem, supplies=supplies, costs=costs)
    rounding = FlowOptions(polish_max_arcs=0, neighbourhood_s=0.0)
    before = solve_flow(problem, SOLVER, options=rounding)
    after = solve_flow(problem, SOLVER, options=replace(rounding, neighbourhood_s=30.0))
    assert after.stats["objective"] <= before.stats["objective"] + 1e-6
    assert check_plan(problem, after) == []


def _due_day_one(
    demands: tuple[Demand, ...], supplies: tuple[Supply, ...]
) -> tuple[TimeModel, dict[str, int]]:
    """The model of ``demands`` due on day 1 (no late window) on ``supplies`` over two
    days, all their time promised; and each line's demand index, by line id."""
    problem = Problem(
        demands=demands,
        supplies=supplies,
        horizon_s=2 * DAY,
        load_factor=1.0,
        costs=CostParams(late_window_days=0),
    )
    model = TimeModel(problem, list(problem.demands), FlowOptions(aggregate=False))
    return model, {g[0][0].line_id: a for a, g in enumerate(model.d.members)}


def _swapped() -> tuple[TimeModel, Arcs, np.ndarray, tuple[Arcs, np.ndarray], int, int]:
    """Two towns 300 km apart, a machine in each (20 h a day, room for one line's six
    2-hour units by the deadline); each town's line planned on the other town's machine,
    and an LP that made the first town's line at home."""
    model, line = _due_day_one(
        (
            demand(1, 6, 52.5, 13.4, 1, unit_s=2 * HOUR),
            demand(2, 6, 50.0, 12.0, 1, unit_s=2 * HOUR, material="PETG"),
        ),
        (
            supply(1, 52.5, 13.4, hours=12.0, materials=("PLA", "PETG")),
            supply(2, 50.0, 12.0, hours=12.0, materials=("PLA", "PETG")),
        ),
    )
    first, second = line["l001"], line["l002"]
    arcs = Arcs(np.array([first, second]), np.array([1, 0]), np.array([1, 1]))
    lp = (Arcs(np.array([first]), np.array([0]), np.array([1])), np.array([6.0]))
    return model, arcs, np.array([6, 6]), lp, first, second


def test_a_line_pushed_away_comes_back_and_what_took_its_place_moves():
    """Nothing is unmet, so only the second phase can help: the first line costs more
    than in the LP; its neighbourhood is the machine the LP used (pushed out) and the
    one it went to, and the MIP swaps the two lines home."""
    model, arcs, units, lp, first, second = _swapped()
    before = float((units * model.unit_cost(arcs)).sum())
    out, got = improve(model, arcs, units, np.zeros(2), lp=lp)
    placed = {
        (a, m): u for a, m, u in zip(out.a.tolist(), out.m.tolist(), got.tolist(), strict=True)
    }
    assert placed == {(first, 0): 6, (second, 1): 6}
    assert float((got * model.unit_cost(out)).sum()) < before
    # without the LP the plan is left as it came (no line is short of units)
    same_arcs, same_units = improve(model, arcs, units, np.zeros(2))
    assert same_arcs is arcs and same_units is units


def test_a_plan_already_good_enough_is_not_searched():
    """``enough`` above the plan's cost (it is within the tolerance of its bound): no
    neighbourhood is planned, the plan comes back as it was."""
    model, arcs, units, lp, _first, _second = _swapped()
    out, got = improve(model, arcs, units, np.zeros(2), lp=lp, enough=1e12)
    assert out is arcs and got is units


def test_no_time_for_the_lines_above_the_lp_leaves_them():
    model, arcs, units, lp, _first, _second = _swapped()
    out, got = improve(model, arcs, units, np.zeros(2), lp=lp, above_lp_s=0.0)
    assert out is arcs and got is units


def test_in_two_processes_the_short_parts_move_and_the_lines_swap_home(monkeypatch):
    """The pool is used however few the neighbourhoods (its threshold set to 0 here):
    each hand case comes out as it does in one process."""
    import fabnet.planning.neighbourhood as nb

    monkeypatch.setattr(nb, "POOL_MIN_S", 0.0)
    monkeypatch.setattr(mip_pool, "_failed", False)
    _problem, model = _two_machines()
    long_a = next(a for a, g in enumerate(model.d.members) if g[0][0].line_id == "l001")
    short_a = 1 - long_a
    arcs = Arcs(np.array([short_a, short_a]), np.array([0, 1]), np.array([1, 1]))
    out, got = improve(model, arcs, np.array([5, 5]), np.zeros(2), workers=2)
    assert np.bincount(out.a, weights=got, minlength=2)[[long_a, short_a]].tolist() == [1, 10]

    model, arcs, units, lp, first, second = _swapped()
    out, got = improve(model, arcs, units, np.zeros(2), lp=lp, workers=2)
    placed = {
        (a, m): u for a, m, u in zip(out.a.tolist(), out.m.tolist(), got.tolist(), strict=True)
    }
    assert placed == {(first, 0): 6, (second, 1): 6}


def test_in_two_processes_nothing_is_lost_or_overbooked_and_the_cost_never_rises(monkeypatch):
    """Random problems with many neighbourhoods, two MIPs at a time on machines and lines
    the other does not hold: the checker passes, every unit is made or stated unmet, the
    plan costs no more than rounding alone. A loop over seeds rather than hypothesis:
    each pool takes about a second to start."""
    import fabnet.planning.neighbourhood as nb

    monkeypatch.setattr(nb, "POOL_MIN_S", 0.0)
    monkeypatch.setattr(mip_pool, "_failed", False)
    for seed in range(4):
        problem = random_problem(seed, 16, 6, short=True)
        rounding = FlowOptions(polish_max_arcs=0, neighbourhood_s=0.0)
        before = solve_flow(problem, SOLVER, options=rounding)
        options = replace(rounding, neighbourhood_s=30.0, neighbourhood_workers=2)
        after = solve_flow(problem, SOLVER, options=options)
        assert after.stats["objective"] <= before.stats["objective"] + 1e-6
        assert check_plan(problem, after) == []
        assert _accounted(after) == {d.line_id: d.units for d in problem.demands if d.units > 0}


def _die(*_args: object) -> None:
    """A neighbourhood worker killed mid-MIP (for memory, say); in this process, no plan."""
    import multiprocessing
    import os

    if multiprocessing.parent_process() is not None:
        os._exit(1)


def test_a_worker_that_dies_leaves_the_plan_as_it_was(monkeypatch, caplog):
    import fabnet.planning.neighbourhood as nb

    monkeypatch.setattr(nb, "POOL_MIN_S", 0.0)
    monkeypatch.setattr(mip_pool, "_failed", False)
    monkeypatch.setattr(nb, "solve_hood", _die)
    model, arcs, units, lp, _first, _second = _swapped()
    with caplog.at_level("WARNING", logger="fabnet.planning.mip_pool"):
        out, got = improve(model, arcs, units, np.zeros(2), lp=lp, workers=2)
    assert out is arcs and got is units
    assert "neighbourhoods: worker processes failed" in caplog.text


def test_the_worker_count_is_an_option_and_none_is_refused():
    with pytest.raises(InvalidInput) as err:
        FlowOptions(neighbourhood_workers=0)
    assert err.value.field == "neighbourhood_workers"


def test_the_lines_above_the_lp_get_the_whole_budget_only_where_the_plan_is_far_above():
    """At most the time the plan took, unless the plan stands more than ten times the
    tolerance (0.1%) above its bound: then the whole neighbourhood budget."""
    opts = FlowOptions(neighbourhood_s=60.0)
    assert above_lp_time(opts, 103.9, 100.0, 5.0) == 60.0  # 3.8% above
    assert above_lp_time(opts, 100.3, 100.0, 5.0) == 5.0  # 0.3%: a few tenths
    assert above_lp_time(opts, 103.9, 100.0, 90.0) == 90.0  # took longer already
    assert above_lp_time(opts, 103.9, float("-inf"), 5.0) == 5.0  # no bound
    assert above_lp_time(opts, 103.9, float("nan"), 5.0) == 5.0


def _slivers() -> tuple[TimeModel, Arcs, np.ndarray, tuple[Arcs, np.ndarray], int, int]:
    """Three machines of 11 hours side by side; fifteen 2-hour parts and three 1-hour ones,
    all due on day 1: 33 hours, which fit exactly as five long and one short a machine.
    The plan: five long on the first machine, four long and two short on the second, five
    long and one short on the third, one long part unmade. An hour is left on each of the
    first two: room for the long part in all, on neither alone."""
    model, line = _due_day_one(
        (demand(1, 15, 52.0, 13.0, 1, unit_s=2 * HOUR), demand(2, 3, 52.0, 13.0, 1, unit_s=HOUR)),
        tuple(supply(i, 52.0, 13.0, hours=11.0) for i in (1, 2, 3)),
    )
    long_a, short_a = line["l001"], line["l002"]
    arcs = Arcs(
        np.array([long_a, long_a, short_a, long_a, short_a]),
        np.array([0, 1, 1, 2, 2]),
        np.ones(5, dtype=np.int64),
    )
    units = np.array([5, 4, 2, 5, 1])
    lp_arcs = Arcs(np.array([long_a] * 3 + [short_a] * 3), np.tile([0, 1, 2], 2), np.ones(6, int))
    lp = (lp_arcs, np.array([5.0, 5.0, 5.0, 1.0, 1.0, 1.0]))
    return model, arcs, units, lp, long_a, short_a


def test_the_lines_due_by_a_day_move_together_where_machine_neighbourhoods_cannot(monkeypatch):
    """Only a move on two machines at once makes room (a short part from the second to
    the first, the long part on the second). Neighbourhoods of one machine cannot find it;
    the lines due by day 1, planned together over every machine, do: nothing unmade, no
    machine over its time."""
    import fabnet.planning.neighbourhood as nb

    monkeypatch.setattr(nb, "ABOVE_LP_MACHINES", 1)
    model, arcs, units, lp, long_a, short_a = _slivers()
    _, got = improve(model, arcs, units, np.zeros(2), machines=1, lp=lp, by_day=False)
    assert got.sum() == 17  # one long part still unmade
    out, got = improve(model, arcs, units, np.zeros(2), machines=1, lp=lp)
    made = np.bincount(out.a, weights=got, minlength=2)
    assert made[long_a] == 15 and made[short_a] == 3
    per_machine = np.bincount(out.m, weights=model.d.ticks[out.a] * got, minlength=3)
    assert (per_machine <= model.cum_ticks[:, 1]).all()


def test_the_lines_of_a_day_come_in_groups_of_at_most_the_arcs_allowed_dearest_day_first(
    monkeypatch,
):
    """Each day holding a dear line gives every line due by it, the dearest first, in
    groups of at most ``DAY_ARCS`` of the LP's arcs (a line with more in none); days
    without a dear line give none."""

    problem = Problem(
        demands=tuple(demand(i, 2, 52.0, 13.0, 1 + i % 2) for i in range(6)),
        supplies=tuple(supply(i, 52.0, 13.0) for i in range(3)),
        horizon_s=4 * DAY,
        load_factor=1.0,
        costs=CostParams(late_window_days=0),
    )
    model = TimeModel(problem, list(problem.demands), FlowOptions(aggregate=False))
    d = model.d
    lp_arcs = Arcs(np.repeat(np.arange(6), 3), np.tile(np.arange(3), 6), np.repeat(d.lo, 3))
    day_one = np.flatnonzero(d.lo == 1)
    day_two = np.flatnonzero(d.lo == 2)
    excess = np.zeros(6)
    excess[day_one] = [1.0, 3.0, 2.0]  # the dearest first: day_one[1], [2], [0]
    excess[day_two] = [9.0, 0.0, 0.0]
    assert day_groups.lines_by_day(model, excess, lp_arcs, np.array([], dtype=np.int64)) == []
    monkeypatch.setattr(day_groups, "DAY_ARCS", 6)  # two lines of three arcs each
    groups = day_groups.lines_by_day(model, excess, lp_arcs, day_one[:1])
    assert [g.tolist() for g in groups] == [sorted(day_one[1:].tolist()), [day_one[0]]]
    # both days dear: day 2's dear line costs more above the LP, so day 2 comes first
    groups = day_groups.lines_by_day(model, excess, lp_arcs, np.array([day_one[1], day_two[0]]))
    assert [g.tolist() for g in groups] == [
        sorted(day_two[:2].tolist()),
        [day_two[2]],
        sorted(day_one[1:].tolist()),
        [day_one[0]],
    ]
    monkeypatch.setattr(day_groups, "DAY_ARCS", 3)  # one line's: each line alone
    groups = day_groups.lines_by_day(model, excess, lp_arcs, day_one[:1])
    assert [g.tolist() for g in groups] == [[day_one[1]], [day_one[2]], [day_one[0]]]
    monkeypatch.setattr(day_groups, "DAY_ARCS", 2)  # fewer than one line's: none
    assert day_groups.lines_by_day(model, excess, lp_arcs, day_one[:1]) == []

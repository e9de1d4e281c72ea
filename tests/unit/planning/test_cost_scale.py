"""The flow planner's integer costs: fine enough for the cheapest unit whatever a unit left
unmet costs, within OR-Tools' range, and money beyond any real cost refused by name."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fabnet.adapters.solvers import OrToolsFlow
from fabnet.domain.errors import InvalidInput
from fabnet.planning import solve
from fabnet.planning.costs import MAX_MONEY, CostParams
from fabnet.planning.files import from_dict, to_dict
from fabnet.planning.flow_options import FlowOptions
from fabnet.planning.problem import Problem
from fabnet.planning.time_model import COST_LIMIT, COST_STEPS, TimeModel
from fabnet.sim.instances import SIZES, generate


def _tiny() -> Problem:
    return generate(SIZES["tiny"], seed=1, mixed=True)


def _with_unmet(problem: Problem, unmet: float) -> Problem:
    return replace(problem, costs=replace(problem.costs, unmet_per_unit=unmet))


@pytest.mark.parametrize("unmet", [1e9, 1e12])
def test_a_dear_unmet_unit_leaves_the_plan_and_its_certificate_as_they_were(unmet):
    # tiny, seed 1 makes every unit at the default unmet cost; a dearer one changes no
    # optimum. The scale was once set by the total of every unit left unmet: at 1e12
    # every arc's cost fell under one integer step, pricing stopped after two rounds
    # with the restricted LP 4.7% above its bound, and the plan stood 1.19% above it
    base = solve(_tiny(), solver="flow", flow_solver=OrToolsFlow())
    dear = solve(_with_unmet(_tiny(), unmet), solver="flow", flow_solver=OrToolsFlow())
    assert base.units_unmet == dear.units_unmet == 0
    assert dear.stats["certified"] and dear.stats["gap"] <= 1e-3
    assert dear.stats["objective"] == pytest.approx(base.stats["objective"], rel=1e-3)
    assert dear.stats["lp_relaxation"] == pytest.approx(base.stats["lp_relaxation"], rel=1e-4)


@pytest.mark.parametrize("unmet", [1e5, 1e9, 1e12])
def test_the_scale_keeps_cost_steps_for_the_cheapest_unit_within_int64(unmet):
    problem = _with_unmet(_tiny(), unmet)
    demands = [d for d in problem.demands if d.units > 0]
    model = TimeModel(problem, demands, FlowOptions())
    d = model.d
    # OR-Tools' range: the dearest integer cost (a tick left unmet) times the nodes
    dearest = float(np.rint(d.unmet * model.scale / d.ticks).max())
    assert dearest * (model.layout.n_nodes + 1) <= COST_LIMIT * (1 + 1e-9)
    # the cheapest unit any machine could make, per tick, keeps its steps
    least = min(
        (
            s.price_per_unit
            + s.machine_per_s * dem.unit_time_s / s.speed_factor
            + s.material_per_g * dem.unit_mass_g
            + (1.0 - s.reliability) * problem.costs.risk_per_unit
        )
        / dem.unit_time_s
        for dem in demands
        for s in problem.supplies
        if s.can_make(dem)
    )
    assert least * model.scale >= COST_STEPS * (1 - 1e-9)


@pytest.mark.parametrize(
    "field",
    [
        "transport_per_unit_km",
        "carbon_price_per_kg",
        "late_per_unit_day",
        "unmet_per_unit",
        "risk_per_unit",
        "fixed_per_pair",
    ],
)
def test_money_beyond_any_real_cost_is_refused_by_name(field):
    with pytest.raises(InvalidInput) as err:
        CostParams(**{field: MAX_MONEY * 10})
    assert f"costs.{field}" in str(err.value) and "1e+12" in str(err.value)
    CostParams(**{field: MAX_MONEY})  # the bound itself is allowed


def test_a_problem_files_machine_price_beyond_any_real_cost_is_refused_by_name():
    data = to_dict(_tiny())
    data["machines"][3]["price_per_unit"] = 1e300
    with pytest.raises(InvalidInput) as err:
        from_dict(data)
    assert "machines[3].price_per_unit" in str(err.value)
    data["costs"]["unmet_per_unit"] = 1e25
    data["machines"][3]["price_per_unit"] = 1.0
    with pytest.raises(InvalidInput) as err:
        from_dict(data)
    assert "costs.unmet_per_unit" in str(err.value)

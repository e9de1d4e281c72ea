"""One cost model from quote to plan: the planner prices a unit with the producer's rule
(as quotes do) and weighs it with the design's estimate."""

from __future__ import annotations

from dataclasses import replace

from fabnet.domain.pricing import PriceRule
from fabnet.services import commands as cmd
from fabnet.services import planning
from fabnet.services.ports import Policy
from tests.conftest import OPERATOR, World, facility, printer

CHEAP = {
    "material_per_kg_minor": 1000,
    "machine_per_hour_minor": 50,
    "setup_minor": 0,
    "margin_pct": 0.0,
}
DEAR = {
    "material_per_kg_minor": 9000,
    "machine_per_hour_minor": 900,
    "setup_minor": 0,
    "margin_pct": 20.0,
}


def producer(world: World, name: str, pricing: dict, lat: float = 52.5, lon: float = 13.4) -> str:
    spec = replace(facility(name, lat, lon, printer()), pricing=pricing)
    return str(world.bus.handle(cmd.RegisterProducer(OPERATOR, spec)))


def test_a_cheaper_producer_at_the_same_place_wins(world: World):
    dear = producer(world, "dear", DEAR)
    cheap = producer(world, "cheap", CHEAP)
    world.order(world.design(print_time_s=1800), 3, days=10)
    with world.uow() as uow:
        (job,) = [j for j in uow.jobs.all() if j.is_live]
    assert job.producer_id == cheap != dear


def test_the_planned_production_price_is_the_quotes_price_for_that_producer(world: World):
    from fabnet.adapters.solvers import OrToolsFlow
    from fabnet.sim.parts import box_stl

    only = producer(world, "only", {**DEAR, "margin_pct": 7.5})
    data = box_stl(40, 30, 12)
    design_id = world.bus.handle(
        cmd.RegisterDesign(OPERATOR, "part.stl", data, "part", "fdm", ("PLA", "PETG"))
    )  # its print time and mass come from the estimate
    quote = world.bus.handle(cmd.RequestQuote(OPERATOR, "PETG", 9, design_id=design_id))
    (maker,) = [o for o in quote.options if o.producers]
    quoted = maker.price_min.minor
    world.bus.react = False
    order_id = world.order(design_id, 9, days=10, material="PETG")
    with world.uow() as uow:
        proposal = planning.propose(
            uow,
            (order_id,),
            now=world.clock.now(),
            policy=Policy(),
            solver="flow",
            flow_solver=OrToolsFlow(),
        )
    (assignment,) = proposal.plan.assignments
    assert assignment.producer_id == only and assignment.units == 9
    assert abs(assignment.production - quoted) <= 1  # the quote rounds once, to the cent
    rule = PriceRule.from_dict({**DEAR, "margin_pct": 7.5})
    assert (
        quoted
        == rule.price(
            filament_g=quote.estimate.filament_g,
            print_time_s=quote.estimate.print_time_s,
            quantity=9,
        ).minor
    )

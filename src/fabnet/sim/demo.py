"""``fabnet demo``: seed a network, place a surge and ordinary orders, plan, make, report."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta

from fabnet.adapters.gazetteer import Gazetteer
from fabnet.domain.access import Principal
from fabnet.domain.ids import DesignId, PrincipalId
from fabnet.domain.states import Role
from fabnet.services import commands as cmd
from fabnet.services.messagebus import MessageBus
from fabnet.services.ports import FixedClock, UnitOfWork
from fabnet.sim import parts
from fabnet.sim.engine import OPERATOR, Engine
from fabnet.sim.machines import ProducerBehaviour
from fabnet.sim.report import Summary, summarize
from fabnet.sim.scenarios import Scenario, ScenarioConfig, build

Stage = Callable[[str], None]
Progress = Callable[[int, int], None]  # units made so far, units ordered


def run_demo(
    *,
    bus: MessageBus,
    new_uow: Callable[[], UnitOfWork],
    clock: FixedClock,
    config: ScenarioConfig,
    seed: int,
    stage: Stage | None = None,
    progress: Progress | None = None,
) -> Summary:
    say = stage or (lambda _: None)
    started = time.perf_counter()
    start = clock.now()
    scenario = build(config, seed=seed, start=start, gazetteer=Gazetteer())
    say(f"seeding {len(scenario.facilities)} producers in {config.country}")
    bus.handle(cmd.ImportFacilities(OPERATOR, tuple(scenario.facilities)))
    designs = _designs(bus, scenario)
    for c in scenario.couriers:
        bus.handle(cmd.RegisterCourier(OPERATOR, c.name, c.mode, c.base.lat, c.base.lon))
    engine = Engine(
        bus=bus,
        uow=new_uow(),
        clock=clock,
        behaviour=_behaviour(config, new_uow, seed),
        seed=seed,
        until=start + timedelta(days=60),
        routing_every=timedelta(hours=config.routing_every_h),
        routing_budget_s=config.routing_budget_s,
    )
    engine.load_machines()
    ordered = sum(o.units for o in scenario.orders)
    say(f"placing {len(scenario.orders)} orders for {ordered} units, then planning them")
    bus.react = False  # plan the whole batch at once: urgent lines first, in one solve
    _place_orders(bus, scenario, designs)
    bus.react = True
    bus.handle(cmd.PlanOrders())

    say("running the jobs on simulated printers")
    report_uow = new_uow()

    def tick(_: object) -> None:
        if progress:
            with report_uow:
                made = sum(o.units_made for o in report_uow.orders.everyone())
            progress(made, ordered)

    engine.run(progress=tick)
    sim_days = (clock.now() - start).total_seconds() / 86_400
    return summarize(new_uow(), sim_days=sim_days, wall_s=time.perf_counter() - started)


def _designs(bus: MessageBus, scenario: Scenario) -> dict[str, str]:
    """Each of the scenario's parts registered as a design (a box of its size): its id
    by part name."""
    designs: dict[str, str] = {}
    for part in scenario.parts:
        data = parts.box_stl(*part.size_mm, label=part.name)
        designs[part.name] = bus.handle(
            cmd.RegisterDesign(
                actor=OPERATOR,
                filename=f"{part.name.replace(' ', '-')}.stl",
                data=data,
                name=part.name,
                process="fdm",
                materials=part.materials,
                print_time_s=part.print_time_s,
            )
        )
    return designs


def _behaviour(
    config: ScenarioConfig, new_uow: Callable[[], UnitOfWork], seed: int
) -> ProducerBehaviour:
    """How the simulated producers answer and fail; a share of them far less reliable,
    hidden from the hub: it has to learn who they are."""
    failure_rates: dict[str, float] = {}
    if config.unreliable_share > 0:
        with new_uow() as uow:
            ids = sorted(p.id for p in uow.producers.everyone())
        picker = random.Random(seed * 7919 + 1)
        for pid in picker.sample(ids, round(config.unreliable_share * len(ids))):
            failure_rates[pid] = config.unreliable_failure_rate
    return ProducerBehaviour(
        accept_rate=config.accept_rate,
        failure_rate=config.failure_rate,
        response_minutes=config.response_minutes,
        jitter=config.jitter,
        failure_rates=failure_rates,
    )


def _place_orders(bus: MessageBus, scenario: Scenario, designs: dict[str, str]) -> None:
    """The scenario's orders, each from its own consumer."""
    for n, plan in enumerate(scenario.orders):
        consumer = Principal(PrincipalId(f"usr_consumer_{n:04d}"), Role.CONSUMER)
        bus.handle(
            cmd.PlaceOrder(
                actor=consumer,
                lines=(
                    cmd.LineRequest(
                        design_id=DesignId(designs[plan.part.name]),
                        material=plan.material,
                        quantity=plan.units,
                        deadline=plan.deadline,
                        lat=plan.destination.lat,
                        lon=plan.destination.lon,
                    ),
                ),
                priority=plan.priority,
                reference=plan.reference,
            )
        )

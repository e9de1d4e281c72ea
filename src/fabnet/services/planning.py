"""Turn open demand into job offers: build a Problem from the store, solve, offer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypedDict

from fabnet.domain.designs import Design
from fabnet.domain.events import UnitsRejected
from fabnet.domain.ids import PREFIXES, DesignId, JobId, MachineId, ProducerId
from fabnet.domain.jobs import Job
from fabnet.domain.orders import Order, OrderLine
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.states import JobState
from fabnet.fabrication.profiles import FILAMENT_DENSITY_G_CM3, REFERENCE
from fabnet.planning import Assignment, Demand, Plan, Problem, Supply, solve
from fabnet.planning.costs import CostParams
from fabnet.planning.network import FlowSolver
from fabnet.routing.costmodel import transport_bands
from fabnet.services.commands import PlanOrders
from fabnet.services.ports import Clock, IdSource, Policy, UnitOfWork


@dataclass
class PlanReport:
    orders: int = 0
    jobs_offered: list[JobId] = field(default_factory=list)
    units_assigned: int = 0
    units_unmet: int = 0
    unmet: dict[str, str] = field(default_factory=dict)  # line id -> reason


def plan_orders(
    cmd: PlanOrders,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdSource,
    policy: Policy,
    flow_solver: FlowSolver | None = None,
) -> PlanReport:
    with uow:
        report = plan_within(
            uow,
            cmd.order_ids,
            now=clock.now(),
            ids=ids,
            policy=policy,
            solver=cmd.solver or policy.solver,
            flow_solver=flow_solver,
        )
        uow.commit()
    return report


@dataclass
class Proposal:
    """A plan solved on a snapshot of the store, to be applied in a short write
    transaction if the orders it planned have not changed since (their versions)."""

    versions: dict[str, int]
    problem: Problem | None = None
    plan: Plan | None = None
    designs: dict[DesignId, Design] = field(default_factory=dict)
    held: dict[str, tuple[int, str]] = field(default_factory=dict)  # line -> (units, why)


def propose(
    uow: UnitOfWork,
    order_ids: tuple[str, ...],
    *,
    now: datetime,
    policy: Policy,
    solver: str,
    flow_solver: FlowSolver | None = None,
) -> Proposal:
    """Solve the planning problem of ``order_ids`` (every open order when empty) from
    what ``uow`` reads; writes nothing, so it may run in a read-only transaction."""
    if order_ids:
        orders = [o for o in (uow.orders.find(i) for i in order_ids) if o is not None]
    else:
        orders = uow.orders.open()
    orders = [o for o in orders if o.is_open and any(ln.unallocated for ln in o.lines)]
    proposal = Proposal(versions={o.id: o.version for o in orders})
    if orders:
        proposal.problem, proposal.designs, proposal.held = _problem(uow, orders, now, policy)
        proposal.plan = solve(proposal.problem, solver=solver, flow_solver=flow_solver)
    return proposal


def apply(
    uow: UnitOfWork, proposal: Proposal, *, now: datetime, ids: IdSource, policy: Policy
) -> PlanReport | None:
    """Offer the proposal's jobs inside the caller's transaction; None (and nothing
    done) when one of its orders changed after it was solved."""
    orders = {i: uow.orders.find(i) for i in proposal.versions}
    if any(o is None or o.version != proposal.versions[i] for i, o in orders.items()):
        return None
    report = PlanReport(orders=len(orders))
    if proposal.plan is None or proposal.problem is None:
        return report
    lines: dict[str, tuple[Order, OrderLine]] = {
        ln.id: (order, ln) for order in orders.values() if order for ln in order.lines
    }
    machines = {s.machine_id: s for s in proposal.problem.supplies}
    # one job per (line, machine): a plan may give a pair's units in several day buckets
    merged: dict[tuple[str, str], Assignment] = {}
    for a in proposal.plan.assignments:
        seen = merged.get((a.line_id, a.machine_id))
        merged[(a.line_id, a.machine_id)] = (
            a
            if seen is None
            else replace(seen, units=seen.units + a.units, finish_s=max(seen.finish_s, a.finish_s))
        )
    for a in merged.values():
        order, line = lines[a.line_id]
        supply = machines[a.machine_id]
        job = Job(
            id=JobId(ids.new(PREFIXES["job"])),
            order_id=order.id,
            line_id=line.id,
            design_id=line.design_id,
            machine_id=MachineId(a.machine_id),
            producer_id=ProducerId(a.producer_id),
            material=line.material,
            units=a.units,
            unit_time_s=proposal.designs[line.design_id].print_time_s / supply.speed_factor,
            # made by then, the units arrive by the deadline: the maker's own due time
            due=line.deadline - timedelta(days=a.transit_days, seconds=_last_mile_s(policy)),
            offered_at=now,
            expires_at=now + timedelta(seconds=policy.offer_ttl_s),
            design_hash=proposal.designs[line.design_id].blob_key,
        )
        uow.jobs.add(job.offered())
        order.allocate(line.id, a.units, now)
        report.jobs_offered.append(job.id)
        report.units_assigned += a.units
    for unmet in proposal.plan.unmet:
        report.units_unmet += unmet.units
        report.unmet[unmet.line_id] = unmet.reason
    for line_id, (units, why) in proposal.held.items():
        report.units_unmet += units
        report.unmet[line_id] = why
    return report


def plan_within(
    uow: UnitOfWork,
    order_ids: tuple[str, ...],
    *,
    now: datetime,
    ids: IdSource,
    policy: Policy,
    solver: str,
    flow_solver: FlowSolver | None = None,
) -> PlanReport:
    """Plan the unallocated units of ``order_ids`` (every open order when empty) inside
    the caller's transaction: jobs are offered and units allocated; nothing commits."""
    proposal = propose(
        uow, order_ids, now=now, policy=policy, solver=solver, flow_solver=flow_solver
    )
    report = apply(uow, proposal, now=now, ids=ids, policy=policy)
    assert report is not None  # same transaction: nothing changed in between
    return report


def _last_mile_s(policy: Policy) -> float:
    """What the planner keeps free before a deadline for the last mile: the hub's
    same-day service hours (a parcel made then still arrives in time)."""
    return policy.logistics.same_day_h * 3600


class _PriceTerms(TypedDict):
    material_per_g: float
    machine_per_s: float


def _price_terms(producer: Producer, policy: Policy) -> _PriceTerms:
    """The producer's pricing rule (its own, else its class's) as the planner's linear
    terms: what ``PriceRule.price`` charges per gram and per machine second, margin
    included. The setup charge is per job, a fixed charge the flow model leaves out."""
    rule = producer.pricing or policy.price_rules[producer.producer_class]
    markup = 1 + rule.margin_pct / 100
    return {
        "material_per_g": rule.material_per_kg_minor / 1000 * markup,
        "machine_per_s": rule.machine_per_hour_minor / 3600 * markup,
    }


def density(material: str) -> float:
    return FILAMENT_DENSITY_G_CM3.get(material, REFERENCE.filament_density_g_cm3)


def _problem(
    uow: UnitOfWork, orders: list[Order], now: datetime, policy: Policy
) -> tuple[Problem, dict[DesignId, Design], dict[str, tuple[int, str]]]:
    """The planning problem of ``orders``' unallocated units on the available machines of
    active producers; the designs it read, and the lines held back (units, why)."""
    producers: dict[str, Producer] = {p.id: p for p in uow.producers.active()}
    machines: list[Machine] = [m for m in uow.machines.available() if m.producer_id in producers]
    busy: dict[str, float] = defaultdict(float)
    for job in uow.jobs.live():
        busy[job.machine_id] += job.units_open * job.unit_time_s
    refused = _refused(uow, orders, machines)
    designs: dict[DesignId, Design] = {}
    held: dict[str, tuple[int, str]] = {}
    demands = []
    for order in orders:
        for line in order.lines:
            if not line.unallocated:
                continue
            design = designs.get(line.design_id) or uow.designs.get(line.design_id)
            designs[design.id] = design
            if design.review_status.rank < line.min_review.rank:
                held[line.id] = (
                    line.unallocated,
                    f"the design is {design.review_status.value.replace('_', ' ')}; this line "
                    f"needs it reviewed for {line.min_review.value.replace('_', ' ')}",
                )
                continue
            demands.append(_demand(order, line, design, refused[line.id], now, policy))
    supplies = tuple(_supply(m, producers[m.producer_id], busy[m.id], policy) for m in machines)
    problem = Problem(
        demands=tuple(demands),
        supplies=supplies,
        horizon_s=policy.horizon_days * 86_400,
        load_factor=policy.load_factor,
        costs=CostParams(
            risk_per_unit=policy.risk_per_unit,
            transit=policy.transit,
            # transport priced by the logistics cost model: the courier band, the carrier
            transport_bands=transport_bands(policy.logistics),
        ),
    )
    return problem, designs, held


def _refused(uow: UnitOfWork, orders: list[Order], machines: list[Machine]) -> dict[str, set[str]]:
    """Per line, the machines that may not make it: those that refused a job of it, every
    machine of a producer that declined one (but for a machine that went down), and of a
    producer whose units of it failed inspection."""
    refused: dict[str, set[str]] = defaultdict(set)
    of_producer: dict[str, list[str]] = defaultdict(list)
    for m in machines:
        of_producer[m.producer_id].append(m.id)
    for job in uow.jobs.refused_in(o.id for o in orders):
        refused[job.line_id].add(job.machine_id)
        if job.state is JobState.DECLINED and not job.note.startswith("machine_down"):
            refused[job.line_id].update(of_producer[job.producer_id])
    for order in orders:  # units that failed inspection are made by someone else
        if any(line.units_rejected for line in order.lines):
            for event in uow.order_events(order.id, (UnitsRejected,)):
                assert isinstance(event, UnitsRejected)
                refused[event.line_id].update(of_producer[event.producer_id])
    return refused


def _demand(
    order: Order,
    line: OrderLine,
    design: Design,
    refused: set[str],
    now: datetime,
    policy: Policy,
) -> Demand:
    """A line's unallocated units as the planner's demand."""
    return Demand(
        line_id=line.id,
        order_id=order.id,
        process=line.process,
        material=line.material,
        size=design.bbox,
        units=line.unallocated,
        unit_time_s=design.print_time_s,
        unit_mass_g=design.unit_mass_g(density(line.material)),
        # made with the last mile's hours to spare (logistics.same_day_h)
        due_s=(line.deadline - now).total_seconds() - _last_mile_s(policy),
        destination=line.destination,
        priority=order.priority,
        excluded_machines=frozenset(refused),
    )


def _supply(m: Machine, producer: Producer, busy_s: float, policy: Policy) -> Supply:
    """A machine as the planner's supply: its time, its producer's place and prices."""
    return Supply(
        machine_id=m.id,
        producer_id=m.producer_id,
        process=m.process,
        materials=frozenset(m.materials),
        build_volume=m.build_volume,
        place=producer.place,
        seconds_per_day=m.hours_per_day * 3600,
        speed_factor=m.speed_factor,
        busy_s=busy_s,
        reliability=producer.reliability,
        job_units_max=m.probation.units_per_job if m.probation else 0,
        **_price_terms(producer, policy),
    )

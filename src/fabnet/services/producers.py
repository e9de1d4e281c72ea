"""Producers and machines: register, import (OKW), update, change machine status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fabnet.domain.access import Principal
from fabnet.domain.capabilities import parse_material, parse_process
from fabnet.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from fabnet.domain.ids import PREFIXES, MachineId, ProducerId
from fabnet.domain.pricing import PriceRule, parse_producer_class
from fabnet.domain.producers import Machine, MachineEnvelope, Producer
from fabnet.domain.states import JobState, MachineStatus
from fabnet.domain.units import Box, Place
from fabnet.services.commands import (
    AddMachine,
    ConfirmMachine,
    FacilitySpec,
    ImportFacilities,
    MachineSpec,
    RegisterProducer,
    SetMachineStatus,
    UpdateProducer,
)
from fabnet.services.jobs import release_job_units
from fabnet.services.ports import Clock, IdSource, Policy, UnitOfWork

IMPORT_NOTES = ("other_equipment", "located")  # the keys of Producer.extra an import owns


def _operator_only(actor: Principal, what: str) -> None:
    if not actor.is_operator:
        raise Forbidden(f"only an operator may {what}")


def _own_producer(uow: UnitOfWork, actor: Principal, producer_id: str) -> Producer:
    producer = uow.producers.find(producer_id)
    if producer is None or not actor.owns_producer(producer.id):
        raise NotFound("producer", producer_id)
    return producer


def build_machine(
    spec: MachineSpec,
    *,
    ident: str,
    producer_id: str,
    field: str,
    envelope: MachineEnvelope | None = None,
) -> Machine:
    """A machine as declared, within physics and the hub's envelope (``envelope``)."""
    process = parse_process(spec.process, f"{field}.process")
    materials = tuple(
        parse_material(m, process, f"{field}.materials[{i}]") for i, m in enumerate(spec.materials)
    )
    unverified = bool(spec.unverified) or spec.build_volume_mm is None
    if not materials and not unverified:
        raise InvalidInput(f"{field}.materials", "name at least one material it works")
    try:
        volume = Box(*spec.build_volume_mm) if spec.build_volume_mm else Box(0, 0, 0)
        machine = Machine(
            id=MachineId(ident),
            producer_id=ProducerId(producer_id),
            name=spec.name,
            process=process,
            make=spec.make,
            model=spec.model,
            build_volume=volume,
            materials=materials,
            nozzle_mm=spec.nozzle_mm,
            hours_per_day=spec.hours_per_day,
            speed_factor=spec.speed_factor,
            status=MachineStatus.UNVERIFIED if unverified else MachineStatus.IDLE,
            capacity_flag=(spec.unverified or "build volume not known")[:300] if unverified else "",
        )
        (envelope or MachineEnvelope()).check(machine)
    except InvalidInput as exc:
        raise InvalidInput(f"{field}.{exc.field}", exc.problem) from None
    return machine


def build_producer(spec: FacilitySpec, *, ident: str, field: str = "") -> Producer:
    prefix = f"{field}." if field else ""
    try:
        place = Place(spec.lat, spec.lon)
        return Producer(
            id=ProducerId(ident),
            name=spec.name,
            place=place,
            address=spec.address,
            status=spec.status,
            certifications=tuple(spec.certifications),
            external_ref=spec.external_ref,
            producer_class=parse_producer_class(spec.producer_class),
            pricing=PriceRule.from_dict(spec.pricing) if spec.pricing is not None else None,
            extra=dict(spec.extra),
        )
    except InvalidInput as exc:
        raise InvalidInput(f"{prefix}{exc.field}", exc.problem) from None


def register_producer(
    cmd: RegisterProducer, *, uow: UnitOfWork, clock: Clock, ids: IdSource, policy: Policy
) -> ProducerId:
    _operator_only(cmd.actor, "register producers")
    with uow:
        producer_id = _create(cmd.facility, uow=uow, clock=clock, ids=ids, policy=policy)
        uow.commit()
    return producer_id


def _create(
    spec: FacilitySpec, *, uow: UnitOfWork, clock: Clock, ids: IdSource, policy: Policy
) -> ProducerId:
    now = clock.now()
    producer = build_producer(spec, ident=ids.new(PREFIXES["producer"]))
    uow.producers.add(producer.registered(now))
    for i, mspec in enumerate(spec.machines):
        machine = build_machine(
            mspec,
            ident=ids.new(PREFIXES["machine"]),
            producer_id=producer.id,
            field=f"machines[{i}]",
            envelope=policy.machines,
        )
        uow.machines.add(machine.added(now))
    return producer.id


@dataclass(frozen=True)
class ImportReport:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def import_facilities(
    cmd: ImportFacilities, *, uow: UnitOfWork, clock: Clock, ids: IdSource, policy: Policy
) -> ImportReport:
    """Upsert by ``external_ref``: new records are created, changed ones updated (their
    machines replaced by name), identical ones left alone. All or nothing."""
    _operator_only(cmd.actor, "import producers")
    report = ImportReport([], [], [])
    with uow:
        for spec in cmd.facilities:
            if not spec.external_ref:
                raise InvalidInput("external_ref", "imported facilities need a stable id")
            found = uow.producers.by_external_ref(spec.external_ref)
            if found is None:
                report.created.append(_create(spec, uow=uow, clock=clock, ids=ids, policy=policy))
            elif _update_from(found, spec, uow=uow, clock=clock, ids=ids, policy=policy):
                report.updated.append(found.id)
            else:
                report.unchanged.append(found.id)
        uow.commit()
    return report


def _update_from(
    producer: Producer,
    spec: FacilitySpec,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdSource,
    policy: Policy,
) -> bool:
    wanted = build_producer(spec, ident=producer.id)
    changed = False
    for attr in ("name", "place", "address", "status", "certifications", "producer_class"):
        if getattr(producer, attr) != getattr(wanted, attr):
            setattr(producer, attr, getattr(wanted, attr))
            changed = True
    # only the notes an import writes are the record's; an enrolment code or a material
    # taken off by a decline belong to the hub and stay
    kept = {k: v for k, v in producer.extra.items() if k not in IMPORT_NOTES}
    merged = {**kept, **{k: v for k, v in wanted.extra.items() if k in IMPORT_NOTES}}
    if merged != producer.extra:
        producer.extra = merged
        changed = True
    machines = {m.name: m for m in uow.machines.of_producer(producer.id)}
    for i, mspec in enumerate(spec.machines):
        current = machines.get(mspec.name)
        new = build_machine(
            mspec,
            ident=current.id if current else ids.new(PREFIXES["machine"]),
            producer_id=producer.id,
            field=f"machines[{i}]",
            envelope=policy.machines,
        )
        if current is None:
            uow.machines.add(new.added(clock.now()))
            changed = True
            continue
        if new.status is MachineStatus.UNVERIFIED and current.status is not new.status:
            attrs: tuple[str, ...] = ("process", "make", "model", "nozzle_mm")  # confirmed: kept
        elif current.status is MachineStatus.UNVERIFIED and new.status is not current.status:
            current.confirm(new.build_volume, new.materials, clock.now())  # the record now says
            changed = True
            attrs = ("process", "make", "model", "nozzle_mm", "hours_per_day", "speed_factor")
        else:
            attrs = (
                "process",
                "make",
                "model",
                "build_volume",
                "materials",
                "nozzle_mm",
                "hours_per_day",
                "speed_factor",
                "capacity_flag",
            )
        for attr in attrs:
            if attr == "capacity_flag" and new.status is not MachineStatus.UNVERIFIED:
                continue  # a flag set by results stays until the operator clears it
            if getattr(current, attr) != getattr(new, attr):
                setattr(current, attr, getattr(new, attr))
                changed = True
    return changed


def update_producer(cmd: UpdateProducer, *, uow: UnitOfWork, clock: Clock) -> ProducerId:
    with uow:
        producer = _own_producer(uow, cmd.actor, cmd.producer_id)
        if cmd.name is not None:
            if not cmd.name.strip():
                raise InvalidInput("name", "must not be empty")
            producer.name = cmd.name
        if cmd.status is not None:
            producer.status = cmd.status
            if not producer.accepts_work:
                machines = [m.id for m in uow.machines.of_producer(producer.id)]
                strand_jobs(uow, machines, clock.now(), f"producer {cmd.status.value}")
        if cmd.certifications is not None:
            producer.certifications = tuple(cmd.certifications)
        if cmd.producer_class is not None:
            producer.producer_class = parse_producer_class(cmd.producer_class)
        if cmd.pricing is not None:
            producer.pricing = PriceRule.from_dict(cmd.pricing)
        uow.commit()
    return producer.id


def add_machine(
    cmd: AddMachine, *, uow: UnitOfWork, clock: Clock, ids: IdSource, policy: Policy
) -> MachineId:
    with uow:
        producer = _own_producer(uow, cmd.actor, cmd.producer_id)
        machine = build_machine(
            cmd.machine,
            ident=ids.new(PREFIXES["machine"]),
            producer_id=producer.id,
            field="machine",
            envelope=policy.machines,
        )
        uow.machines.add(machine.added(clock.now()))
        uow.commit()
    return machine.id


def confirm_machine(cmd: ConfirmMachine, *, uow: UnitOfWork, clock: Clock) -> MachineId:
    """The producer says what an import did not know (build volume, materials); an
    unverified machine becomes idle and is planned on from then."""
    with uow:
        machine = uow.machines.find(cmd.machine_id)
        if machine is None or not cmd.actor.owns_producer(machine.producer_id):
            raise NotFound("machine", cmd.machine_id)
        materials = tuple(
            parse_material(m, machine.process, f"materials[{i}]")
            for i, m in enumerate(cmd.materials)
        )
        try:
            volume = Box(*cmd.build_volume_mm)
        except InvalidInput as exc:
            raise InvalidInput(f"build_volume_mm.{exc.field}", exc.problem) from None
        machine.confirm(volume, materials, clock.now())
        MachineEnvelope().check(machine)
        uow.commit()
    return machine.id


def set_machine_status(cmd: SetMachineStatus, *, uow: UnitOfWork, clock: Clock) -> MachineId:
    """A machine that goes offline or into maintenance hands its work back: its running
    job fails (the units it made count), its other live jobs are cancelled, and the bus
    re-plans the units."""
    with uow:
        machine = uow.machines.find(cmd.machine_id)
        if machine is None or not cmd.actor.owns_producer(machine.producer_id):
            raise NotFound("machine", cmd.machine_id)
        if (
            MachineStatus.UNVERIFIED in (machine.status, cmd.status)
            and machine.status is not cmd.status
        ):
            raise Conflict(
                f"machine {machine.id!r} cannot go from {machine.status.value!r} to "
                f"{cmd.status.value!r}: an unverified machine leaves that state when its "
                "producer confirms its build volume and materials (machines confirm)"
            )
        machine.set_status(cmd.status, clock.now())
        if not machine.available:
            strand_jobs(uow, [machine.id], clock.now(), f"machine {cmd.status.value}")
        uow.commit()
    return machine.id


def strand_jobs(uow: UnitOfWork, machine_ids: Sequence[str], at: datetime, reason: str) -> int:
    """Give back the units of every live job on ``machine_ids``; returns jobs touched."""
    touched = 0
    for job in uow.jobs.live_on(machine_ids):
        if not job.is_live:
            continue
        order = uow.orders.get(job.order_id)
        units = job.units_open
        if job.state is JobState.RUNNING:
            job.fail(at, reason)
            if order.is_open:
                release_job_units(order, job, units, at, failed=True)
        else:
            job.cancel(at, reason)
            if order.is_open:
                release_job_units(order, job, units, at)
        touched += 1
    return touched

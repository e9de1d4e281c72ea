"""Quality: lots inspected by acceptance sampling (fabrication/sampling.py).

A finished job's units are its lot. The inspector asks for the plan (sample size, accept
and reject numbers for the lot and the AQL), inspects that many units and records how
many were nonconforming. An accepted lot stays made; a rejected one leaves the line and is
planned again on other producers' machines, the escrow pays nothing for it (the reactions
to UnitsRejected), and the maker's learned reliability takes a failure. Every inspection is
an event of the order, so it is in the log and in the provenance of the lot's units.
"""

from __future__ import annotations

import hashlib
import json

from fabnet.domain import events as ev
from fabnet.domain.access import Principal
from fabnet.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from fabnet.domain.jobs import Job
from fabnet.domain.states import JobState
from fabnet.fabrication.qualification import coupon_material, judge
from fabnet.fabrication.sampling import SamplingPlan, single_normal
from fabnet.services.commands import FlagJob, InspectLot, QualifyMachine
from fabnet.services.learning import learn_outcome
from fabnet.services.ports import BlobStore, Clock, Policy, UnitOfWork

MAX_NOTE = 500


def _finished_job(uow: UnitOfWork, actor: Principal, job_id: str) -> Job:
    if not actor.is_operator:
        raise Forbidden("only an operator (the inspector) inspects lots")
    job = uow.jobs.find(job_id)
    if job is None:
        raise NotFound("job", job_id)
    if job.state is not JobState.DONE or job.units_made < 1:
        raise Conflict(
            f"job {job.id!r} is {job.state.value}: only a finished job's lot can be inspected"
        )
    return job


def sampling_plan(uow: UnitOfWork, actor: Principal, job_id: str, aql: float) -> SamplingPlan:
    """The plan for a finished job's lot: how many units to inspect, Ac and Re."""
    with uow.reading():
        job = _finished_job(uow, actor, job_id)
    return single_normal(job.units_made, aql)


def _decided(uow: UnitOfWork, job: Job) -> ev.LotInspected | None:
    for event in uow.order_events(job.order_id, (ev.LotInspected,)):
        if isinstance(event, ev.LotInspected) and event.job_id == job.id:
            return event
    return None


def inspect_lot(cmd: InspectLot, *, uow: UnitOfWork, clock: Clock) -> ev.LotInspected:
    """Record an inspection and its decision; a lot is decided once."""
    if len(cmd.note) > MAX_NOTE:
        raise InvalidInput("note", f"at most {MAX_NOTE} characters")
    with uow:
        job = _finished_job(uow, cmd.actor, cmd.job_id)
        plan = single_normal(job.units_made, cmd.aql)
        if not 0 <= cmd.nonconforming <= plan.sample_size:
            raise InvalidInput(
                "nonconforming",
                f"{cmd.nonconforming} is not in 0..{plan.sample_size} (the sample size)",
            )
        earlier = _decided(uow, job)
        if earlier is not None:
            verdict = "accepted" if earlier.accepted else "rejected"
            raise Conflict(f"the lot of job {job.id!r} was already inspected and {verdict}")
        order = uow.orders.get(job.order_id)
        event = ev.LotInspected(
            at=clock.now(),
            order_id=order.id,
            line_id=job.line_id,
            job_id=job.id,
            producer_id=job.producer_id,
            lot_size=plan.lot_size,
            aql=plan.aql,
            code_letter=plan.code_letter,
            sample_size=plan.sample_size,
            accept=plan.accept,
            reject=plan.reject,
            nonconforming=cmd.nonconforming,
            accepted=plan.accepts(cmd.nonconforming),
            inspector=cmd.actor.id,
            note=cmd.note,
        )
        order.inspected(event)
        if not event.accepted:
            learn_outcome(uow, job.producer_id, job.machine_id, succeeded=False, at=event.at)
        uow.commit()
    return event


def flag_job(cmd: FlagJob, *, uow: UnitOfWork, clock: Clock, policy: Policy) -> bool:
    """Record a telemetry flag on a running job, with the action the policy takes (the
    agent is told to pause when it says so). False when the job no longer runs."""
    with uow:
        job = uow.jobs.find(cmd.job_id)
        if job is None or job.state is not JobState.RUNNING:
            return False
        job.flag(clock.now(), cmd.kind, cmd.detail, policy.anomaly_action)
        uow.commit()
    return True


MAX_PHOTO_BYTES = 10 << 20


def qualify_machine(
    cmd: QualifyMachine, *, uow: UnitOfWork, clock: Clock, blobs: BlobStore, policy: Policy
) -> ev.MachineQualified:
    """Judge a machine's test coupon by the tolerance rules of its process and the
    material it was printed in; a pass puts the machine on probation (policy.probation).
    A photo, when given, is kept content-addressed and its hash logged with the verdict."""
    if len(cmd.photo) > MAX_PHOTO_BYTES:
        raise InvalidInput("photo", f"at most {MAX_PHOTO_BYTES >> 20} MiB")
    photo_hash = hashlib.sha256(cmd.photo).hexdigest() if cmd.photo else ""
    with uow:
        machine = uow.machines.find(cmd.machine_id)
        if machine is None or not cmd.actor.owns_producer(machine.producer_id):
            raise NotFound("machine", cmd.machine_id)
        material = coupon_material(machine.process, cmd.material, machine.materials)
        tolerances = policy.coupon_tolerances.of(machine.process, material)
        verdict = judge(cmd.measurements, tolerances)
        terms = policy.probation.start() if verdict.passed else None
        event = ev.MachineQualified(
            at=clock.now(),
            machine_id=machine.id,
            producer_id=machine.producer_id,
            passed=verdict.passed,
            failed_features=",".join(verdict.failed),
            measurements=json.dumps({c.feature: c.measured_mm for c in verdict.checks}),
            photo_hash=photo_hash,
            material=material,
            probation_jobs=terms.jobs if terms else 0,
        )
        if cmd.photo and not blobs.exists(photo_hash):
            blobs.put(photo_hash, cmd.photo)
        machine.qualified(event.at, event, policy.probation)
        uow.commit()
    return event

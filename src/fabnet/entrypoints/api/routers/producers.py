"""/producers and /machines."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fabnet.bootstrap import App
from fabnet.domain.errors import InvalidInput, NotFound
from fabnet.domain.ids import JobId, MachineId, ProducerId
from fabnet.domain.reliability import ReliabilityPrior
from fabnet.domain.states import FacilityStatus, MachineStatus
from fabnet.entrypoints.api.deps import Bus, Caller, Paging, Uow, get_app
from fabnet.entrypoints.api.schemas.common import PageOut, Strict, paged
from fabnet.entrypoints.api.schemas.producers import (
    BeliefOut,
    EnrolIn,
    EnrolOut,
    InviteIn,
    InviteOut,
    MachineBeliefOut,
    MachineCommandIn,
    MachineCommandOut,
    MachineConfirmIn,
    MachineIn,
    MachineLiveOut,
    MachineOut,
    MachineStatusIn,
    ProbationOut,
    ProducerIn,
    ProducerOut,
    ProducerPatch,
    ReliabilityOut,
    RestockIn,
)
from fabnet.services import commands as cmd
from fabnet.services import views
from fabnet.services.paging import Page

router = APIRouter(tags=["producers"])


def reliability_of(uow: Uow, caller: Caller, producer_id: str, now: datetime) -> ReliabilityOut:
    prior = ReliabilityPrior()
    producer = views.get_producer(uow, caller, producer_id)
    machines = views.list_machines(uow, caller, Page(500, 0), producer_id=producer.id).items
    return ReliabilityOut(
        producer_id=producer.id,
        prior={
            "successes": prior.successes,
            "failures": prior.failures,
            "half_life_days": prior.half_life_days,
        },
        producer=BeliefOut.of(producer.belief, prior, now),
        machines=[
            MachineBeliefOut(
                machine_id=m.id, name=m.name, **BeliefOut.of(m.belief, prior, now).model_dump()
            )
            for m in machines
        ],
    )


@router.post("/producers", status_code=201, response_model=ProducerOut)
def register_producer(body: ProducerIn, bus: Bus, uow: Uow, caller: Caller) -> ProducerOut:
    producer_id = bus.handle(cmd.RegisterProducer(caller, body.spec()))
    return ProducerOut.of(views.get_producer(uow, caller, producer_id))


@router.get("/producers", response_model=PageOut[ProducerOut])
def list_producers(
    uow: Uow,
    caller: Caller,
    page: Paging,
    status: Annotated[FacilityStatus | None, Query()] = None,
) -> PageOut[ProducerOut]:
    found = views.list_producers(uow, caller, page, status=status)
    return paged(found, ProducerOut.of)


@router.get("/producers/{producer_id}", response_model=ProducerOut)
def get_producer(producer_id: ProducerId, uow: Uow, caller: Caller) -> ProducerOut:
    return ProducerOut.of(views.get_producer(uow, caller, producer_id))


@router.patch("/producers/{producer_id}", response_model=ProducerOut)
def update_producer(
    producer_id: ProducerId, body: ProducerPatch, bus: Bus, uow: Uow, caller: Caller
) -> ProducerOut:
    bus.handle(
        cmd.UpdateProducer(
            caller,
            producer_id,
            name=body.name,
            status=body.status,
            certifications=tuple(body.certifications) if body.certifications is not None else None,
            producer_class=body.producer_class,
            pricing=body.pricing.model_dump() if body.pricing else None,
        )
    )
    return ProducerOut.of(views.get_producer(uow, caller, producer_id))


@router.get("/producers/{producer_id}/reliability", response_model=ReliabilityOut)
def reliability(
    producer_id: ProducerId, uow: Uow, caller: Caller, app: Annotated[App, Depends(get_app)]
) -> ReliabilityOut:
    """What the hub has learned of the producer and each of its machines: the chance a
    job succeeds (made, on time, passed inspection), with its 90% credible interval."""
    return reliability_of(uow, caller, producer_id, app.clock.now())


@router.post("/producers/{producer_id}/invite", status_code=201, response_model=InviteOut)
def invite_producer(producer_id: ProducerId, body: InviteIn, bus: Bus, caller: Caller) -> InviteOut:
    """A one-time enrolment code for the producer (an imported one has no key yet): the
    producer exchanges it at POST /enrol for its API key. A new code replaces the last."""
    found = bus.handle(cmd.InviteProducer(caller, producer_id, body.ttl_s))
    return InviteOut(producer_id=found.producer_id, code=found.code, expires_at=found.expires_at)


@router.post("/enrol", status_code=201, response_model=EnrolOut)
def enrol(body: EnrolIn, bus: Bus) -> EnrolOut:
    """Exchange an enrolment code for the producer's API key (no key needed; the code is
    the credential, and works once)."""
    done = bus.handle(cmd.Enrol(body.code))
    return EnrolOut(
        producer_id=done.producer_id,
        key_id=done.key.key_id,
        principal_id=done.key.principal_id,
        secret=done.key.secret,
    )


@router.post("/producers/{producer_id}/restock", response_model=ProducerOut)
def restock(
    producer_id: ProducerId, body: RestockIn, bus: Bus, uow: Uow, caller: Caller
) -> ProducerOut:
    """The material is back: it returns to the machines an out-of-material decline took
    it off."""
    bus.handle(cmd.RestockMaterial(caller, producer_id, body.material))
    return ProducerOut.of(views.get_producer(uow, caller, producer_id))


@router.post("/producers/{producer_id}/machines", status_code=201, response_model=MachineOut)
def add_machine(
    producer_id: ProducerId, body: MachineIn, bus: Bus, uow: Uow, caller: Caller
) -> MachineOut:
    machine_id = bus.handle(cmd.AddMachine(caller, producer_id, body.spec()))
    return MachineOut.of(views.get_machine(uow, caller, machine_id))


@router.get("/machines", response_model=PageOut[MachineOut], tags=["machines"])
def list_machines(
    uow: Uow,
    caller: Caller,
    page: Paging,
    producer_id: Annotated[str | None, Query(max_length=40)] = None,
    process: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[MachineStatus | None, Query()] = None,
    flagged: Annotated[
        bool | None, Query(description="only machines whose capacity is in doubt")
    ] = None,
) -> PageOut[MachineOut]:
    found = views.list_machines(
        uow,
        caller,
        page,
        producer_id=producer_id,
        process=process,
        status=status,
        flagged=flagged,
    )
    return paged(found, MachineOut.of)


@router.get("/machines/{machine_id}", response_model=MachineOut, tags=["machines"])
def get_machine(machine_id: MachineId, uow: Uow, caller: Caller) -> MachineOut:
    return MachineOut.of(views.get_machine(uow, caller, machine_id))


@router.post("/machines/{machine_id}/status", response_model=MachineOut, tags=["machines"])
def set_machine_status(
    machine_id: MachineId, body: MachineStatusIn, bus: Bus, uow: Uow, caller: Caller
) -> MachineOut:
    bus.handle(cmd.SetMachineStatus(caller, machine_id, body.status))
    return MachineOut.of(views.get_machine(uow, caller, machine_id))


@router.post("/machines/{machine_id}/confirm", response_model=MachineOut, tags=["machines"])
def confirm_machine(
    machine_id: MachineId, body: MachineConfirmIn, bus: Bus, uow: Uow, caller: Caller
) -> MachineOut:
    """Its producer states the build volume and materials of a machine an import left
    unverified; it is planned on from then."""
    bus.handle(cmd.ConfirmMachine(caller, machine_id, body.build_volume_mm, tuple(body.materials)))
    return MachineOut.of(views.get_machine(uow, caller, machine_id))


@router.post(
    "/machines/{machine_id}/commands",
    status_code=202,
    response_model=MachineCommandOut,
    tags=["machines"],
)
def command_machine(
    machine_id: MachineId, body: MachineCommandIn, bus: Bus, caller: Caller
) -> MachineCommandOut:
    """Pause, resume or cancel at the machine, or say its bed is clear: sent to the
    producer's agent; the job's state follows when the agent reports."""
    command_id = bus.handle(
        cmd.SendMachineCommand(
            caller, machine_id, body.type, JobId(body.job_id) if body.job_id else None, body.reason
        )
    )
    return MachineCommandOut(command_id=command_id)


@router.get("/machines/{machine_id}/live", response_model=MachineLiveOut, tags=["machines"])
def machine_live(
    machine_id: MachineId, uow: Uow, caller: Caller, app: Annotated[App, Depends(get_app)]
) -> MachineLiveOut:
    """The machine's latest telemetry, as the hub last heard it."""
    views.get_machine(uow, caller, machine_id)  # 404 unless the caller may see it
    live = app.telemetry.get(machine_id)
    if live is None:
        raise NotFound("telemetry of machine", machine_id)
    return MachineLiveOut(
        machine_id=live.machine_id,
        seen_at=live.seen_at,
        state=live.state,
        job_id=live.job_id,
        progress=live.progress,
        temps=live.temps,
        messages=live.messages,
    )


class QualificationIn(Strict):
    measurements: dict[str, float] = Field(
        description="caliper measurements of the printed test coupon, mm, by feature",
        examples=[{"length_mm": 40.1, "hole_6_mm": 5.8}],
    )
    photo_base64: str = Field(default="", max_length=14_000_000)
    material: str = Field(
        default="", max_length=40, description="what it was printed in; '' = its first material"
    )


class QualificationOut(BaseModel):
    machine_id: str
    passed: bool
    failed_features: list[str]
    photo_hash: str
    status: MachineStatus
    material: str
    probation: ProbationOut | None


@router.get(
    "/qualification/coupon.stl",
    tags=["machines"],
    response_class=Response,
    responses={200: {"content": {"model/stl": {}}, "description": "the coupon, binary STL"}},
)
def coupon() -> Response:
    """fabnet's test coupon: print it on a new machine and measure it with a caliper."""
    from fabnet.adapters.geometry.coupon import coupon_stl

    return Response(
        coupon_stl(),
        media_type="model/stl",
        headers={"Content-Disposition": 'attachment; filename="fabnet-coupon.stl"'},
    )


@router.post(
    "/machines/{machine_id}/qualification", response_model=QualificationOut, tags=["machines"]
)
def qualify(
    machine_id: MachineId, body: QualificationIn, bus: Bus, uow: Uow, caller: Caller
) -> QualificationOut:
    """Judge the coupon's measurements by the tolerance rules: a failed coupon keeps the
    machine out of planning until one passes. The photo is stored by its hash."""
    import base64
    import binascii

    try:
        photo = base64.b64decode(body.photo_base64, validate=True) if body.photo_base64 else b""
    except (binascii.Error, ValueError):
        raise InvalidInput("photo_base64", "not base64") from None
    done = bus.handle(
        cmd.QualifyMachine(caller, machine_id, dict(body.measurements), photo, body.material)
    )
    machine = views.get_machine(uow, caller, machine_id)
    return QualificationOut(
        machine_id=done.machine_id,
        passed=done.passed,
        failed_features=[f for f in done.failed_features.split(",") if f],
        photo_hash=done.photo_hash,
        status=machine.status,
        material=done.material,
        probation=ProbationOut.of(machine.probation) if machine.probation else None,
    )

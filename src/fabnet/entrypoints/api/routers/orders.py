"""/orders and /jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fabnet.bootstrap import App
from fabnet.domain.errors import Forbidden
from fabnet.domain.ids import JobId, OrderId, ProducerId
from fabnet.domain.states import JobState, OrderState
from fabnet.entrypoints.api.deps import Bus, Caller, Heavy, Paging, Uow, get_app
from fabnet.entrypoints.api.schemas.common import PageOut, Strict, paged
from fabnet.entrypoints.api.schemas.orders import (
    AcceptIn,
    DecisionIn,
    DeclineIn,
    EscrowIn,
    FailIn,
    FinishIn,
    JobOut,
    OrderIn,
    OrderOut,
    PlanOut,
    ReasonIn,
    RejectIn,
)
from fabnet.services import commands as cmd
from fabnet.services import views
from fabnet.services.escrow import escrow_view

router = APIRouter()


@router.post("/orders", status_code=201, response_model=OrderOut, tags=["orders"])
def place_order(body: OrderIn, bus: Bus, uow: Uow, caller: Caller) -> OrderOut:
    order_id = bus.handle(
        cmd.PlaceOrder(
            actor=caller,
            lines=tuple(
                line.request(f"lines[{i}].destination") for i, line in enumerate(body.lines)
            ),
            priority=body.priority,
            reference=body.reference,
        )
    )
    return OrderOut.of(views.get_order(uow, caller, order_id))


@router.get("/orders", response_model=PageOut[OrderOut], tags=["orders"])
def list_orders(
    uow: Uow,
    caller: Caller,
    page: Paging,
    state: Annotated[OrderState | None, Query()] = None,
    consumer_id: Annotated[str | None, Query(max_length=40)] = None,
) -> PageOut[OrderOut]:
    found = views.list_orders(uow, caller, page, state=state, consumer_id=consumer_id)
    return paged(found, OrderOut.of)


@router.get("/orders/{order_id}", response_model=OrderOut, tags=["orders"])
def get_order(order_id: OrderId, uow: Uow, caller: Caller) -> OrderOut:
    return OrderOut.of(views.get_order(uow, caller, order_id))


@router.get("/orders/{order_id}/provenance", tags=["orders"])
async def order_provenance(
    order_id: OrderId, uow: Uow, caller: Caller, heavy: Heavy, app: Annotated[App, Depends(get_app)]
) -> dict[str, Any]:
    """Every logged entry about the order, each with its tlog-proof against one
    cosigned checkpoint: verify offline with `fabnet verify`."""
    await run_in_threadpool(views.get_order, uow, caller, order_id)  # 404 unless yours
    bundle: dict[str, Any] = await heavy.run(caller.id, app.ledger().provenance, order_id)
    return bundle


@router.post("/orders/{order_id}/escrow", status_code=201, tags=["escrow"])
def fund_escrow(order_id: OrderId, body: EscrowIn, bus: Bus, caller: Caller) -> dict[str, Any]:
    """Fund the order's escrow (the consumer, or an operator for them)."""
    result: dict[str, Any] = bus.handle(cmd.FundEscrow(caller, order_id, **body.model_dump()))
    return result


@router.get("/orders/{order_id}/escrow", tags=["escrow"])
def get_escrow(order_id: OrderId, uow: Uow, caller: Caller) -> dict[str, Any]:
    """The consumer sees the whole escrow; a producer with a job of the order sees the
    terms and its own part."""
    return escrow_view(uow, caller, order_id)


@router.post("/orders/{order_id}/escrow/accept", tags=["escrow"])
def accept_delivery(order_id: OrderId, bus: Bus, caller: Caller) -> dict[str, Any]:
    result: dict[str, Any] = bus.handle(cmd.AcceptDelivery(caller, order_id))
    return result


@router.post("/orders/{order_id}/escrow/dispute", tags=["escrow"])
def open_dispute(order_id: OrderId, body: ReasonIn, bus: Bus, caller: Caller) -> dict[str, Any]:
    result: dict[str, Any] = bus.handle(cmd.OpenDispute(caller, order_id, body.reason))
    return result


@router.post("/orders/{order_id}/escrow/decide", tags=["escrow"])
def decide_dispute(order_id: OrderId, body: DecisionIn, bus: Bus, caller: Caller) -> dict[str, Any]:
    result: dict[str, Any] = bus.handle(
        cmd.DecideDispute(caller, order_id, body.producer_share_permille)
    )
    return result


@router.post("/orders/{order_id}/escrow/reject-units", tags=["escrow"])
def reject_units(order_id: OrderId, body: RejectIn, bus: Bus, caller: Caller) -> dict[str, Any]:
    result: dict[str, Any] = bus.handle(
        cmd.RejectUnits(caller, order_id, ProducerId(body.producer_id), body.units)
    )
    return result


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"])
def cancel_order(order_id: OrderId, body: ReasonIn, bus: Bus, uow: Uow, caller: Caller) -> OrderOut:
    bus.handle(cmd.CancelOrder(caller, order_id, body.reason))
    return OrderOut.of(views.get_order(uow, caller, order_id))


@router.post("/plan", response_model=PlanOut, tags=["orders"])
async def plan_open_orders(bus: Bus, caller: Caller, heavy: Heavy) -> PlanOut:
    if not caller.is_operator:
        raise Forbidden("only an operator runs the planner by hand")
    report = await heavy.run(caller.id, bus.handle, cmd.PlanOrders())
    return PlanOut(
        orders=report.orders,
        jobs_offered=len(report.jobs_offered),
        units_assigned=report.units_assigned,
        units_unmet=report.units_unmet,
        unmet=report.unmet,
    )


@router.get("/jobs", response_model=PageOut[JobOut], tags=["jobs"])
def list_jobs(
    uow: Uow,
    caller: Caller,
    page: Paging,
    state: Annotated[JobState | None, Query()] = None,
    machine_id: Annotated[str | None, Query(max_length=40)] = None,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    producer_id: Annotated[str | None, Query(max_length=40)] = None,
) -> PageOut[JobOut]:
    found = views.list_jobs(
        uow,
        caller,
        page,
        state=state,
        machine_id=machine_id,
        order_id=order_id,
        producer_id=producer_id,
    )
    return paged(found, JobOut.of)


@router.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"])
def get_job(job_id: JobId, uow: Uow, caller: Caller) -> JobOut:
    """The job, with the escrow terms its producer accepts by accepting it."""
    job = views.get_job(uow, caller, job_id)
    terms, digest = views.job_terms(uow, job)
    return JobOut.of(job).model_copy(update={"escrow_terms": terms, "terms_digest": digest})


def _job_step(job_id: JobId, command: cmd.Command, bus: Bus, uow: Uow, caller: Caller) -> JobOut:
    bus.handle(command)
    return JobOut.of(views.get_job(uow, caller, job_id))


@router.post("/jobs/{job_id}/accept", response_model=JobOut, tags=["jobs"])
def accept_job(
    job_id: JobId, bus: Bus, uow: Uow, caller: Caller, body: AcceptIn | None = None
) -> JobOut:
    """Accept the job and with it the order's escrow terms; give the ``terms_digest``
    read with the offer and the hub refuses (409) if the terms changed since."""
    digest = body.terms_digest if body else ""
    return _job_step(job_id, cmd.AcceptJob(caller, job_id, digest), bus, uow, caller)


@router.post("/jobs/{job_id}/decline", response_model=JobOut, tags=["jobs"])
def decline_job(job_id: JobId, body: DeclineIn, bus: Bus, uow: Uow, caller: Caller) -> JobOut:
    """Decline an offer, saying why: the reason updates what the planner knows, so the
    next plan does not repeat the offer."""
    return _job_step(
        job_id, cmd.DeclineJob(caller, job_id, body.reason, body.kind), bus, uow, caller
    )


@router.post("/jobs/{job_id}/queue", response_model=JobOut, tags=["jobs"])
def queue_job(job_id: JobId, bus: Bus, uow: Uow, caller: Caller) -> JobOut:
    return _job_step(job_id, cmd.QueueJob(caller, job_id), bus, uow, caller)


@router.post("/jobs/{job_id}/start", response_model=JobOut, tags=["jobs"])
def start_job(job_id: JobId, bus: Bus, uow: Uow, caller: Caller) -> JobOut:
    return _job_step(job_id, cmd.StartJob(caller, job_id), bus, uow, caller)


@router.post("/jobs/{job_id}/finish", response_model=JobOut, tags=["jobs"])
def finish_job(
    job_id: JobId, bus: Bus, uow: Uow, caller: Caller, body: FinishIn | None = None
) -> JobOut:
    body = body or FinishIn()
    command = cmd.FinishJob(caller, job_id, body.material_lot, body.profile_hash)
    return _job_step(job_id, command, bus, uow, caller)


@router.post("/jobs/{job_id}/fail", response_model=JobOut, tags=["jobs"])
def fail_job(job_id: JobId, body: FailIn, bus: Bus, uow: Uow, caller: Caller) -> JobOut:
    command = cmd.FailJob(caller, job_id, body.cause, body.units_made)
    return _job_step(job_id, command, bus, uow, caller)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, tags=["jobs"])
def cancel_job(job_id: JobId, body: ReasonIn, bus: Bus, uow: Uow, caller: Caller) -> JobOut:
    return _job_step(job_id, cmd.CancelJob(caller, job_id, body.reason), bus, uow, caller)


class SamplingPlanOut(BaseModel):
    lot_size: int
    aql: float
    code_letter: str
    sample_size: int = Field(
        description="units to inspect (the whole lot when the plan's n reaches it)"
    )
    accept: int = Field(description="Ac: accept with at most this many nonconforming")
    reject: int = Field(description="Re: reject with this many or more")
    full_inspection: bool
    inspection: str = "ISO 2859-1 single sampling, normal inspection, general level II"


class InspectionIn(Strict):
    aql: float = Field(examples=[2.5], allow_inf_nan=False)
    nonconforming: int = Field(ge=0, le=10_000_000)
    note: str = Field(default="", max_length=500)


class InspectionOut(SamplingPlanOut):
    job_id: str
    nonconforming: int
    accepted: bool
    inspected_at: datetime


@router.get("/jobs/{job_id}/sampling-plan", response_model=SamplingPlanOut, tags=["quality"])
def sampling_plan(
    job_id: JobId,
    uow: Uow,
    caller: Caller,
    aql: Annotated[float, Query(description="acceptable quality limit, percent nonconforming")],
) -> SamplingPlanOut:
    """How many units of a finished job's lot to inspect, and the accept/reject numbers."""
    from fabnet.services.quality import sampling_plan as plan_for

    plan = plan_for(uow, caller, job_id, aql)
    return SamplingPlanOut(
        lot_size=plan.lot_size,
        aql=plan.aql,
        code_letter=plan.code_letter,
        sample_size=plan.sample_size,
        accept=plan.accept,
        reject=plan.reject,
        full_inspection=plan.full_inspection,
    )


@router.post(
    "/jobs/{job_id}/inspection", status_code=201, response_model=InspectionOut, tags=["quality"]
)
def inspect(job_id: JobId, body: InspectionIn, bus: Bus, caller: Caller) -> InspectionOut:
    """Record what the sample showed: the lot is accepted, or rejected and made again
    elsewhere (and paid nothing). Once per lot."""
    done = bus.handle(cmd.InspectLot(caller, job_id, body.aql, body.nonconforming, body.note))
    return InspectionOut(
        job_id=done.job_id,
        lot_size=done.lot_size,
        aql=done.aql,
        code_letter=done.code_letter,
        sample_size=done.sample_size,
        accept=done.accept,
        reject=done.reject,
        full_inspection=done.sample_size >= done.lot_size,
        nonconforming=done.nonconforming,
        accepted=done.accepted,
        inspected_at=done.at,
    )

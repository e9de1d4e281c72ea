"""``fabnet orders|jobs ...``: orders and the jobs that make them, as the operator (heavy
modules load inside the command that needs them)."""

from __future__ import annotations

from typing import Annotated

import typer

from fabnet.domain.ids import DesignId, JobId, OrderId
from fabnet.domain.states import DeclineReason, JobState, OrderState, ReviewStatus
from fabnet.entrypoints.cli.common import (
    CLI_OPERATOR,
    Json,
    Limit,
    Offset,
    cmd,
    emit_json,
    fail,
    out,
    show_items,
    show_one,
    wired,
)
from fabnet.services.paging import Page

orders = typer.Typer(rich_markup_mode=None, help="Orders: list, show, cancel, plan.")
jobs = typer.Typer(rich_markup_mode=None, help="Jobs: units of an order line on one machine.")


@orders.command("list")
def orders_list(
    state: Annotated[OrderState | None, typer.Option()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    as_json: Json = False,
) -> None:
    from fabnet.entrypoints.api.schemas.orders import OrderOut
    from fabnet.services import views

    with wired() as app:
        found = views.list_orders(app.new_uow(), CLI_OPERATOR, Page(limit, offset), state=state)
        show_items(
            [OrderOut.of(o) for o in found.items],
            ["id", "state", "reference", "quantity", "units_made", "priority"],
            as_json=as_json,
            total=found.total,
        )


@orders.command("create")
def orders_create(
    design_id: Annotated[str, typer.Option("--design", help="the design's id")],
    quantity: Annotated[int, typer.Option(min=1, help="units")],
    deadline: Annotated[str, typer.Option(help="ISO 8601 with a timezone, e.g. 2026-12-20T12:00Z")],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="destination: a city, optionally ', COUNTRY' (e.g. 'Nairobi, KE')"
        ),
    ] = "",
    lat: Annotated[
        float | None, typer.Option(help="destination latitude (instead of --to)")
    ] = None,
    lon: Annotated[float | None, typer.Option(help="destination longitude")] = None,
    material: Annotated[str, typer.Option(help="e.g. PLA")] = "PLA",
    priority: Annotated[int, typer.Option(min=0, max=9)] = 0,
    min_review: Annotated[
        ReviewStatus, typer.Option(help="plan only once the design is reviewed this far")
    ] = ReviewStatus.NOT_REVIEWED,
    reference: str = "",
    as_json: Json = False,
) -> None:
    """Place an order of one line and plan it (as the operator, for a consumer without the API)."""
    from datetime import datetime

    from fabnet.entrypoints.api.schemas.orders import OrderOut
    from fabnet.services import views

    try:
        due = datetime.fromisoformat(deadline.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--deadline: {deadline!r} is not an ISO 8601 date and time", 2) from None
    if due.tzinfo is None:
        raise fail("--deadline: give a timezone, e.g. 2026-12-20T12:00+00:00", 2)
    if (lat is None) != (lon is None):
        raise fail("--lat and --lon go together", 2)
    if lat is None and not to.strip():
        raise fail("give the destination: --to CITY[, COUNTRY] or --lat and --lon", 2)
    with wired() as app:
        if lat is not None and lon is not None:
            where = (lat, lon)
        else:
            from fabnet.adapters.places import resolve_place, split_place

            city, country = split_place(to)
            where = resolve_place(city, country, "--to")
        line = cmd.LineRequest(
            DesignId(design_id), material, quantity, due, where[0], where[1], min_review
        )
        order_id = app.bus().handle(
            cmd.PlaceOrder(CLI_OPERATOR, (line,), priority=priority, reference=reference)
        )
        show_one(
            OrderOut.of(views.get_order(app.new_uow(), CLI_OPERATOR, order_id)), as_json=as_json
        )


@orders.command("show")
def orders_show(order_id: str, as_json: Json = False) -> None:
    from fabnet.entrypoints.api.schemas.orders import OrderOut
    from fabnet.services import views

    with wired() as app:
        show_one(
            OrderOut.of(views.get_order(app.new_uow(), CLI_OPERATOR, order_id)), as_json=as_json
        )


@orders.command("cancel")
def orders_cancel(order_id: str, reason: str = "", as_json: Json = False) -> None:
    from fabnet.entrypoints.api.schemas.orders import OrderOut
    from fabnet.services import views

    with wired() as app:
        app.bus().handle(cmd.CancelOrder(CLI_OPERATOR, OrderId(order_id), reason))
        show_one(
            OrderOut.of(views.get_order(app.new_uow(), CLI_OPERATOR, order_id)), as_json=as_json
        )


@orders.command("plan")
def orders_plan(as_json: Json = False) -> None:
    """Plan every open order's unallocated units now."""
    with wired() as app:
        report = app.bus().handle(cmd.PlanOrders())
    data = {
        "orders": report.orders,
        "jobs_offered": len(report.jobs_offered),
        "units_assigned": report.units_assigned,
        "units_unmet": report.units_unmet,
        "unmet": report.unmet,
    }
    if as_json:
        emit_json(data)
    else:
        out.print(
            f"{data['orders']} orders: {data['units_assigned']} units in "
            f"{data['jobs_offered']} offers, {data['units_unmet']} unmet"
        )
        for line_id, reason in report.unmet.items():
            out.print(f"  {line_id}: {reason}")


@jobs.command("list")
def jobs_list(
    state: Annotated[JobState | None, typer.Option()] = None,
    producer_id: Annotated[str | None, typer.Option()] = None,
    order_id: Annotated[str | None, typer.Option()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    as_json: Json = False,
) -> None:
    from fabnet.entrypoints.api.schemas.orders import JobOut
    from fabnet.services import views

    with wired() as app:
        found = views.list_jobs(
            app.new_uow(),
            CLI_OPERATOR,
            Page(limit, offset),
            state=state,
            producer_id=producer_id,
            order_id=order_id,
        )
        show_items(
            [JobOut.of(j) for j in found.items],
            ["id", "order_id", "machine_id", "units", "state", "units_made"],
            as_json=as_json,
            total=found.total,
        )


@jobs.command("decline")
def jobs_decline(
    job_id: str,
    kind: Annotated[
        DeclineReason, typer.Option(help="why: it changes what the planner knows")
    ] = DeclineReason.OTHER,
    reason: Annotated[str, typer.Option(help="free text")] = "",
    as_json: Json = False,
) -> None:
    """Decline an offer for a producer without an agent (as the operator)."""
    from fabnet.entrypoints.api.schemas.orders import JobOut
    from fabnet.services import views

    with wired() as app:
        app.bus().handle(cmd.DeclineJob(CLI_OPERATOR, JobId(job_id), reason, kind))
        show_one(JobOut.of(views.get_job(app.new_uow(), CLI_OPERATOR, job_id)), as_json=as_json)


@jobs.command("inspect")
def jobs_inspect(
    job_id: str,
    aql: Annotated[float, typer.Option(help="acceptable quality limit, percent")],
    nonconforming: Annotated[
        int | None, typer.Option(min=0, help="found in the sample; leave out to see the plan")
    ] = None,
    note: str = "",
    as_json: Json = False,
) -> None:
    """Inspect a finished job's lot: without --nonconforming, print the sampling plan
    (ISO 2859-1, normal, level II); with it, record the result and the decision."""
    from fabnet.services.quality import sampling_plan

    with wired() as app:
        if nonconforming is None:
            plan = sampling_plan(app.new_uow(), CLI_OPERATOR, job_id, aql)
            data: dict[str, object] = {
                "lot_size": plan.lot_size,
                "code_letter": plan.code_letter,
                "sample_size": plan.sample_size,
                "accept": plan.accept,
                "reject": plan.reject,
                "full_inspection": plan.full_inspection,
            }
        else:
            done = app.bus().handle(
                cmd.InspectLot(CLI_OPERATOR, JobId(job_id), aql, nonconforming, note)
            )
            data = {
                "lot_size": done.lot_size,
                "sample_size": done.sample_size,
                "nonconforming": done.nonconforming,
                "accept": done.accept,
                "accepted": done.accepted,
            }
    if as_json:
        emit_json(data)
    else:
        for key, value in data.items():
            out.print(f"{key}: {value}", highlight=False, markup=False)


@jobs.command("show")
def jobs_show(job_id: str, as_json: Json = False) -> None:
    from fabnet.entrypoints.api.schemas.orders import JobOut
    from fabnet.services import views

    with wired() as app:
        show_one(JobOut.of(views.get_job(app.new_uow(), CLI_OPERATOR, job_id)), as_json=as_json)

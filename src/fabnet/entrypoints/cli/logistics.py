"""``fabnet couriers|shipments ...``: who carries the parcels, routing waves, each step."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fabnet.entrypoints.cli.common import (
    CLI_OPERATOR,
    Json,
    cmd,
    emit_json,
    fail,
    out,
    wired,
)

couriers = typer.Typer(rich_markup_mode=None, help="Couriers: add, list, show a route.")
shipments = typer.Typer(
    rich_markup_mode=None, help="Shipments: plan a routing wave, list an order's, record a step."
)


@couriers.command("add")
def couriers_add(
    name: Annotated[str, typer.Argument(help="who it is")],
    mode: Annotated[str, typer.Option(help="van, ev_van, cargo_bike, ride_share or drone")],
    at: Annotated[str, typer.Option("--at", help="its base (hub): 'CITY[, COUNTRY]'")] = "",
    lat: Annotated[float | None, typer.Option(help="base latitude (instead of --at)")] = None,
    lon: Annotated[float | None, typer.Option(help="base longitude")] = None,
    as_json: Json = False,
) -> None:
    """Register a courier based at a hub (its routes start and end there)."""
    if (lat is None) != (lon is None):
        raise fail("--lat and --lon go together", 2)
    if lat is None and not at.strip():
        raise fail("give the base: --at CITY[, COUNTRY] or --lat and --lon", 2)
    with wired() as app:
        if lat is not None and lon is not None:
            where = (lat, lon)
        else:
            from fabnet.adapters.places import resolve_place, split_place

            city, country = split_place(at)
            where = resolve_place(city, country, "--at")
        courier_id = app.bus().handle(
            cmd.RegisterCourier(CLI_OPERATOR, name, mode, where[0], where[1])
        )
    if as_json:
        emit_json({"id": courier_id, "lat": where[0], "lon": where[1]})
    else:
        out.print(f"courier {courier_id} ({mode}) at {where[0]:.4f}, {where[1]:.4f}")
        out.print(
            f"its key: fabnet keys create --role courier --courier-id {courier_id} --name ..."
        )


@couriers.command("list")
def couriers_list(as_json: Json = False) -> None:
    from fabnet.services import shipments as svc
    from fabnet.services.paging import Page

    with wired() as app:
        found = svc.list_couriers(app.new_uow(), CLI_OPERATOR, Page(limit=500))
    rows = [
        {"id": c.id, "name": c.name, "mode": c.mode, "lat": c.base.lat, "lon": c.base.lon}
        for c in found.items
    ]
    if as_json:
        emit_json({"items": rows, "total": found.total})
        return
    for r in rows:
        out.print(f"{r['id']}  {r['mode']:<10} {r['lat']:.4f},{r['lon']:.4f}  {r['name']}")


@couriers.command("route")
def couriers_route(courier_id: str, as_json: Json = False) -> None:
    """The courier's stops in order."""
    from fabnet.services import shipments as svc

    with wired() as app:
        route = svc.courier_route(app.new_uow(), CLI_OPERATOR, courier_id)
    if as_json:
        emit_json(route)
        return
    out.print(f"{route['courier_id']} ({route['mode']}): {len(route['stops'])} stops")
    for s in route["stops"]:
        out.print(
            f"  {s['eta'][:16]}  {s['action']:<11} {s['shipment_id']}  "
            f"{s['units']} units, {s['mass_g'] / 1000:.1f} kg  at {s['lat']:.4f},{s['lon']:.4f}"
        )


@shipments.command("plan")
def shipments_plan(
    budget_s: Annotated[
        float | None, typer.Option(min=0.01, max=600, help="the solver's time (s)")
    ] = None,
    as_json: Json = False,
) -> None:
    """Run a routing wave now."""
    with wired() as app:
        report = app.bus().handle(cmd.PlanShipments(CLI_OPERATOR, budget_s=budget_s))
    data: dict[str, Any] = {
        "planned": report.planned,
        "waiting": report.waiting,
        "routes": [r.as_dict() for r in report.routes],
        "seconds": round(report.seconds, 3),
    }
    if as_json:
        emit_json(data)
        return
    out.print(f"{report.planned} parcels planned on {len(report.routes)} routes")
    for r in data["routes"]:
        out.print(
            f"  {r['courier_id']} {r['kind']:<7} {r['stops']} stops, {r['distance_km']:.1f} km, "
            f"{r['co2_kg']:.2f} kg CO2e"
        )
    for shipment_id, reason in report.waiting.items():
        out.print(f"  waiting {shipment_id}: {reason}")


@shipments.command("list")
def shipments_list(order_id: str, as_json: Json = False) -> None:
    """An order's parcels: where each is and when it arrives (with the delivery codes)."""
    from fabnet.services import shipments as svc

    with wired() as app:
        rows = svc.order_shipments(app.new_uow(), CLI_OPERATOR, order_id).items
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        eta = (r["eta"] or "")[:16]
        out.print(
            f"{r['id']}  {r['state']:<10} {r['units']:>5} units  {r['mode'] or '-':<15} "
            f"eta {eta or '-'}  code {r.get('proof_code', '')}  {r['reason']}"
        )


@shipments.command("step")
def shipments_step(
    shipment_id: str,
    kind: Annotated[
        str, typer.Argument(help="picked_up, at_hub, delivered, failed, returned, retry")
    ],
    code: Annotated[str, typer.Option(help="the consignee's one-time code (delivered)")] = "",
    reason: Annotated[str, typer.Option(help="why it failed")] = "",
    as_json: Json = False,
) -> None:
    """Record a step as the operator (couriers use the API with their own key)."""
    proof_kind = "code" if code else "signature"
    if kind == "delivered" and not code:
        raise fail("--code: the consignee's one-time code proves the delivery", 2)
    with wired() as app:
        view = app.bus().handle(
            cmd.RecordShipmentEvent(CLI_OPERATOR, shipment_id, kind, proof_kind, code, reason)
        )
    if as_json:
        emit_json(view)
    else:
        out.print(f"{view['id']}: {view['state']}")

"""/couriers and /shipments: who carries the parcels, their routes, and each step with its
proof. A courier's key sees its own route and the parcels on it, nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from fabnet.bootstrap import App
from fabnet.domain.errors import Forbidden
from fabnet.domain.ids import OrderId
from fabnet.entrypoints.api.deps import Bus, Caller, Heavy, Paging, Uow, get_app
from fabnet.entrypoints.api.schemas.common import PageOut, Strict, paged
from fabnet.services import commands as cmd
from fabnet.services import shipments

router = APIRouter(tags=["logistics"])

ModeName = Literal["van", "ev_van", "cargo_bike", "ride_share", "drone"]
StepKind = Literal["picked_up", "in_transit", "at_hub", "delivered", "failed", "returned", "retry"]


class CourierIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    mode: ModeName
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="its base (hub)")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class CourierOut(BaseModel):
    id: str
    name: str
    mode: str
    lat: float
    lon: float
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, c: Any) -> CourierOut:
        return cls(
            id=c.id,
            name=c.name,
            mode=c.mode,
            lat=c.base.lat,
            lon=c.base.lon,
            active=c.active,
            created_at=c.created_at,
        )


class StepIn(Strict):
    kind: StepKind
    proof_kind: Literal["code", "signature", "photo", "consignee"] = "code"
    proof: str = Field(
        default="", max_length=128, description="the one-time code, or a SHA-256 (hex)"
    )
    reason: str = Field(default="", max_length=300, description="why it failed (required)")


class WaveOut(BaseModel):
    planned: int
    waiting: dict[str, str]
    routes: list[dict[str, Any]]
    skipped: int
    seconds: float


@router.post("/couriers", status_code=201)
def register_courier(body: CourierIn, bus: Bus, caller: Caller) -> dict[str, str]:
    courier_id = bus.handle(cmd.RegisterCourier(caller, body.name, body.mode, body.lat, body.lon))
    return {"id": courier_id}


@router.get("/couriers", response_model=PageOut[CourierOut])
def list_couriers(uow: Uow, caller: Caller, page: Paging) -> PageOut[CourierOut]:
    return paged(shipments.list_couriers(uow, caller, page), CourierOut.of)


@router.get("/couriers/{courier_id}/route")
def courier_route(courier_id: str, uow: Uow, caller: Caller) -> dict[str, Any]:
    """The courier's stops in order: pickups, drops at the hub, deliveries (no codes:
    the consignee gives the code at the door)."""
    return shipments.courier_route(uow, caller, courier_id)


@router.post("/shipments/plan", response_model=WaveOut)
async def plan_shipments(bus: Bus, caller: Caller, heavy: Heavy) -> WaveOut:
    """Run a routing wave now (the hub runs one every FABNET_ROUTING_INTERVAL_S)."""
    if not caller.is_operator:
        raise Forbidden("only an operator plans shipments")
    report = await heavy.run(caller.id, bus.handle, cmd.PlanShipments(caller))
    return WaveOut(
        planned=report.planned,
        waiting=report.waiting,
        routes=[r.as_dict() for r in report.routes],
        skipped=report.skipped,
        seconds=round(report.seconds, 3),
    )


class WeatherIn(Strict):
    area: str = Field(min_length=1, max_length=200, description="a weather area's name")
    flyable: bool


@router.get("/logistics/weather")
def weather(
    uow: Uow, caller: Caller, app: Annotated[App, Depends(get_app)]
) -> list[dict[str, Any]]:
    """The airspace's weather areas and whether drones fly there now."""
    if not caller.is_operator:
        raise Forbidden("the airspace is the operator's")
    return shipments.weather_view(uow, app.policy)


@router.post("/logistics/weather")
def switch_weather(body: WeatherIn, bus: Bus, caller: Caller) -> dict[str, Any]:
    """Ground the drones of a weather area at once (or let them fly again); logged."""
    result: dict[str, Any] = bus.handle(cmd.SwitchWeather(caller, body.area, body.flyable))
    return result


@router.get("/shipments/{shipment_id}")
def get_shipment(shipment_id: str, uow: Uow, caller: Caller) -> dict[str, Any]:
    return shipments.get_shipment(uow, caller, shipment_id)


@router.post("/shipments/{shipment_id}/events")
def record_step(shipment_id: str, body: StepIn, bus: Bus, caller: Caller) -> dict[str, Any]:
    """A step of the parcel: its courier's pickup, drop at the hub, delivery with the
    consignee's code (or a signature's or photo's SHA-256), failure or return; the
    consignee's own confirmation; an operator's correction."""
    result: dict[str, Any] = bus.handle(
        cmd.RecordShipmentEvent(
            caller, shipment_id, body.kind, body.proof_kind, body.proof, body.reason
        )
    )
    return result


@router.get("/orders/{order_id}/shipments", tags=["orders"])
def order_shipments(
    order_id: OrderId, uow: Uow, caller: Caller, page: Paging, response: Response
) -> list[dict[str, Any]]:
    """The order's parcels, where each is and when it arrives; its consignee sees each
    parcel's one-time delivery code. Paged (`limit`, `offset`); the total is in the
    `X-Total-Count` header."""
    found = shipments.order_shipments(uow, caller, order_id, page)
    response.headers["X-Total-Count"] = str(found.total)
    return found.items

"""How the logistics aggregates (shipments with their legs, couriers, weather switches)
become flat rows and back (adapters/rows.py holds the others and the ``Mapper``)."""

from __future__ import annotations

from typing import Any

from fabnet.adapters.rows import Mapper, Row, stored_time, utc, utc_given
from fabnet.domain.ids import CourierId, JobId, LineId, OrderId, ProducerId, ShipmentId
from fabnet.domain.shipments import Courier, Leg, Shipment, WeatherSwitch
from fabnet.domain.states import ShipmentState
from fabnet.domain.units import Place


def _leg_json(leg: Leg | None) -> dict[str, Any] | None:
    if leg is None:
        return None
    return {
        "mode": leg.mode,
        "courier_id": leg.courier_id,
        "route_id": leg.route_id,
        "stop": leg.stop,
        "lat": leg.to.lat,
        "lon": leg.to.lon,
        "to_hub": leg.to_hub,
        "pickup_eta": leg.pickup_eta.isoformat(),
        "eta": leg.eta.isoformat(),
        "distance_km": leg.distance_km,
        "co2_kg": leg.co2_kg,
    }


def _leg(j: dict[str, Any] | None) -> Leg | None:
    if not j:
        return None
    return Leg(
        mode=j["mode"],
        courier_id=CourierId(j["courier_id"]) if j["courier_id"] else None,
        route_id=j["route_id"],
        stop=j["stop"],
        to=Place(j["lat"], j["lon"]),
        to_hub=j["to_hub"],
        pickup_eta=stored_time(j["pickup_eta"]),
        eta=stored_time(j["eta"]),
        distance_km=j["distance_km"],
        co2_kg=j["co2_kg"],
    )


def _shipment_row(s: Shipment) -> Row:
    return {
        "id": s.id,
        "order_id": s.order_id,
        "line_id": s.line_id,
        "producer_id": s.producer_id,
        "job_ids": list(s.job_ids),
        "units": s.units,
        "mass_g": s.mass_g,
        "volume_ml": s.volume_ml,
        "origin_lat": s.origin.lat,
        "origin_lon": s.origin.lon,
        "dest_lat": s.destination.lat,
        "dest_lon": s.destination.lon,
        "due": s.due,
        "made_days_late": s.made_days_late,
        "proof_code": s.proof_code,
        "created_at": s.created_at,
        "state": s.state.value,
        "leg_no": s.leg_no,
        "leg": _leg_json(s.leg),
        "courier_id": s.courier_id,
        "updated_at": s.updated_at,
        "delivered_at": s.delivered_at,
        "distance_km": s.distance_km,
        "co2_kg": s.co2_kg,
        "modes": list(s.modes),
        "proof_attempts": s.proof_attempts,
        "reason": s.reason,
    }


def _shipment(r: Row) -> Shipment:
    return Shipment(
        id=ShipmentId(r["id"]),
        order_id=OrderId(r["order_id"]),
        line_id=LineId(r["line_id"]),
        producer_id=ProducerId(r["producer_id"]),
        job_ids=tuple(JobId(j) for j in r["job_ids"]),
        units=r["units"],
        mass_g=r["mass_g"],
        volume_ml=r["volume_ml"],
        origin=Place(r["origin_lat"], r["origin_lon"]),
        destination=Place(r["dest_lat"], r["dest_lon"]),
        due=utc_given(r["due"]),
        made_days_late=r["made_days_late"],
        proof_code=r["proof_code"],
        created_at=utc_given(r["created_at"]),
        state=ShipmentState(r["state"]),
        leg_no=r["leg_no"],
        leg=_leg(r["leg"]),
        updated_at=utc(r["updated_at"]),
        delivered_at=utc(r["delivered_at"]),
        distance_km=r["distance_km"],
        co2_kg=r["co2_kg"],
        modes=tuple(r["modes"] or ()),
        proof_attempts=r["proof_attempts"],
        reason=r["reason"],
        version=r["version"],
    )


def _courier_row(c: Courier) -> Row:
    return {
        "id": c.id,
        "name": c.name,
        "mode": c.mode,
        "lat": c.base.lat,
        "lon": c.base.lon,
        "created_at": c.created_at,
        "active": c.active,
    }


def _courier(r: Row) -> Courier:
    return Courier(
        id=CourierId(r["id"]),
        name=r["name"],
        mode=r["mode"],
        base=Place(r["lat"], r["lon"]),
        created_at=utc_given(r["created_at"]),
        active=bool(r["active"]),
        version=r["version"],
    )


def _weather_row(w: WeatherSwitch) -> Row:
    return {"id": w.id, "flyable": w.flyable, "set_at": w.set_at, "set_by": w.set_by}


def _weather(r: Row) -> WeatherSwitch:
    return WeatherSwitch(
        id=r["id"],
        flyable=bool(r["flyable"]),
        set_at=utc_given(r["set_at"]),
        set_by=r["set_by"],
        version=r["version"],
    )


SHIPMENTS = Mapper[Shipment]("shipments", _shipment_row, _shipment)
COURIERS = Mapper[Courier]("couriers", _courier_row, _courier)
WEATHER = Mapper[WeatherSwitch]("weather_switches", _weather_row, _weather)

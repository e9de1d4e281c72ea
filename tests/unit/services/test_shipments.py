"""Shipments through the services: units made become parcels, a routing wave gives them
to couriers, the courier's pickup and delivery with the consignee's code move the
escrow, and nobody confirms another party's stop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fabnet.domain import events as ev
from fabnet.domain.access import Principal
from fabnet.domain.errors import Forbidden, InvalidInput, NotFound
from fabnet.domain.ids import PrincipalId
from fabnet.domain.states import Role
from fabnet.services import commands as cmd
from fabnet.services import shipments
from fabnet.services.escrow import escrow_of
from tests.conftest import ALICE, BOB, OPERATOR, World, producer_actor


def courier(world: World, lat: float = 52.52, lon: float = 13.40, mode: str = "van") -> Principal:
    cid = world.bus.handle(cmd.RegisterCourier(OPERATOR, f"{mode} courier", mode, lat, lon))
    return Principal(PrincipalId(cid), Role.COURIER)


def made(
    world: World,
    quantity: int = 10,
    size: tuple[float, float, float] = (100, 100, 10),
    **order: object,
) -> str:
    world.producer("a", 52.45, 13.30)
    design = world.design(print_time_s=600, size=size)
    order_id = world.order(design, quantity, **order)  # type: ignore[arg-type]
    with world.uow() as uow:
        jobs = [j for j in uow.jobs.of_order(order_id) if j.is_live]
    for job in jobs:
        actor = producer_actor(job.producer_id)
        for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob, cmd.FinishJob):
            world.bus.handle(step(actor, job.id))
    return order_id


def test_made_units_are_routed_picked_up_and_delivered_and_the_escrow_follows(world, clock):
    van = courier(world)
    order_id = made(world, 10)
    with world.uow() as uow:
        (parcel,) = uow.shipments.of_order(order_id)
    assert parcel.state == "ready" and parcel.units == 10 and parcel.mass_g > 0
    report = world.bus.handle(cmd.PlanShipments(OPERATOR))
    assert report.planned == 1 and report.routes[0].courier_id == van.id
    route = shipments.courier_route(world.uow(), van, van.id)
    assert [s["action"] for s in route["stops"]] == ["pickup", "deliver"]  # the hub is Berlin
    assert "proof_code" not in str(route)
    world.bus.handle(cmd.RecordShipmentEvent(van, parcel.id, "picked_up"))
    with pytest.raises(InvalidInput, match="does not match"):
        world.bus.handle(cmd.RecordShipmentEvent(van, parcel.id, "delivered", "code", "999999x"))
    code = shipments.order_shipments(world.uow(), ALICE, order_id).items[0]["proof_code"]
    clock.set(clock.now() + timedelta(hours=2))
    done = world.bus.handle(cmd.RecordShipmentEvent(van, parcel.id, "delivered", "code", code))
    assert done["state"] == "delivered" and done["on_time"] is True and "proof_code" not in done
    with world.uow() as uow:
        logged = uow.order_events(order_id, (ev.ShipmentDelivered,))
        assert [e.units for e in logged] == [10]  # type: ignore[attr-defined]


def test_a_delivered_shipment_moves_the_escrow_and_units_made_alone_do_not(world, clock):
    world.producer("a", 52.45, 13.30)
    order_id = world.order(world.design(print_time_s=600), 4)
    world.bus.handle(cmd.FundEscrow(ALICE, order_id, amount_minor=4000))
    with world.uow() as uow:
        (job,) = [j for j in uow.jobs.of_order(order_id) if j.is_live]
    actor = producer_actor(job.producer_id)
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob, cmd.FinishJob):
        world.bus.handle(step(actor, job.id))
    with world.uow() as uow:
        assert sum(escrow_of(uow, order_id).delivered.values()) == 0  # made, not delivered
    assert world.deliver(order_id) == 4
    with world.uow() as uow:
        assert escrow_of(uow, order_id).delivered == {job.producer_id: 4}


def test_nobody_confirms_another_partys_stop(world):
    van = courier(world)
    other = courier(world)
    order_id = made(world, 5)
    world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        (parcel,) = uow.shipments.of_order(order_id)
    mine, theirs = (van, other) if parcel.courier_id == van.id else (other, van)
    with pytest.raises(NotFound):  # not on its route: it does not see the parcel at all
        world.bus.handle(cmd.RecordShipmentEvent(theirs, parcel.id, "picked_up"))
    with pytest.raises(NotFound):
        shipments.courier_route(world.uow(), theirs, mine.id)
    with pytest.raises(NotFound):  # another consumer
        world.bus.handle(cmd.RecordShipmentEvent(BOB, parcel.id, "delivered", "consignee"))
    with pytest.raises(Forbidden):  # the consignee confirms deliveries only
        world.bus.handle(cmd.RecordShipmentEvent(ALICE, parcel.id, "picked_up"))
    with pytest.raises(Forbidden):  # a courier does not decide a retry
        world.bus.handle(cmd.RecordShipmentEvent(mine, parcel.id, "retry"))
    with pytest.raises(InvalidInput, match="reason"):
        world.bus.handle(cmd.RecordShipmentEvent(mine, parcel.id, "failed"))
    with world.uow() as uow:
        assert uow.shipments.get(parcel.id).state == "planned"  # nothing half-written


def test_a_failed_delivery_is_sent_again_by_an_operator_and_its_reason_logged(world):
    van = courier(world)
    order_id = made(world, 3)
    world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        (parcel,) = uow.shipments.of_order(order_id)
    world.bus.handle(cmd.RecordShipmentEvent(van, parcel.id, "picked_up"))
    world.bus.handle(cmd.RecordShipmentEvent(van, parcel.id, "failed", reason="nobody home"))
    world.bus.handle(cmd.RecordShipmentEvent(OPERATOR, parcel.id, "retry"))
    world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        again = uow.shipments.get(parcel.id)
        failed = uow.order_events(order_id, (ev.ShipmentFailed,))
    assert again.state == "planned" and failed[0].reason == "nobody home"  # type: ignore[attr-defined]


def test_rerouting_never_moves_a_parcel_already_picked_up(world):
    van = courier(world)
    order_id = made(world, 2)
    world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        (parcel,) = uow.shipments.of_order(order_id)
    world.bus.handle(cmd.RecordShipmentEvent(van, parcel.id, "picked_up"))
    courier(world)  # a second van joins: the next wave must leave the first's parcel alone
    for _ in range(3):
        world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        kept = uow.shipments.get(parcel.id)
    assert kept.state == "picked_up" and kept.courier_id == van.id


def test_the_maker_hands_a_carrier_parcel_over_and_the_consignee_confirms(world):
    order_id = made(world, 4, lat=48.14, lon=11.58)  # Munich: no courier, the carrier
    world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        (parcel,) = uow.shipments.of_order(order_id)
    assert parcel.leg is not None and parcel.leg.mode == "parcel_carrier"
    maker = producer_actor(parcel.producer_id)
    world.bus.handle(cmd.RecordShipmentEvent(maker, parcel.id, "picked_up"))
    with pytest.raises(Forbidden):
        world.bus.handle(cmd.RecordShipmentEvent(maker, parcel.id, "delivered", "consignee"))
    done = world.bus.handle(cmd.RecordShipmentEvent(ALICE, parcel.id, "delivered", "consignee"))
    assert done["state"] == "delivered"


def test_a_courier_key_names_an_existing_courier_and_modes_are_checked(world):
    with pytest.raises(InvalidInput) as err:
        world.bus.handle(cmd.CreateApiKey("c", Role.COURIER, principal_id="cou_nobody"))
    assert err.value.field == "courier_id"
    with pytest.raises(InvalidInput) as err:
        world.bus.handle(cmd.RegisterCourier(OPERATOR, "bike", "cargo_bike", 52.5, 13.4))
    assert err.value.field == "modes.cargo_bike.co2_kg_per_km"
    with pytest.raises(InvalidInput) as err:
        world.bus.handle(cmd.RegisterCourier(OPERATOR, "x", "hovercraft", 52.5, 13.4))
    assert err.value.field == "mode"
    with pytest.raises(Forbidden):
        world.bus.handle(cmd.RegisterCourier(ALICE, "van", "van", 52.5, 13.4))
    van = courier(world)
    key = world.bus.handle(cmd.CreateApiKey("c", Role.COURIER, principal_id=van.id))
    assert key.principal_id == van.id


def test_a_big_job_is_several_parcels_within_the_carriers_limits(world):
    order_id = made(world, 400, size=(180, 160, 20))  # 576 ml a unit: 230 litres
    with world.uow() as uow:
        parcels = uow.shipments.of_order(order_id)
    assert sum(p.units for p in parcels) == 400 and len(parcels) > 1
    assert all(p.mass_g <= 30_000 and p.volume_ml <= 200_000 for p in parcels)


def test_a_route_under_way_and_a_carrier_booking_are_not_routed_again(world, clock):
    van = courier(world)
    local = made(world, 3)
    far = world.order(world.design(print_time_s=600), 2, lat=48.14, lon=11.58)  # Munich
    with world.uow() as uow:
        (job,) = [j for j in uow.jobs.of_order(far) if j.is_live]
    maker = producer_actor(job.producer_id)
    for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob, cmd.FinishJob):
        world.bus.handle(step(maker, job.id))
    world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        (mine,) = uow.shipments.of_order(local)
        (booked,) = uow.shipments.of_order(far)
    assert mine.courier_id == van.id and booked.leg is not None and booked.courier_id is None
    assert mine.leg is not None
    clock.set(mine.leg.pickup_eta + timedelta(minutes=1))  # the van is on its way
    courier(world)  # a second van joins
    world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        again, still = uow.shipments.get(mine.id), uow.shipments.get(booked.id)
        planned = uow.order_events(local, (ev.ShipmentPlanned,)) + uow.order_events(
            far, (ev.ShipmentPlanned,)
        )
    assert again.leg == mine.leg and still.leg == booked.leg
    assert len(planned) == 2  # one plan each: nothing re-logged


def test_wrong_codes_are_counted_across_requests_then_the_code_is_refused(world):
    from fabnet.domain.errors import Conflict

    van = courier(world)
    order_id = made(world, 2)
    world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        (parcel,) = uow.shipments.of_order(order_id)
    world.bus.handle(cmd.RecordShipmentEvent(van, parcel.id, "picked_up"))
    for left in (4, 3, 2, 1, 0):  # each a request of its own: the count is stored
        with pytest.raises(InvalidInput, match=f"{left} tries left"):
            world.bus.handle(cmd.RecordShipmentEvent(van, parcel.id, "delivered", "code", "1"))
    with pytest.raises(Conflict, match="operator"):
        world.bus.handle(
            cmd.RecordShipmentEvent(van, parcel.id, "delivered", "code", parcel.proof_code)
        )
    with world.uow() as uow:
        assert uow.shipments.get(parcel.id).state == "picked_up"
        assert uow.order_events(order_id, (ev.ShipmentDelivered,)) == []


def test_an_operator_grounds_the_drones_of_an_area_at_once_and_it_is_logged(clock):
    from dataclasses import replace

    from fabnet.domain.events import WeatherSwitched
    from fabnet.routing.airspace import Airspace
    from fabnet.services.ports import Policy

    box = [[13.0, 52.3], [13.8, 52.3], [13.8, 52.7], [13.0, 52.7], [13.0, 52.3]]
    area = {
        "type": "Feature",
        "properties": {"kind": "weather", "name": "berlin", "flyable": True},
        "geometry": {"type": "Polygon", "coordinates": [box]},
    }
    world = World(clock)
    policy = Policy()
    airspace = Airspace.from_geojson({"type": "FeatureCollection", "features": [area]})
    world.bus.dependencies["policy"] = replace(
        policy, logistics=replace(policy.logistics, airspace=airspace)
    )
    drone = courier(world, 52.46, 13.33, mode="drone")
    calm = made(world, 1, size=(20, 20, 5), lat=52.47, lon=13.34)  # light, near, in range
    world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        (flown,) = uow.shipments.of_order(calm)
    assert flown.leg is not None and flown.leg.mode == "drone"  # in calm weather, it flies
    with pytest.raises(InvalidInput) as err:
        world.bus.handle(cmd.SwitchWeather(OPERATOR, "atlantis", False))
    assert err.value.field == "area"
    with pytest.raises(Forbidden):
        world.bus.handle(cmd.SwitchWeather(drone, "berlin", False))
    world.bus.handle(cmd.SwitchWeather(OPERATOR, "berlin", False))  # a storm
    order_id = made(world, 1, size=(20, 20, 5), lat=52.47, lon=13.34)
    report = world.bus.handle(cmd.PlanShipments(OPERATOR))
    with world.uow() as uow:
        (parcel,) = uow.shipments.of_order(order_id)
    assert parcel.leg is not None and parcel.leg.mode != "drone"
    assert report.routes == [] or all(r.mode != "drone" for r in report.routes)
    with world.uow() as uow:
        logged = [e for _, e in uow.events_after(0, 10_000) if isinstance(e, WeatherSwitched)]
    assert [(e.area, e.flyable) for e in logged] == [("berlin", False)]


def test_an_orders_parcels_come_a_page_at_a_time(world):
    from fabnet.services.ports import Page

    order_id = made(world, 400, size=(180, 160, 20))  # more than one parcel
    first = shipments.order_shipments(world.uow(), ALICE, order_id, Page(limit=1))
    rest = shipments.order_shipments(world.uow(), ALICE, order_id, Page(limit=500, offset=1))
    assert len(first.items) == 1 and first.total == len(rest.items) + 1 > 1
    assert {first.items[0]["id"]}.isdisjoint(r["id"] for r in rest.items)
    with pytest.raises(NotFound):
        shipments.order_shipments(world.uow(), BOB, order_id)

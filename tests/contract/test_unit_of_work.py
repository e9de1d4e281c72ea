"""One suite, every store: in-memory, SQLite and PostgreSQL behave the same."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from fabnet.adapters.db import SqlUnitOfWork, create_engine_for, migrate
from fabnet.adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from fabnet.domain.capabilities import Process
from fabnet.domain.errors import Conflict, NotFound, StaleUpdate
from fabnet.domain.ids import DesignId, LineId, MachineId, OrderId, PrincipalId, ProducerId
from fabnet.domain.orders import Order, OrderLine
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.reliability import Probation
from fabnet.domain.states import MachineStatus, OrderState
from fabnet.domain.units import Box, Place
from fabnet.services.ports import Page, UnitOfWork
from tests.conftest import START

Factory = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def new_uow(request: pytest.FixtureRequest, tmp_path) -> Iterator[Factory]:
    if request.param == "memory":
        db = InMemoryDatabase()
        yield lambda: InMemoryUnitOfWork(db)
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'contract.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine_for(url)
    migrate(engine)
    migrate(engine)  # idempotent
    yield lambda: SqlUnitOfWork(engine)
    engine.dispose()


def producer(n: int, **kw) -> Producer:
    return Producer(
        id=ProducerId(f"prd_{n:03d}"),
        name=f"maker {n}",
        place=Place(50 + n / 100, 10),
        certifications=("ISO 9001",),
        **kw,
    )


def machine(n: int, producer_id: str, **kw) -> Machine:
    return Machine(
        id=MachineId(f"mch_{n:03d}"),
        producer_id=ProducerId(producer_id),
        name=f"m{n}",
        process=Process.FDM,
        build_volume=Box(250, 210, 210.5),
        materials=("PLA", "PETG"),
        nozzle_mm=0.4,
        **kw,
    )


def order(n: int = 1) -> Order:
    line = OrderLine(
        id=LineId(f"lin_{n}"),
        design_id=DesignId("d" * 64),
        process=Process.FDM,
        material="PLA",
        quantity=100,
        deadline=START + timedelta(days=3),
        destination=Place(48.1, 11.6),
    )
    return Order.place(
        id=OrderId(f"ord_{n}"),
        consumer_id=PrincipalId("usr_a"),
        lines=[line],
        at=START,
        reference=f"ref-{n}",
    )


def test_what_is_committed_reads_back_equal(new_uow: Factory):
    p, m, o = producer(1), machine(1, "prd_001"), order()
    on_probation = machine(2, "prd_001", probation=Probation(4, 7, 0.75, 3))
    with new_uow() as uow:
        uow.producers.add(p)
        uow.machines.add(m)
        uow.machines.add(on_probation)
        uow.orders.add(o)
        uow.commit()
    with new_uow() as uow:
        assert uow.producers.get(p.id) == p
        assert uow.machines.get(m.id) == m
        assert uow.machines.get(on_probation.id).probation == Probation(4, 7, 0.75, 3)
        got = uow.orders.get(o.id)
        assert got == o and got.lines[0].deadline == o.lines[0].deadline
        assert got.placed_at.tzinfo is not None
        assert got.version == 1


def test_leaving_without_commit_rolls_back(new_uow: Factory):
    with new_uow() as uow:
        uow.producers.add(producer(1))
    with new_uow() as uow:
        assert uow.producers.find("prd_001") is None
        with pytest.raises(NotFound):
            uow.producers.get("prd_001")


def test_changes_are_found_without_save_and_bump_the_version(new_uow: Factory):
    with new_uow() as uow:
        uow.producers.add(producer(1))
        uow.machines.add(machine(1, "prd_001"))
        uow.commit()
    with new_uow() as uow:
        uow.machines.get("mch_001").set_status(MachineStatus.OFFLINE, START)
        uow.commit()
    with new_uow() as uow:
        m = uow.machines.get("mch_001")
        assert (m.status, m.version) == (MachineStatus.OFFLINE, 2)
        assert uow.producers.get("prd_001").version == 1  # untouched: not rewritten


def test_a_stale_write_is_a_conflict_and_changes_nothing(new_uow: Factory):
    with new_uow() as uow:
        uow.orders.add(order())
        uow.commit()
    # reads are optimistic on every store (SQLite too: they take no write lock), so two
    # transactions interleave; the version check makes the later write fail, not win
    first, second = new_uow(), new_uow()
    with first, second:
        a = first.orders.get("ord_1")
        b = second.orders.get("ord_1")
        a.allocate(LineId("lin_1"), 10, START)
        first.commit()
        b.allocate(LineId("lin_1"), 20, START)
        with pytest.raises(StaleUpdate):
            second.commit()
    with new_uow() as uow:
        assert uow.orders.get("ord_1").lines[0].units_allocated == 10


def test_duplicate_ids_and_unique_keys_are_conflicts(new_uow: Factory):
    with new_uow() as uow:
        uow.producers.add(producer(1, external_ref="okw-1"))
        uow.commit()
    for clash in (producer(1), producer(2, external_ref="okw-1")):
        with new_uow() as uow:
            uow.producers.add(clash)
            with pytest.raises(Conflict):
                uow.commit()
    with new_uow() as uow:
        assert uow.producers.count() == 1


def test_filters_and_pages(new_uow: Factory):
    with new_uow() as uow:
        for n in range(7):
            uow.producers.add(producer(n))
        for n in range(7):
            uow.machines.add(machine(n, f"prd_{n % 2:03d}", hours_per_day=10 + n))
        uow.commit()
    with new_uow() as uow:
        page = uow.machines.list(Page(limit=2, offset=1), producer_id="prd_000")
        assert page.total == 4
        assert [m.id for m in page.items] == ["mch_002", "mch_004"]
        assert uow.machines.count(producer_id=("prd_000", "prd_001")) == 7
        assert [p.id for p in uow.producers.list(Page(limit=3)).items] == [
            "prd_000",
            "prd_001",
            "prd_002",
        ]
        assert uow.machines.count(hours_per_day__lte=12) == 3


def test_events_of_a_commit_are_handed_out_once(new_uow: Factory):
    with new_uow() as uow:
        o = order()
        uow.orders.add(o)
        uow.commit()
        names = [type(e).__name__ for e in uow.collect_events()]
        assert names == ["OrderPlaced"]
        assert list(uow.collect_events()) == []


def test_state_survives_a_round_trip_through_the_store(new_uow: Factory):
    with new_uow() as uow:
        uow.orders.add(order())
        uow.commit()
    with new_uow() as uow:
        o = uow.orders.get("ord_1")
        o.allocate(LineId("lin_1"), 100, START)
        o.complete(LineId("lin_1"), 100, START)
        uow.commit()
    with new_uow() as uow:
        o = uow.orders.get("ord_1")
        assert o.state is OrderState.FULFILLED and o.units_made == 100
        assert uow.orders.count(state=OrderState.FULFILLED.value) == 1


def _design(n: int, owner: str, *, public: bool):
    from fabnet.domain.designs import Design

    return Design(
        id=DesignId(f"dsg_{n:020d}"),
        name=f"part {n}",
        filename="p.stl",
        media_type="model/stl",
        size_bytes=100,
        process=Process.FDM,
        materials=("PLA",),
        bbox=Box(10, 10, 10),
        triangles=12,
        print_time_s=600.0,
        owner_id=PrincipalId(owner),
        created_at=START,
        public=public,
    )


def test_the_catalogue_is_the_public_designs_and_ones_own(new_uow):
    with new_uow() as uow:
        uow.designs.add(_design(1, "usr_op", public=True))
        uow.designs.add(_design(2, "usr_alice", public=False))
        uow.designs.add(_design(3, "usr_bob", public=False))
        uow.designs.add(_design(4, "usr_bob", public=True))
        uow.commit()
    with new_uow() as uow:
        found = uow.designs.catalogue(Page(10, 0), owner_id="usr_alice")
        assert sorted(d.name for d in found.items) == ["part 1", "part 2", "part 4"]
        assert found.total == 3
        assert uow.designs.catalogue(Page(10, 0), owner_id="usr_carol").total == 2


def test_a_shipment_on_a_courier_leg_reads_back_equal_and_by_its_queries(new_uow: Factory):
    from fabnet.domain.ids import CourierId, JobId, ShipmentId
    from fabnet.domain.shipments import Courier, Leg, Shipment
    from fabnet.domain.states import ShipmentState

    with new_uow() as uow:
        uow.producers.add(producer(1))
        uow.orders.add(order())
        uow.couriers.add(
            Courier(
                id=CourierId("cou_1"),
                name="van",
                mode="van",
                base=Place(52.52, 13.4),
                created_at=START,
            )
        )
        for n in (1, 2):
            uow.shipments.add(
                Shipment(
                    id=ShipmentId(f"shp_{n}"),
                    order_id=OrderId("ord_1"),
                    line_id=LineId("lin_1"),
                    producer_id=ProducerId("prd_001"),
                    job_ids=(JobId("job_1"), JobId("job_2")),
                    units=5,
                    mass_g=500,
                    volume_ml=900,
                    origin=Place(52.4, 13.3),
                    destination=Place(52.5, 13.5),
                    due=START + timedelta(days=2),
                    made_days_late=1,
                    proof_code="004211",
                    created_at=START,
                )
            )
        uow.commit()
    leg = Leg(
        mode="van",
        courier_id=CourierId("cou_1"),
        route_id="rte-1",
        stop=3,
        to=Place(52.52, 13.4),
        to_hub=True,
        pickup_eta=START + timedelta(hours=1),
        eta=START + timedelta(hours=2, seconds=7),
        distance_km=3.25,
        co2_kg=0.83,
    )
    with new_uow() as uow:
        s = uow.shipments.get("shp_1")
        s.plan(leg, START)
        s.pick_up(START, "cou_1")
        uow.commit()
    with new_uow() as uow:
        s = uow.shipments.get("shp_1")
        assert s.leg == leg and s.state is ShipmentState.PICKED_UP and s.version == 2
        assert s.job_ids == ("job_1", "job_2") and s.proof_code == "004211"
        assert [x.id for x in uow.shipments.of_courier("cou_1", (ShipmentState.PICKED_UP,))] == [
            "shp_1"
        ]
        assert [x.id for x in uow.shipments.waiting()] == ["shp_2"]
        assert len(uow.shipments.of_order("ord_1")) == 2
        assert uow.couriers.get("cou_1").base == Place(52.52, 13.4)


def test_a_weather_switch_reads_back_and_moves(new_uow: Factory):
    from fabnet.domain.shipments import WeatherSwitch

    with new_uow() as uow:
        uow.weather.add(WeatherSwitch(id="north sea", flyable=True, set_at=START, set_by=""))
        uow.commit()
    with new_uow() as uow:
        switch = uow.weather.get("north sea")
        switch.switch(False, START + timedelta(hours=1), "usr_ops")
        uow.commit()
    with new_uow() as uow:
        (back,) = uow.weather.everyone()
        assert (back.flyable, back.set_by, back.set_at) == (
            False,
            "usr_ops",
            START + timedelta(hours=1),
        )

"""Shared fixtures: a fixed clock, seeded ids, principals, a wired in-memory bus, and
fresh PostgreSQL databases (the real server; never skipped: a missing server fails)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import settings

from fabnet.adapters.geometry import TrimeshAnalyzer
from fabnet.adapters.memory import InMemoryBlobStore, InMemoryDatabase, InMemoryUnitOfWork
from fabnet.adapters.solvers import OrToolsFlow
from fabnet.domain.access import Principal
from fabnet.domain.ids import PrincipalId, ProducerId
from fabnet.domain.states import Role
from fabnet.services import commands as cmd
from fabnet.services.messagebus import MessageBus
from fabnet.services.ports import FixedClock, Policy, SeededIds
from fabnet.sim.parts import box_stl

# In CI (CI=true) the property tests draw the same examples every run, those that pass here:
# drawn afresh, one run drew a random problem whose HiGHS MIP (the independent answer,
# proven to a gap of 1e-9) ran for over 10 minutes. Runs elsewhere keep drawing new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
OPERATOR = Principal(PrincipalId("usr_operator"), Role.OPERATOR)
ALICE = Principal(PrincipalId("usr_alice"), Role.CONSUMER)
BOB = Principal(PrincipalId("usr_bob"), Role.CONSUMER)
POSTGRES_ADMIN_URL = os.environ.get(
    "FABNET_TEST_POSTGRES_URL", "postgresql+psycopg://fabnet:fabnet@127.0.0.1:5432/postgres"
)


def producer_actor(producer_id: str) -> Principal:
    return Principal(PrincipalId(f"usr_{producer_id}"), Role.PRODUCER, ProducerId(producer_id))


def printer(
    name: str = "mk4", materials: tuple[str, ...] = ("PLA", "PETG"), **kw: object
) -> cmd.MachineSpec:
    return cmd.MachineSpec(
        name=name, process="fdm", materials=materials, build_volume_mm=(250.0, 210.0, 220.0), **kw
    )  # type: ignore[arg-type]


def facility(
    name: str, lat: float, lon: float, *machines: cmd.MachineSpec, ref: str = ""
) -> cmd.FacilitySpec:
    return cmd.FacilitySpec(
        name=name, lat=lat, lon=lon, external_ref=ref, machines=machines or (printer(),)
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


class World:
    """A bus over the in-memory store, with helpers for the common steps."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.db = InMemoryDatabase()
        self.blobs = InMemoryBlobStore()
        self.bus = MessageBus(
            uow=self.uow(),
            clock=clock,
            ids=SeededIds(7),
            blobs=self.blobs,
            mesh=TrimeshAnalyzer(wall_samples=2000),
            policy=Policy(),
            flow_solver=OrToolsFlow(),
        )

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.db)

    def producer(self, name: str, lat: float, lon: float, *machines: cmd.MachineSpec) -> str:
        pid: str = self.bus.handle(
            cmd.RegisterProducer(OPERATOR, facility(name, lat, lon, *machines))
        )
        return pid

    def design(
        self,
        *,
        print_time_s: float = 3600.0,
        size: tuple[float, float, float] = (100, 100, 10),
        label: str = "part",
        materials: tuple[str, ...] = ("PLA", "PETG"),
    ) -> str:
        did: str = self.bus.handle(
            cmd.RegisterDesign(
                OPERATOR,
                f"{label}.stl",
                box_stl(*size, label=label),
                label,
                "fdm",
                materials,
                print_time_s,
            )
        )
        return did

    def order(
        self,
        design_id: str,
        quantity: int,
        *,
        actor: Principal = ALICE,
        days: float = 3,
        lat: float = 52.52,
        lon: float = 13.40,
        material: str = "PLA",
        priority: int = 0,
    ) -> str:
        line = cmd.LineRequest(
            design_id, material, quantity, self.clock.now() + timedelta(days=days), lat, lon
        )
        oid: str = self.bus.handle(cmd.PlaceOrder(actor, (line,), priority=priority))
        return oid

    def deliver(self, order_id: str) -> int:
        """Route the order's waiting parcels and deliver each with its consignee's code
        (an operator records the carrier's steps); returns the units delivered."""
        self.bus.handle(cmd.PlanShipments(OPERATOR))
        with self.uow() as uow:
            planned = [s for s in uow.shipments.of_order(order_id) if s.state == "planned"]
        for s in planned:
            self.bus.handle(cmd.RecordShipmentEvent(OPERATOR, s.id, "picked_up"))
            self.bus.handle(
                cmd.RecordShipmentEvent(OPERATOR, s.id, "delivered", "code", s.proof_code)
            )
        return sum(s.units for s in planned)


@pytest.fixture
def world(clock: FixedClock) -> World:
    return World(clock)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required (run `make services`): {exc.orig}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: sa.Engine) -> Iterator[str]:
    """A new, empty database for one test; dropped afterwards."""
    name = f"fabnet_t_{uuid.uuid4().hex[:12]}"
    with postgres_admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = postgres_admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with postgres_admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))

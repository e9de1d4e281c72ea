"""The ports: every outside system fabnet talks to, as a small Protocol.

Adapters implement them (``SqlUnitOfWork``, ``FileBlobStore``...); the fakes and in-memory
versions ship in the package so that unit tests and the simulator run this same code.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, Self, TypeVar

from fabnet.domain.access import ApiKey
from fabnet.domain.aggregate import Aggregate
from fabnet.domain.designs import Design
from fabnet.domain.escrow_policy import EscrowPolicy
from fabnet.domain.events import Event
from fabnet.domain.jobs import Job
from fabnet.domain.orders import Order
from fabnet.domain.pricing import PriceRule, ProducerClass
from fabnet.domain.producers import Machine, MachineEnvelope, Producer
from fabnet.domain.reliability import Probation
from fabnet.domain.shipments import Courier, Shipment, WeatherSwitch
from fabnet.domain.states import (
    FacilityStatus,
    JobState,
    MachineStatus,
    OrderState,
    ShipmentState,
)
from fabnet.fabrication.meshes import MeshFacts
from fabnet.fabrication.profiles import FdmProfile
from fabnet.fabrication.qualification import ToleranceTable
from fabnet.routing.policy import HUB_TRANSIT, LogisticsPolicy
from fabnet.services.paging import MAX_OFFSET, MAX_PAGE, Page

A = TypeVar("A", bound=Aggregate)
A_co = TypeVar("A_co", bound=Aggregate, covariant=True)

# re-exported: the paging limits (services/paging.py), the default transit bands (routing)
__all__ = ["HUB_TRANSIT", "MAX_OFFSET", "MAX_PAGE", "Page"]


@dataclass(frozen=True, slots=True)
class Listing(Generic[A]):
    items: list[A]
    total: int
    page: Page


class Repository(Protocol[A]):
    """An aggregate's store, in domain terms: ``get`` raises NotFound, ``find`` returns
    None, each aggregate adds its named queries. Repositories never commit."""

    def add(self, item: A) -> None: ...
    def get(self, ident: str) -> A: ...
    def find(self, ident: str) -> A | None: ...


class Producers(Repository[Producer], Protocol):
    def everyone(self) -> builtins.list[Producer]: ...
    def active(self) -> builtins.list[Producer]: ...
    def by_external_ref(self, ref: str) -> Producer | None: ...
    def places(self) -> builtins.list[tuple[str, float, float]]: ...
    def page(
        self, page: Page, *, only: str | None = None, status: FacilityStatus | None = None
    ) -> Listing[Producer]: ...


class Machines(Repository[Machine], Protocol):
    def everyone(self) -> builtins.list[Machine]: ...
    def of_producer(self, producer_id: str) -> builtins.list[Machine]: ...
    def with_ids(self, ids: Iterable[str]) -> builtins.list[Machine]: ...
    def available(self, process: str | None = None) -> builtins.list[Machine]: ...
    def counts_by_producer(self) -> dict[str, tuple[int, int]]: ...
    def flagged_or_offline(self) -> builtins.list[Machine]: ...
    def count(self, **filters: object) -> int: ...
    def page(
        self,
        page: Page,
        *,
        producer_id: str | None = None,
        process: str | None = None,
        status: MachineStatus | None = None,
        flagged: bool | None = None,
    ) -> Listing[Machine]: ...


class Designs(Repository[Design], Protocol):
    def with_content(self, content_hash: str) -> builtins.list[Design]: ...
    def page(self, page: Page, *, owner_id: str | None = None) -> Listing[Design]: ...
    def catalogue(self, page: Page, *, owner_id: str) -> Listing[Design]: ...


class Orders(Repository[Order], Protocol):
    def everyone(self) -> builtins.list[Order]: ...
    def open(self) -> builtins.list[Order]: ...
    def open_of(self, consumer_id: str) -> builtins.list[Order]: ...
    def settling(self) -> builtins.list[Order]: ...
    def page(
        self, page: Page, *, consumer_id: str | None = None, state: OrderState | None = None
    ) -> Listing[Order]: ...


class Jobs(Repository[Job], Protocol):
    def everyone(self) -> builtins.list[Job]: ...
    def of_order(self, order_id: str) -> builtins.list[Job]: ...
    def live(self) -> builtins.list[Job]: ...
    def live_on(self, machine_ids: Iterable[str]) -> builtins.list[Job]: ...
    def running_on(self, machine_id: str) -> builtins.list[Job]: ...
    def offers_expiring_by(self, at: datetime) -> builtins.list[Job]: ...
    def refused_in(self, order_ids: Iterable[str]) -> builtins.list[Job]: ...
    def any_of_design_for(self, design_id: str, producer_id: str) -> bool: ...
    def page(
        self,
        page: Page,
        *,
        state: JobState | None = None,
        machine_id: str | None = None,
        order_id: str | None = None,
        producer_id: str | None = None,
    ) -> Listing[Job]: ...


class ApiKeys(Repository[ApiKey], Protocol):
    def by_hash(self, key_hash: str) -> ApiKey | None: ...
    def page(self, page: Page, *, principal_id: str | None = None) -> Listing[ApiKey]: ...


class Couriers(Repository[Courier], Protocol):
    def everyone(self) -> builtins.list[Courier]: ...
    def active(self) -> builtins.list[Courier]: ...
    def page(self, page: Page) -> Listing[Courier]: ...


class Shipments(Repository[Shipment], Protocol):
    def everyone(self) -> builtins.list[Shipment]: ...
    def of_order(self, order_id: str) -> builtins.list[Shipment]: ...
    def waiting(self) -> builtins.list[Shipment]: ...
    def planned(self) -> builtins.list[Shipment]: ...
    def in_hand(self) -> builtins.list[Shipment]: ...
    def of_courier(
        self, courier_id: str, states: tuple[ShipmentState, ...]
    ) -> builtins.list[Shipment]: ...
    def page(
        self,
        page: Page,
        *,
        order_id: str | None = None,
        producer_id: str | None = None,
        courier_id: str | None = None,
        state: ShipmentState | None = None,
    ) -> Listing[Shipment]: ...


class WeatherSwitches(Repository[WeatherSwitch], Protocol):
    def everyone(self) -> builtins.list[WeatherSwitch]: ...


class UnitOfWork(Protocol):
    @property
    def producers(self) -> Producers: ...
    @property
    def machines(self) -> Machines: ...
    @property
    def designs(self) -> Designs: ...
    @property
    def orders(self) -> Orders: ...
    @property
    def jobs(self) -> Jobs: ...
    @property
    def api_keys(self) -> ApiKeys: ...
    @property
    def couriers(self) -> Couriers: ...
    @property
    def shipments(self) -> Shipments: ...
    @property
    def weather(self) -> WeatherSwitches: ...

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def reading(self) -> AbstractContextManager[Self]:
        """Open for reading only (``with uow.reading():``): takes no write lock."""

    def commit(self) -> None:
        """Write every changed aggregate (checking versions) and its events, atomically."""

    def rollback(self) -> None: ...
    def collect_events(self) -> Iterator[Event]:
        """The events of the last commit, once."""

    def order_events(
        self, order_id: str, kinds: tuple[type[Event], ...] = ()
    ) -> builtins.list[Event]:
        """The events about one order (committed, then this transaction's), oldest first;
        only those of ``kinds`` when given."""

    def events_after(self, seq: int, limit: int) -> builtins.list[tuple[int, Event]]:
        """Committed events numbered above ``seq``, oldest first, as (number, event)."""

    def last_event_seq(self) -> int:
        """The number of the newest committed event (0 when none)."""

    def reaction_position(self, name: str) -> int | None:
        """The last event the reaction ``name`` handled (None: it never ran)."""

    def move_reaction(self, name: str, old: int | None, new: int) -> None:
        """Move a reaction's position in this transaction, so that it commits with the
        reaction's effects; raises StaleUpdate when another transaction moved it."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The operator's knobs that handlers need (read from Settings by the composition root)."""

    offer_ttl_s: float = 4 * 3600.0  # an offer not accepted by then expires and is re-planned
    horizon_days: float = 30.0  # planning looks this far ahead
    load_factor: float = 0.85  # share of machine time before a deadline the planner promises
    solver: str = "flow"  # "flow" (priced min-cost flow, its gap stated) or "greedy" (baseline)
    max_design_bytes: int = 50 * 1024 * 1024
    max_triangles: int = 2_000_000
    # Placeholders, not market data: a hub sets its own (FABNET_PRICE_RULES); a producer's
    # own rule always wins over its class's default.
    escrow: EscrowPolicy = field(default_factory=EscrowPolicy)
    machines: MachineEnvelope = field(default_factory=MachineEnvelope)
    slow_run_tolerance: float = 1.5  # a job this many times its planned time is slow
    slow_runs_to_flag: int = 3  # slow jobs in a row before the machine is flagged
    max_open_units_per_consumer: int = 1_000_000
    anomaly_action: str = "ask_photo"  # what a telemetry flag does: ask_photo | pause
    risk_per_unit: float = 500.0  # the planner's cost of a unit that fails (x 1 - reliability)
    transit: tuple[tuple[float, int], ...] = HUB_TRANSIT  # (up to km, days on the way)
    probation: Probation = field(default_factory=Probation)  # a newly qualified machine's terms
    coupon_tolerances: ToleranceTable = field(default_factory=ToleranceTable)
    logistics: LogisticsPolicy = field(default_factory=LogisticsPolicy)
    printer_kw: float = 0.1895  # a desktop FDM printer's average draw, figures.md 4 [S]
    grid_kg_per_kwh: float = 0.177  # UK grid 2025, generation (DEFRA, figures.md 1a)
    price_rules: dict[ProducerClass, PriceRule] = field(
        default_factory=lambda: {
            ProducerClass.MAKER: PriceRule(2500, 100, 0, 0.0),
            ProducerClass.FABLAB: PriceRule(3000, 300, 500, 10.0),
            ProducerClass.FACTORY: PriceRule(4000, 800, 1500, 25.0),
        }
    )


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock the caller moves: for tests and the simulator."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError("time does not go backwards")
        self._now = when


class IdSource(Protocol):
    def new(self, prefix: str) -> str: ...


class RandomIds:
    def new(self, prefix: str) -> str:
        return f"{prefix}_{uuid.uuid4().hex[:20]}"


class SeededIds:
    """Repeatable ids for a seeded run (the demo, the simulator, tests)."""

    def __init__(self, seed: int) -> None:
        import random

        self._rng = random.Random(seed)

    def new(self, prefix: str) -> str:
        return f"{prefix}_{self._rng.getrandbits(80):020x}"


class BlobStore(Protocol):
    """Design files, by content hash."""

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...


class MeshAnalyzer(Protocol):
    """Reads a mesh file (STL, OBJ, 3MF), repairs what is safe, measures it; raises
    BadMesh with the reason when it cannot."""

    def analyse(self, filename: str, data: bytes) -> MeshFacts: ...


@dataclass(frozen=True, slots=True)
class SliceResult:
    print_time_s: float
    filament_mm: float
    filament_g: float
    gcode: bytes
    slicer: str  # name and version


class Slicer(Protocol):
    """Slices a mesh with a profile: exact time, filament and the G-code to print.
    Raises SlicerFailed (the slicer's reason) or CapabilityMismatch (part too big)."""

    def slice(self, filename: str, data: bytes, profile: FdmProfile) -> SliceResult: ...


@dataclass(frozen=True, slots=True)
class LiveState:
    """A machine's latest telemetry, as the hub last heard it."""

    machine_id: str
    producer_id: str
    seen_at: datetime
    state: str
    job_id: str | None
    progress: float | None
    temps: dict[str, tuple[float, float]]
    messages: int  # telemetry messages ingested so far


class TelemetryStore(Protocol):
    """The latest telemetry per machine, written in batches (the hot path of ingest)."""

    def upsert(self, batch: Sequence[LiveState]) -> None:
        """One write for the batch; ``messages`` of each entry is added to the count."""

    def get(self, machine_id: str) -> LiveState | None: ...

    def silent_since(self, before: datetime) -> list[str]:
        """Machines whose last telemetry is older than ``before``."""
        ...


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """What a machine says about itself, in fabnet's words."""

    state: str  # idle, printing, paused, error, offline
    progress: float | None = None  # 0..1 of the current print
    temps: dict[str, tuple[float, float]] = field(default_factory=dict)  # actual, target
    file: str | None = None  # the file being printed
    error: str = ""


class MachineLink(Protocol):
    """How an agent reaches one machine: OctoPrint now; Moonraker, PrusaLink later."""

    def status(self) -> LinkStatus: ...
    def upload(self, name: str, gcode: bytes) -> None: ...
    def start(self, name: str) -> None: ...
    def cancel(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def close(self) -> None: ...  # let go of its connections; the machine is not touched


class MachineCommands(Protocol):
    """Sends commands to producer agents (MQTT in production, a list in tests)."""

    def send(self, producer_id: str, machine_id: str, payload: bytes) -> None: ...


class Leases(Protocol):
    """Who runs each background task of the hub: a lease is held by one process until it
    expires or is released; its holder renews it by acquiring it again."""

    def acquire(self, name: str, holder: str, ttl_s: float, now: datetime) -> bool:
        """Take or renew ``name`` for ``ttl_s``; False while another holder has it."""

    def release(self, name: str, holder: str) -> None: ...


class WitnessClient(Protocol):
    """A witness reached over c2sp.org/tlog-witness (HTTP, or in process)."""

    name: str

    def add_checkpoint(self, body: str) -> tuple[int, str]: ...


class LogStore(Protocol):
    """The transparency log's durable side: leaves with a gapless index, append-only.

    ``sequence`` is the only way events enter the log: it runs serialised (one sequencer
    at a time, across processes) and records each event at most once; a second
    sequencer racing it appends nothing twice."""

    def size(self) -> int: ...
    def append(self, leaves: Sequence[bytes], hashes: Sequence[bytes]) -> int:
        """Append leaves that are not events, atomically and durably; returns the index
        of the first one."""

    def sequence(
        self, limit: int, hash_leaf: Callable[[bytes], bytes]
    ) -> tuple[int, builtins.list[bytes]]:
        """Append up to ``limit`` events not yet in the log, oldest first, each once, in
        one serialised transaction; returns (index of the first new leaf, their hashes)."""

    def hashes(self, start: int, end: int) -> builtins.list[bytes]: ...
    def leaves(self, start: int, end: int) -> builtins.list[bytes]: ...
    def last_event_seq(self) -> int:
        """The newest event already in the log (0 when none)."""

    def indexes_for_order(self, order_id: str) -> builtins.list[int]:
        """The leaves about one order, each event's first leaf only."""

    def duplicate_events(self, limit: int = 100) -> builtins.list[tuple[int, builtins.list[int]]]:
        """(event seq, leaf indexes) of events the log holds more than once (a store
        written before the sequencer was serialised); empty for a sound log."""

    def save_checkpoint(self, size: int, note: str) -> None: ...
    def latest_checkpoint(self) -> str | None: ...


def page_of(items: Sequence[A], page: Page) -> Listing[A]:
    return Listing(list(items[page.offset : page.offset + page.limit]), len(items), page)

"""The composition root: Settings -> wired buses. Nothing is built at import.

A unit of work holds one transaction's state, so it is not shared between threads:
``App.bus()`` hands each caller (an API request, the simulator) a bus with its own.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from fabnet.adapters.blobs import FileBlobStore
from fabnet.adapters.db import SqlUnitOfWork, create_engine_for, migrate
from fabnet.adapters.db.leases import SqlLeases
from fabnet.adapters.db.log import SqlLogStore
from fabnet.adapters.db.telemetry import SqlTelemetryStore
from fabnet.adapters.lazy import Lazy
from fabnet.adapters.memory.leases import InMemoryLeases
from fabnet.adapters.memory.telemetry import InMemoryTelemetryStore
from fabnet.config import Settings
from fabnet.domain.errors import ExternalSystemError, InvalidInput
from fabnet.domain.escrow_policy import EscrowPolicy
from fabnet.domain.events import Event
from fabnet.domain.pricing import PriceRule, ProducerClass, parse_producer_class
from fabnet.domain.producers import MachineEnvelope
from fabnet.domain.reliability import Probation
from fabnet.fabrication.qualification import ToleranceTable
from fabnet.ledger.notes import NoteError, Signer, Verifier
from fabnet.routing.airspace import Airspace
from fabnet.routing.modes import MODES
from fabnet.routing.policy import LogisticsPolicy, Weights
from fabnet.services.design_access import LinkSigner
from fabnet.services.ledger import TransparencyLog
from fabnet.services.ports import (
    HUB_TRANSIT,
    BlobStore,
    Clock,
    IdSource,
    Leases,
    LogStore,
    MachineCommands,
    MeshAnalyzer,
    Policy,
    RandomIds,
    Slicer,
    SystemClock,
    TelemetryStore,
    UnitOfWork,
    WitnessClient,
)

if TYPE_CHECKING:
    from fabnet.adapters.mqtt.bridge import MqttBridge
    from fabnet.planning.network import FlowSolver
    from fabnet.routing.instance import VrpSolver
    from fabnet.services.messagebus import MessageBus

log = logging.getLogger(__name__)


def _flow_solver() -> FlowSolver:
    def build() -> FlowSolver:
        from fabnet.adapters.solvers import OrToolsFlow

        return OrToolsFlow()

    return cast("FlowSolver", Lazy(build))


def _vrp_solver() -> VrpSolver:
    def build() -> VrpSolver:
        from fabnet.adapters.solvers.pyvrp_routing import DecomposedPyVrp

        return DecomposedPyVrp()

    return cast("VrpSolver", Lazy(build))


def _slicer(executable: str = "prusa-slicer", timeout_s: float = 600.0) -> Slicer:
    def build() -> Slicer:
        from fabnet.adapters.slicer import PrusaSlicer

        return PrusaSlicer(executable=executable, timeout_s=timeout_s)

    return cast(Slicer, Lazy(build))


def _mesh(max_triangles: int) -> MeshAnalyzer:
    def build() -> MeshAnalyzer:
        from fabnet.adapters.geometry import TrimeshAnalyzer

        return TrimeshAnalyzer(max_triangles=max_triangles)

    return cast(MeshAnalyzer, Lazy(build))


@dataclass
class App:
    """Everything an entry point needs."""

    new_uow: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdSource
    blobs: BlobStore
    mesh: MeshAnalyzer
    policy: Policy
    settings: Settings
    flow_solver: FlowSolver = field(default_factory=_flow_solver)
    vrp_solver: VrpSolver = field(default_factory=_vrp_solver)
    slicer: Slicer | None = field(default_factory=_slicer)
    telemetry: TelemetryStore = field(default_factory=InMemoryTelemetryStore)
    machine_commands: MachineCommands | None = None  # set when a broker is configured
    log_store: LogStore | None = None
    witness_clients: list[WitnessClient] = field(default_factory=list)
    witness_keys: list[Verifier] = field(default_factory=list)
    _ledger: TransparencyLog | None = None
    react: bool = True
    listeners: list[Callable[[Event], None]] = field(default_factory=list)
    closers: list[Callable[[], Any]] = field(default_factory=list)
    leases: Leases = field(default_factory=InMemoryLeases)
    _links: LinkSigner | None = None

    def links(self) -> LinkSigner:
        """Signs producers' download links (the key is made on first use, mode 600)."""
        if self._links is None:
            secret = self.settings.link_secret.encode()
            if not secret:
                secret = load_or_create_secret(self.settings.data_dir / "links.key")
            self._links = LinkSigner(secret)
        return self._links

    def session_secret(self) -> bytes:
        """Signs the web pages' session cookies (made once, mode 600, beside the store)."""
        return load_or_create_secret(self.settings.data_dir / "sessions.key")

    def bus(self) -> MessageBus:
        from fabnet.services.messagebus import MessageBus  # every service: load on first use

        return MessageBus(
            uow=self.new_uow(),
            react=self.react,
            listeners=self.listeners,
            clock=self.clock,
            ids=self.ids,
            blobs=self.blobs,
            mesh=self.mesh,
            policy=self.policy,
            flow_solver=self.flow_solver,
            vrp_solver=self.vrp_solver,
            slicer=self.slicer,
            telemetry=self.telemetry,
            commands=self.machine_commands,
        )

    def ledger(self) -> TransparencyLog:
        """The hub's transparency log (its key is made on first use, mode 600)."""
        if self._ledger is None:
            if self.log_store is None:
                raise ExternalSystemError("ledger", "no log store is configured")
            signer = load_or_create_key(
                self.settings.log_key_file or self.settings.data_dir / "log.key",
                self.settings.log_origin,
            )
            self._ledger = TransparencyLog(
                self.log_store, signer, self.witness_clients, self.witness_keys
            )
            report_duplicates(self._ledger)
        return self._ledger

    def close(self) -> None:
        for close in self.closers:
            close()


def private_dir(path: Path) -> None:
    """The data directory holds the store, the designs and the log key: owner only."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError as exc:
        log.warning("cannot make %s owner-only: %s", path, exc.strerror)


def private_files(db: Path) -> None:
    for name in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if name.exists():
            try:
                os.chmod(name, 0o600)
            except OSError as exc:
                log.warning("cannot make %s owner-only: %s", name, exc.strerror)


def report_duplicates(ledger: TransparencyLog) -> None:
    """A log written before the sequencer was serialised may hold an event twice; it
    cannot be rewritten (it may be cosigned), so say so loudly, once, at start-up."""
    found = ledger.duplicates()
    if found:
        seq, where = found[0]
        log.error(
            "the transparency log holds %s%d event(s) more than once (event %d at leaves %s); "
            "provenance bundles name each event once; see docs/ledger.md and "
            "`fabnet ledger check`",
            "at least " if len(found) >= 100 else "",
            len(found),
            seq,
            where,
        )


def load_or_create_key(path: Path, name: str) -> Signer:
    if path.exists():
        try:
            return Signer.parse(path.read_text(encoding="utf-8"))
        except NoteError as exc:
            raise ExternalSystemError("log key", f"{path}: {exc}") from None
    signer = Signer.generate(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(str(signer) + "\n")
    return signer


def load_or_create_secret(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = base64.urlsafe_b64encode(os.urandom(32))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret + b"\n")
    return secret


def witnesses_from(settings: Settings) -> tuple[list[WitnessClient], list[Verifier]]:
    clients: list[WitnessClient] = []
    if not settings.witnesses.strip():
        return clients, []
    from fabnet.adapters.witness_http import HttpWitnessClient

    keys: list[Verifier] = []
    for item in filter(None, (p.strip() for p in settings.witnesses.split(","))):
        url, sep, vkey = item.partition("|")
        if not sep:
            raise InvalidInput("witnesses", "each witness is URL|verifier-key")
        try:
            verifier = Verifier.parse(vkey)
        except NoteError as exc:
            raise InvalidInput("witnesses", str(exc)) from None
        clients.append(HttpWitnessClient(verifier.name, url))
        keys.append(verifier)
    return clients, keys


def policy_from(settings: Settings) -> Policy:
    return Policy(
        offer_ttl_s=settings.offer_ttl_s,
        horizon_days=settings.horizon_days,
        load_factor=settings.load_factor,
        solver=settings.solver,
        max_design_bytes=settings.max_design_bytes,
        max_triangles=settings.max_triangles,
        price_rules=price_rules_from(settings.price_rules),
        escrow=json_settings(settings.escrow_policy, "escrow_policy", EscrowPolicy),
        machines=json_settings(settings.machine_envelope, "machine_envelope", MachineEnvelope),
        max_open_units_per_consumer=settings.max_open_units_per_consumer,
        anomaly_action=settings.anomaly_action,
        probation=json_settings(settings.probation, "probation", _probation_terms),
        transit=transit_from(settings.transit),
        coupon_tolerances=ToleranceTable.parse(settings.coupon_tolerances),
        logistics=logistics_from(settings.logistics, transit_from(settings.transit)),
    )


def logistics_from(text: str, transit: tuple[tuple[float, int], ...]) -> LogisticsPolicy:
    """FABNET_LOGISTICS: weights, radii, the consolidation factor, the airspace (GeoJSON)
    and mode overrides (a cargo bike's emission factor, say), each checked by name."""
    if not text.strip():
        return LogisticsPolicy(transit=transit)
    raw = _json(text, "logistics")
    if not isinstance(raw, dict):
        raise InvalidInput("logistics", "must be a JSON object")
    known = {"weights", "local_radius_km", "hub_radius_km", "detour", "consolidation",
             "carrier_min_days", "same_day_h", "airspace", "budget_s", "modes",
             "courier_cost_per_kg_km", "carrier_cost_per_kg_km", "max_stops_per_hub"}  # fmt: skip
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput(f"logistics.{unknown[0]}", f"unknown; choose from {sorted(known)}")
    args: dict[str, Any] = {
        k: v for k, v in raw.items() if k not in ("weights", "airspace", "modes")
    }
    if "weights" in raw:
        if not isinstance(raw["weights"], dict):
            raise InvalidInput("logistics.weights", "must be an object")
        try:
            args["weights"] = Weights(**raw["weights"])
        except TypeError as exc:
            raise InvalidInput("logistics.weights", str(exc)) from None
    args["airspace"] = Airspace.from_geojson(raw.get("airspace"), "logistics.airspace")
    modes = dict(MODES)
    overrides = raw.get("modes", {})
    if not isinstance(overrides, dict):
        raise InvalidInput("logistics.modes", "must be an object of mode -> fields")
    for name, change in overrides.items():
        if name not in modes or not isinstance(change, dict):
            raise InvalidInput(f"logistics.modes.{name}", f"a mode of {sorted(modes)}: an object")
        try:
            modes[name] = modes[name].with_(**change)
        except TypeError as exc:
            raise InvalidInput(f"logistics.modes.{name}", str(exc)) from None
    try:
        return LogisticsPolicy(transit=transit, modes=modes, **args)
    except TypeError as exc:
        raise InvalidInput("logistics", str(exc)) from None


def transit_from(text: str) -> tuple[tuple[float, int], ...]:
    """FABNET_TRANSIT: [[up to km, days], ...], checked as the planner checks it."""
    if not text.strip():
        return HUB_TRANSIT
    raw = _json(text, "transit")
    if not isinstance(raw, list):
        raise InvalidInput("transit", "a JSON list of [up to km, days]")
    from fabnet.planning.costs import CostParams

    return CostParams(transit=tuple(tuple(b) if isinstance(b, list) else b for b in raw)).transit


def _probation_terms(**terms: object) -> Probation:
    if "left" in terms:
        raise InvalidInput("probation.left", "not a setting: each machine counts its own")
    return Probation(**terms)  # type: ignore[arg-type]


T = TypeVar("T")


def _json(text: str, name: str) -> Any:
    """A setting's JSON text, or a clear error naming the setting."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(name, f"not JSON: {exc}") from None


def json_settings(text: str, name: str, kind: Callable[..., T]) -> T:
    """A setting given as a JSON object of a dataclass's fields (empty: its defaults)."""
    if not text.strip():
        return kind()
    raw = _json(text, name)
    if not isinstance(raw, dict):
        raise InvalidInput(name, "must be a JSON object")
    try:
        return kind(**raw)
    except TypeError as exc:
        raise InvalidInput(name, str(exc)) from None


def price_rules_from(text: str) -> dict[ProducerClass, PriceRule]:
    rules = dict(Policy().price_rules)
    if not text.strip():
        return rules
    raw = _json(text, "price_rules")
    if not isinstance(raw, dict):
        raise InvalidInput("price_rules", "must be an object of class -> rule")
    for name, rule in raw.items():
        if not isinstance(rule, dict):
            raise InvalidInput(f"price_rules.{name}", "must be an object")
        rules[parse_producer_class(name, f"price_rules.{name}")] = PriceRule.from_dict(rule)
    return rules


def bootstrap(
    settings: Settings,
    *,
    new_uow: Callable[[], UnitOfWork] | None = None,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    blobs: BlobStore | None = None,
    mesh: MeshAnalyzer | None = None,
    slicer: Slicer | None = None,
    telemetry: TelemetryStore | None = None,
    react: bool = True,
    log_store: LogStore | None = None,
    witness_clients: list[WitnessClient] | None = None,
    witness_keys: list[Verifier] | None = None,
) -> App:
    """Wire fabnet: migrate the store, build the adapters. Pass fakes to replace any."""
    closers: list[Callable[[], Any]] = []
    leases: Leases = InMemoryLeases()
    if witness_clients is None:
        witness_clients, witness_keys = witnesses_from(settings)
    if new_uow is None:
        url = settings.resolved_database_url()
        if url.startswith("sqlite:///"):
            private_dir(settings.data_dir)
        engine = create_engine_for(url)
        migrate(engine)
        if url.startswith("sqlite:///"):
            private_files(Path(url.removeprefix("sqlite:///")))
        closers.append(engine.dispose)
        log_store = log_store or SqlLogStore(engine)
        telemetry = telemetry or SqlTelemetryStore(engine)
        leases = SqlLeases(engine)

        def new_uow() -> UnitOfWork:
            return SqlUnitOfWork(engine)

    return App(
        new_uow=new_uow,
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        blobs=blobs or FileBlobStore(settings.data_dir / "designs"),
        mesh=mesh or _mesh(settings.max_triangles),
        policy=policy_from(settings),
        settings=settings,
        slicer=slicer or _slicer(settings.slicer, settings.slicer_timeout_s),
        telemetry=telemetry or InMemoryTelemetryStore(),
        react=react,
        closers=closers,
        log_store=log_store,
        witness_clients=witness_clients,
        witness_keys=witness_keys or [],
        leases=leases,
    )


def connect_machines(app: App) -> MqttBridge | None:
    """Join the machines' broker when one is configured: telemetry and agent events in,
    offers and commands out. Returns the running bridge (stopped by ``app.close()``)."""
    settings = app.settings
    if not settings.mqtt_url:
        return None
    from fabnet.adapters.mqtt.bridge import MqttBridge
    from fabnet.adapters.mqtt.client import MqttClient

    client = MqttClient(
        settings.mqtt_url,
        client_id=f"fabnet-hub-{settings.log_origin}",
        username=settings.mqtt_username,
        password=settings.mqtt_password,
        manual_ack=True,
    )
    from fabnet.fabrication.anomaly import DetectorSettings

    bridge = MqttBridge(
        client,
        bus=app.bus,
        new_uow=app.new_uow,
        telemetry=app.telemetry,
        anomaly=json_settings(settings.anomaly_rules, "anomaly_rules", DetectorSettings),
    )
    bridge.start()
    app.machine_commands = bridge.commands
    app.listeners.append(bridge.on_hub_event)
    app.closers.insert(0, bridge.stop)
    return bridge

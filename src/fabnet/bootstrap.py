"""The composition root: Settings -> wired buses. Nothing is built at import.

A unit of work holds one transaction's state, so it is not shared between threads:
``App.bus()`` hands each caller (an API request, the simulator) a bus with its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fabnet.adapters.blobs import FileBlobStore
from fabnet.adapters.db import SqlUnitOfWork, create_engine_for, migrate
from fabnet.adapters.geometry import StlAnalyzer
from fabnet.adapters.solvers import OrToolsFlow
from fabnet.config import Settings
from fabnet.domain.events import Event
from fabnet.planning.network import FlowSolver
from fabnet.services.messagebus import MessageBus
from fabnet.services.ports import (
    BlobStore,
    Clock,
    IdSource,
    MeshAnalyzer,
    Policy,
    RandomIds,
    SystemClock,
    UnitOfWork,
)


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
    flow_solver: FlowSolver = field(default_factory=OrToolsFlow)
    react: bool = True
    listeners: list[Callable[[Event], None]] = field(default_factory=list)
    closers: list[Callable[[], Any]] = field(default_factory=list)

    def bus(self) -> MessageBus:
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
        )

    def close(self) -> None:
        for close in self.closers:
            close()


def policy_from(settings: Settings) -> Policy:
    return Policy(
        offer_ttl_s=settings.offer_ttl_s,
        horizon_days=settings.horizon_days,
        load_factor=settings.load_factor,
        solver=settings.solver,
        max_design_bytes=settings.max_design_bytes,
        max_triangles=settings.max_triangles,
    )


def bootstrap(
    settings: Settings,
    *,
    new_uow: Callable[[], UnitOfWork] | None = None,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    blobs: BlobStore | None = None,
    mesh: MeshAnalyzer | None = None,
    react: bool = True,
) -> App:
    """Wire fabnet: migrate the store, build the adapters. Pass fakes to replace any."""
    closers: list[Callable[[], Any]] = []
    if new_uow is None:
        url = settings.resolved_database_url()
        if url.startswith("sqlite:///"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine_for(url)
        migrate(engine)
        closers.append(engine.dispose)

        def new_uow() -> UnitOfWork:
            return SqlUnitOfWork(engine)

    return App(
        new_uow=new_uow,
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        blobs=blobs or FileBlobStore(settings.data_dir / "designs"),
        mesh=mesh or StlAnalyzer(max_triangles=settings.max_triangles),
        policy=policy_from(settings),
        settings=settings,
        react=react,
        closers=closers,
    )

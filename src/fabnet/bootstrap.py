"""The composition root: Settings -> a wired message bus. Nothing is built at import."""

from __future__ import annotations

from dataclasses import dataclass

from fabnet.adapters.blobs import FileBlobStore
from fabnet.adapters.db import SqlUnitOfWork, create_engine_for, migrate
from fabnet.adapters.geometry import StlAnalyzer
from fabnet.config import Settings
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
    """Everything an entry point needs: the bus and the pieces it was built from."""

    bus: MessageBus
    uow: UnitOfWork
    clock: Clock
    policy: Policy
    settings: Settings

    def close(self) -> None:
        engine = getattr(self.uow, "engine", None)
        if engine is not None:
            engine.dispose()


def policy_from(settings: Settings) -> Policy:
    return Policy(
        offer_ttl_s=settings.offer_ttl_s,
        horizon_days=settings.horizon_days,
        max_design_bytes=settings.max_design_bytes,
        max_triangles=settings.max_triangles,
    )


def bootstrap(
    settings: Settings,
    *,
    uow: UnitOfWork | None = None,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    blobs: BlobStore | None = None,
    mesh: MeshAnalyzer | None = None,
    react: bool = True,
) -> App:
    """Wire fabnet. Pass fakes to replace any outside system (tests, the simulator)."""
    policy = policy_from(settings)
    if uow is None:
        url = settings.resolved_database_url()
        if url.startswith("sqlite:///"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine_for(url)
        migrate(engine)
        uow = SqlUnitOfWork(engine)
    assert uow is not None
    clock = clock or SystemClock()
    bus = MessageBus(
        uow=uow,
        react=react,
        clock=clock,
        ids=ids or RandomIds(),
        blobs=blobs or FileBlobStore(settings.data_dir / "designs"),
        mesh=mesh or StlAnalyzer(max_triangles=settings.max_triangles),
        policy=policy,
    )
    return App(bus=bus, uow=uow, clock=clock, policy=policy, settings=settings)

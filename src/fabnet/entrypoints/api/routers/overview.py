"""/overview: the operator's counters, alerts and map data (the operator page reads it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from fabnet.bootstrap import App
from fabnet.entrypoints.api.deps import Caller, Uow, get_app
from fabnet.services import overview as svc

router = APIRouter(tags=["overview"])


@router.get("/overview")
def overview(uow: Uow, caller: Caller, app: Annotated[App, Depends(get_app)]) -> dict[str, Any]:
    """Units planned, printing, made, shipped, delivered, on time; open orders; alerts
    (late jobs, flagged or silent machines, parcels that fail or wait with a reason)."""
    return svc.overview(uow, caller, app.clock.now())


@router.get("/overview/map")
def network_map(uow: Uow, caller: Caller) -> dict[str, Any]:
    """Producers, open destinations, flows of live jobs and couriers' legs, as arrays."""
    return svc.network_map(uow, caller)

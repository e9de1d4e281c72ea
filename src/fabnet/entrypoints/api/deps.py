"""Request-scoped dependencies: the wired app, a bus with its own unit of work, the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from fabnet.bootstrap import App
from fabnet.domain.access import Principal
from fabnet.entrypoints.api.heavy import HeavyWork
from fabnet.services.access import authenticate
from fabnet.services.messagebus import MessageBus
from fabnet.services.ports import MAX_OFFSET, MAX_PAGE, Page, UnitOfWork


async def get_app(request: Request) -> App:
    app: App = request.app.state.fabnet
    return app


async def get_bus(app: Annotated[App, Depends(get_app)]) -> MessageBus:
    return app.bus()


async def get_uow(app: Annotated[App, Depends(get_app)]) -> UnitOfWork:
    return app.new_uow()


async def get_principal(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="your API key")] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The caller, as the front door (guard.py) authenticated it before the body was
    read; looked up here only when the app runs without it."""
    known = request.scope.get("state", {}).get("principal")
    if isinstance(known, Principal):
        return known
    secret = x_api_key
    if secret is None and authorization and authorization.lower().startswith("bearer "):
        secret = authorization[7:].strip()
    app: App = request.app.state.fabnet
    return await run_in_threadpool(
        lambda: authenticate(secret, uow=app.new_uow(), now=app.clock.now())
    )


async def get_heavy(request: Request) -> HeavyWork:
    heavy: HeavyWork = request.app.state.heavy
    return heavy


async def get_page(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


Bus = Annotated[MessageBus, Depends(get_bus)]
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Caller = Annotated[Principal, Depends(get_principal)]
Paging = Annotated[Page, Depends(get_page)]
Heavy = Annotated[HeavyWork, Depends(get_heavy)]

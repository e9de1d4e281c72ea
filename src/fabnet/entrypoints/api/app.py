"""``create_app(settings)``: the FastAPI application, errors mapped by one table."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from fabnet import __version__
from fabnet.bootstrap import App, bootstrap
from fabnet.config import Settings
from fabnet.domain.errors import FabnetError
from fabnet.entrypoints.api.guard import Guard, KeyCache
from fabnet.entrypoints.api.heavy import HeavyWork
from fabnet.entrypoints.api.routers import (
    designs,
    keys,
    ledger,
    logistics,
    orders,
    overview,
    producers,
    quotes,
)
from fabnet.entrypoints.api.schemas.common import ERRORS
from fabnet.entrypoints.errors import body, classify
from fabnet.entrypoints.hub import Hub
from fabnet.entrypoints.web import pages
from fabnet.entrypoints.web.headers import SecurityHeaders
from fabnet.entrypoints.web.sessions import SessionAuth, Sessions

log = logging.getLogger(__name__)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or ".".join(str(p) for p in loc)


def _allowed(request: Request) -> list[str]:
    """The methods the schema documents for the request's path."""
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods.update(m.upper() for m in operations)
    return sorted(methods)


def create_app(
    settings: Settings | None = None, *, fabnet: App | None = None, hub: bool = True
) -> FastAPI:
    """Build the API over ``fabnet`` (or a fresh bootstrap of ``settings``); with ``hub``
    the hub's background work (entrypoints/hub.py) runs beside it while it serves."""
    wired = fabnet or bootstrap(settings or Settings())
    api = FastAPI(
        lifespan=_lifespan(wired, hub),
        title="fabnet",
        version=__version__,
        description="Coordination API for distributed manufacturing. "
        "Authenticate with the X-API-Key header.",
    )
    _guarded(api, wired)
    _errors_handled(api)

    @api.get("/health", tags=["meta"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for router in (producers, designs, quotes, orders, keys, ledger, logistics, overview):
        api.include_router(router.router, responses=ERRORS)
    api.include_router(pages.router)
    api.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    api.add_middleware(SecurityHeaders)
    _errors_are_json(api)
    return api


def _lifespan(wired: App, hub: bool) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """While the app serves: few request threads, and the hub's work where asked."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # few request threads: more only fight over the GIL (and the SQLite writer)
        anyio.to_thread.current_default_thread_limiter().total_tokens = (
            wired.settings.request_threads
        )
        runner = Hub(wired, wired.leases).start() if hub else None
        try:
            yield
        finally:
            if runner is not None:
                await run_in_threadpool(runner.stop)

    return lifespan


def _guarded(api: FastAPI, wired: App) -> None:
    """The app's state (the wired hub, heavy-work slots, key and session caches) and
    the guard in front of every request (authentication, body sizes, rates)."""
    api.state.fabnet = wired
    api.state.heavy = HeavyWork(
        workers=wired.settings.heavy_workers,
        per_key=wired.settings.heavy_per_key,
        timeout_s=wired.settings.heavy_timeout_s,
    )
    api.state.keys = KeyCache(wired.new_uow, wired.settings.auth_cache_s, wired.clock)
    api.state.sessions = SessionAuth(Sessions(wired.session_secret()), wired.new_uow, wired.clock)
    api.add_middleware(
        Guard,
        authenticate_key=api.state.keys,
        sessions=api.state.sessions,
        max_body_bytes=wired.settings.max_body_bytes,
        max_upload_bytes=wired.policy.max_design_bytes,
        rate_per_s=wired.settings.rate_per_s,
        rate_burst=wired.settings.rate_burst,
    )


def _invalid_body(exc: RequestValidationError) -> dict[str, Any]:
    """A validation error as the API says every error: the first problem's field and
    what is wrong with it, and every problem."""
    problems = [
        {"field": _field(tuple(err.get("loc", ()))), "problem": err.get("msg", "")}
        for err in exc.errors()
    ]
    first = problems[0] if problems else {"field": "", "problem": "invalid request"}
    detail = {
        "type": "invalid_input",
        "message": f"{first['field']}: {first['problem']}",
        "field": first["field"],
        "problem": first["problem"],
        "problems": problems,
    }
    return {"error": detail}


def _errors_handled(api: FastAPI) -> None:
    """Every error answered as JSON with its status (entrypoints/errors.py's table)."""

    @api.exception_handler(FabnetError)
    async def _fabnet_error(_: Request, exc: FabnetError) -> JSONResponse:
        return JSONResponse(body(exc), status_code=classify(exc)[0])

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(_invalid_body(exc), status_code=422)

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        detail = {"type": kinds.get(exc.status_code, "http_error"), "message": str(exc.detail)}
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only the first route's
            headers["Allow"] = ", ".join(_allowed(request))
        return JSONResponse({"error": detail}, status_code=exc.status_code, headers=headers)

    @api.exception_handler(Exception)
    async def _unknown(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            {"error": {"type": "internal", "message": "internal error; see the server log"}},
            status_code=500,
        )


def _errors_are_json(api: FastAPI) -> None:
    """Errors are JSON on every route, also where the success is plain text (FastAPI
    would document them in the route's own media type)."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if status.isdigit() and int(status) >= 400 and "content" in response:
                        content = response["content"]
                        if "application/json" not in content:
                            response["content"] = {"application/json": next(iter(content.values()))}
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


def from_environment() -> FastAPI:
    """The app factory of ``fabnet serve --workers N``: each worker process wires its own
    app from the environment (the hub tasks run in whichever holds their leases)."""
    wired = bootstrap(Settings())
    wired.react = False  # the hub drains reactions in the background
    return create_app(fabnet=wired, hub=Settings().run_hub)

"""The web pages: sign-in, one page per role, live updates by server-sent events.

Pages are shells: HTML with the signed-in principal's role and CSRF token, and scripts
from ``/static`` that read everything through the same JSON API (so the API's access
rules decide what a page shows). Nothing is fetched from outside the hub: the map's
boundaries ship with the package (static/world, Natural Earth via world-atlas).
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from fabnet.domain.access import Principal
from fabnet.domain.errors import FabnetError, Unauthorized
from fabnet.domain.states import Role
from fabnet.entrypoints.web.sessions import COOKIE, SESSION_TTL_S, SessionAuth, cookie_of

STATIC = Path(__file__).parent / "static"
MAX_FORM_BYTES = 4096
LIVE_POLL_S = 1.0
LIVE_MAX_S = 3600.0  # a stream ends after an hour; the browser reconnects by itself
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # so that a same-origin form's Origin is sent
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
TITLES = {
    Role.OPERATOR: "Network",
    Role.CONSUMER: "My orders",
    Role.PRODUCER: "My jobs",
    Role.COURIER: "My route",
}

router = APIRouter(include_in_schema=False)


def _auth(request: Request) -> SessionAuth:
    auth: SessionAuth = request.app.state.sessions
    return auth


def _page(body: str, *, title: str, status: int = 200, head: str = "") -> Response:
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · fabnet</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">{head}</head>
{body}</html>"""
    return HTMLResponse(text, status_code=status, headers=SECURITY_HEADERS)


def sign_in_page(message: str = "", status: int = 200) -> Response:
    error = (
        f'<p class="error" id="key-error" role="alert">{html.escape(message)}</p>'
        if message
        else ""
    )
    described = ' aria-describedby="key-error" aria-invalid="true"' if message else ""
    body = f"""<body class="signin"><main>
<h1>fabnet</h1>
<form method="post" action="/session" class="card">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required
 maxlength="200"{described} autofocus>
{error}
<button type="submit">Sign in</button>
<p class="hint">Your key is exchanged for a session; it is never stored in the browser.</p>
</form></main></body>"""
    return _page(body, title="Sign in", status=status)


def role_page(principal: Principal, csrf: str) -> Response:
    role = principal.role
    title = TITLES[role]
    who = principal.producer_id or principal.id
    body = f"""<body data-role="{role.value}" data-who="{html.escape(who)}">
<header class="bar"><h1>fabnet <span class="sub">{html.escape(title)}</span></h1>
<p id="live" class="live" role="status" aria-live="polite">connecting…</p>
<form method="post" action="/session/end"><input type="hidden" name="csrf" value="{csrf}">
<button type="submit" class="quiet">Sign out</button></form></header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<script type="module" src="/static/{role.value}.js"></script>
</body>"""
    return _page(body, title=title, head=f'\n<meta name="csrf" content="{csrf}">')


@router.get("/")
async def home(request: Request) -> Response:
    token = cookie_of({k.lower(): v for k, v in request.scope.get("headers", [])})
    if not token:
        return sign_in_page()
    auth = _auth(request)
    try:
        principal = await run_in_threadpool(auth, token)
    except FabnetError as exc:
        return sign_in_page(exc.message, status=401)
    return role_page(principal, auth.sessions.csrf(token))


async def _form(request: Request) -> dict[str, str]:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            break
    fields = parse_qs(raw[:MAX_FORM_BYTES].decode("utf-8", "replace"), max_num_fields=10)
    return {k: v[0] for k, v in fields.items() if v}


def _same_origin(request: Request) -> bool:
    """A sign-in form posted from another site is refused (login CSRF): the browser's
    Sec-Fetch-Site when it sends one, else the Origin against the Host."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser (curl, a script with the key anyway)
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


@router.post("/session")
async def open_session(request: Request) -> Response:
    if not _same_origin(request):
        return sign_in_page("this form must be sent from the hub's own page", status=403)
    form = await _form(request)
    key = form.get("key", "").strip()
    if not key:
        return sign_in_page("key: enter your API key", status=422)
    app = request.app.state.fabnet
    try:
        principal = await run_in_threadpool(request.app.state.keys, key)
    except Unauthorized:
        return sign_in_page("key: unknown, revoked or expired", status=401)
    token = _auth(request).sessions.issue(principal.key_id, app.clock.now())
    response = RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_TTL_S),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/session/end")
async def end_session(request: Request) -> Response:
    token = cookie_of({k.lower(): v for k, v in request.scope.get("headers", [])})
    form = await _form(request)
    if token and not _auth(request).sessions.csrf_ok(token, form.get("csrf")):
        return sign_in_page("sign-out refused: the form's CSRF token is wrong", status=403)
    response = RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/live")
async def live(request: Request) -> Response:
    """Server-sent events: ``change`` with the newest event number whenever the store has
    new events, or a maker's machine was heard (the page then reads what it shows
    through the API again), a comment
    every 15 s to keep the connection, and an end after an hour (the browser
    reconnects). The caller is the guard's: a session or a key."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise Unauthorized("sign in first")
    app = request.app.state.fabnet

    machines: list[str] = []
    if principal.role is Role.PRODUCER and principal.producer_id:
        uow = app.new_uow()
        with uow.reading():
            machines = [m.id for m in uow.machines.of_producer(principal.producer_id)]

    def newest() -> tuple[int, tuple[object, ...]]:
        """The newest event, and (for a maker) when each machine was last heard: its
        temperatures and progress are telemetry, not events."""
        uow = app.new_uow()
        with uow.reading():
            seq = int(uow.last_event_seq())
        heard = tuple(getattr(app.telemetry.get(mid), "seen_at", None) for mid in machines[:100])
        return seq, heard

    async def stream() -> Any:
        seen = await run_in_threadpool(newest)
        yield f"retry: 2000\nevent: hello\ndata: {json.dumps({'seq': seen[0]})}\n\n"
        started = quiet = time.monotonic()
        while time.monotonic() - started < LIVE_MAX_S:
            if await request.is_disconnected():
                return
            await asyncio.sleep(LIVE_POLL_S)
            now_seq = await run_in_threadpool(newest)
            if now_seq != seen:
                seen, quiet = now_seq, time.monotonic()
                yield f"event: change\ndata: {json.dumps({'seq': seen[0]})}\n\n"
            elif time.monotonic() - quiet > 15:
                quiet = time.monotonic()
                yield ": still here\n\n"

    headers = {**SECURITY_HEADERS, "x-accel-buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

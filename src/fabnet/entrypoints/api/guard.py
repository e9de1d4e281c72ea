"""The API's front door, before any body is read: size, key, rate.

A pure ASGI middleware, so that it runs before FastAPI parses anything:

1. Every route but the public ones needs a known, unexpired, unrevoked key: 401 before
   the body is read. The principal is handed to the route (``scope["state"]``), so the
   key is looked up once per request.
   A key without the ``write`` scope may only GET (403 otherwise).
2. Each key has a token bucket (``rate_per_s``, ``rate_burst``): 429 with Retry-After.
3. A body must declare its length (``Content-Length``; chunked bodies get 411), and the
   length must be within the route's limit (uploads: the design size cap; everything
   else: ``max_body_bytes``), else 413 naming the limit. The body is never read for that.

Errors have the API's shape: ``{"error": {"type", "message", "field", "limit"}}``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from fabnet.domain.access import Principal, hash_key
from fabnet.domain.errors import FabnetError
from fabnet.domain.states import Role
from fabnet.entrypoints.errors import body, classify
from fabnet.entrypoints.web.sessions import CSRF_HEADER, SessionAuth, cookie_of
from fabnet.services.access import authenticate

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC = frozenset({"/health", "/ledger/key", "/openapi.json", "/docs", "/redoc", "/enrol"})
PUBLIC_PREFIXES: tuple[str, ...] = ("/docs/", "/files/")  # a signed link: its own capability
# the web pages check their session themselves (a page without one is the sign-in page)
PUBLIC = PUBLIC | {"/", "/session", "/session/end"}
PUBLIC_PREFIXES = (*PUBLIC_PREFIXES, "/static/")
# a courier's key reaches its route and its parcels, nothing else (defence in depth: the
# services check every read and step again)
COURIER_PATHS = ("/couriers/", "/shipments/", "/live")
UPLOADS = frozenset({"/designs", "/quotes"})
UPLOAD_SLACK = 64 * 1024  # multipart framing and form fields around the file


@dataclass
class Buckets:
    """Token buckets per key, in this process (each replica limits on its own)."""

    rate_per_s: float
    burst: float
    _state: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, time
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str, now: float) -> float:
        """0 when a request may go; else the seconds until one may."""
        with self._lock:
            tokens, then = self._state.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate_per_s)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0.0
            self._state[key] = (tokens, now)
            if len(self._state) > 100_000:  # bounded: forget the oldest half
                for stale in sorted(self._state, key=lambda k: self._state[k][1])[:50_000]:
                    del self._state[stale]
            return (1 - tokens) / self.rate_per_s


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate_key: Callable[[str], Principal],
        max_body_bytes: int,
        max_upload_bytes: int,
        rate_per_s: float,
        rate_burst: float,
        sessions: SessionAuth | None = None,
    ) -> None:
        self.app = app
        self.authenticate_key = authenticate_key
        self.sessions = sessions  # browsers: a session cookie instead of a key
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes + UPLOAD_SLACK
        self.buckets = Buckets(rate_per_s, rate_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        path: str = scope["path"]
        if path not in PUBLIC and not path.startswith(PUBLIC_PREFIXES):
            secret = _secret(headers)
            token = None if secret else cookie_of(headers)
            if not secret and not (token and self.sessions is not None):
                message = "an API key is required (header X-API-Key)"
                await _answer(send, 401, "unauthorized", message)
                return
            try:
                if token and self.sessions is not None:  # a browser's session (web pages)
                    principal = await run_in_threadpool(self.sessions, token)
                else:
                    principal = await run_in_threadpool(self.authenticate_key, secret)
            except FabnetError as exc:
                status, _, _ = classify(exc)
                await _send_json(send, status, body(exc))
                return
            unsafe = scope["method"] not in ("GET", "HEAD", "OPTIONS")
            if (
                token
                and unsafe
                and not self.sessions.sessions.csrf_ok(  # type: ignore[union-attr]
                    token, headers.get(CSRF_HEADER.encode(), b"").decode("latin-1")
                )
            ):
                await _answer(
                    send, 403, "forbidden", "missing or wrong CSRF token", {"field": "csrf"}
                )
                return
            wait_s = self.buckets.take(principal.id, time.monotonic())
            if wait_s:
                retry = str(max(1, math.ceil(wait_s)))
                await _answer(
                    send,
                    429,
                    "rate_limited",
                    f"more than {self.buckets.rate_per_s:g} requests per second "
                    f"(burst {self.buckets.burst:g}) with this key",
                    extra={"limit": "rate_per_s", "retry_after_s": int(retry)},
                    headers=[(b"retry-after", retry.encode())],
                )
                return
            if scope["method"] not in ("GET", "HEAD", "OPTIONS") and not principal.may_write:
                await _answer(send, 403, "forbidden", "this key may only read (scope 'read')")
                return
            if principal.role is Role.COURIER and not path.startswith(COURIER_PATHS):
                await _answer(
                    send, 403, "forbidden", "a courier key reaches /couriers, /shipments, /live"
                )
                return
            scope.setdefault("state", {})["principal"] = principal
        problem = self._size(scope, headers, path)
        if problem is not None:
            await _answer(send, *problem)
            return
        await self.app(scope, receive, send)

    def _size(
        self, scope: Scope, headers: dict[bytes, bytes], path: str
    ) -> tuple[int, str, str, dict[str, Any]] | None:
        bodyless = scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE")
        if bodyless and b"content-length" not in headers:
            return None
        length = headers.get(b"content-length")
        if length is None:
            if b"transfer-encoding" in headers:
                return 411, "length_required", "send the body with a Content-Length", {}
            return None
        if not length.isdigit():
            return 400, "bad_request", "Content-Length must be a number of bytes", {}
        limit = self.max_upload_bytes if path in UPLOADS else self.max_body_bytes
        if int(length) > limit:
            return (
                413,
                "payload_too_large",
                f"the body is larger than the limit of {limit} bytes",
                {
                    "field": "body",
                    "limit": "max_design_bytes" if path in UPLOADS else "max_body_bytes",
                    "limit_bytes": limit,
                },
            )
        return None


def _secret(headers: dict[bytes, bytes]) -> str:
    key = headers.get(b"x-api-key")
    if key:
        return key.decode("latin-1").strip()
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return ""


async def _answer(
    send: Send,
    status: int,
    kind: str,
    message: str,
    extra: dict[str, Any] | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    detail = {"type": kind, "message": message, **(extra or {})}
    await _send_json(send, status, {"error": detail}, headers)


async def _send_json(
    send: Send, status: int, data: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),  # the body we did not read must not be parsed
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class KeyCache:
    """Looks keys up in the store, remembering a good key for ``ttl_s`` (a revoked or
    expired key is refused by every replica within that time; 0 turns it off)."""

    def __init__(
        self, new_uow: Callable[[], Any], ttl_s: float, clock: Any, size: int = 10_000
    ) -> None:
        self.new_uow = new_uow
        self.clock = clock
        self.ttl_s = ttl_s
        self.size = size
        self._known: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, secret: str) -> Principal:
        now = time.monotonic()
        digest = hash_key(secret)
        with self._lock:
            hit = self._known.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        principal = authenticate(secret, uow=self.new_uow(), now=self.clock.now())
        if self.ttl_s > 0:
            with self._lock:
                if len(self._known) >= self.size:
                    self._known.clear()
                self._known[digest] = (principal, now + self.ttl_s)
        return principal

    def forget(self) -> None:
        with self._lock:
            self._known.clear()

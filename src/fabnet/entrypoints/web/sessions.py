"""Browser sessions: an API key exchanged once for a signed, expiring session cookie.

The cookie holds ``key_id.expires.nonce.mac`` (HMAC-SHA256 with the hub's session
secret), never the key: each request looks the key up by id, so revoking the key ends
its sessions at once (within the key cache's time). The cookie is HttpOnly and
SameSite=Strict. Every request that changes something carries the session's CSRF token
(``X-CSRF-Token``, or a form's ``csrf`` field), an HMAC of the session token itself, so
another site can neither read nor forge it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fabnet.domain.access import Principal
from fabnet.domain.errors import Unauthorized

COOKIE = "fabnet_session"
CSRF_HEADER = "x-csrf-token"
SESSION_TTL_S = 12 * 3600


def _mac(secret: bytes, label: str, text: str) -> str:
    digest = hmac.new(secret, f"{label}|{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class Sessions:
    secret: bytes
    ttl_s: float = SESSION_TTL_S

    def __post_init__(self) -> None:
        if len(self.secret) < 32:
            raise ValueError("the session secret must be at least 32 bytes")

    def issue(self, key_id: str, now: datetime) -> str:
        expires = int(now.timestamp() + self.ttl_s)
        body = f"{key_id}.{expires}.{secrets.token_urlsafe(12)}"
        return f"{body}.{_mac(self.secret, 'session', body)}"

    def key_id(self, token: str, now: datetime) -> str:
        """The key the session was opened with; Unauthorized when forged or expired."""
        refused = Unauthorized("the session is unknown or expired: sign in again")
        if len(token) > 300 or token.count(".") != 3:
            raise refused
        body, _, mac = token.rpartition(".")
        if not hmac.compare_digest(mac, _mac(self.secret, "session", body)):
            raise refused
        key_id, expires, _nonce = body.split(".")
        if not expires.isdigit() or int(expires) <= now.timestamp():
            raise refused
        return key_id

    def csrf(self, token: str) -> str:
        return _mac(self.secret, "csrf", token)[:32]

    def csrf_ok(self, token: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf(token), given or "")


class SessionAuth:
    """Cookie -> principal: the session's key, looked up and checked live each time."""

    def __init__(self, sessions: Sessions, new_uow: Callable[[], Any], clock: Any) -> None:
        self.sessions = sessions
        self.new_uow = new_uow
        self.clock = clock

    def __call__(self, token: str) -> Principal:
        now = self.clock.now()
        key_id = self.sessions.key_id(token, now)
        uow = self.new_uow()
        with uow.reading():
            key = uow.api_keys.find(key_id)
            if key is None or not key.live(now):
                raise Unauthorized("the session's key was revoked or expired: sign in again")
            principal: Principal = key.principal
            return principal


def cookie_of(headers: dict[bytes, bytes]) -> str | None:
    raw = headers.get(b"cookie", b"").decode("latin-1")
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None

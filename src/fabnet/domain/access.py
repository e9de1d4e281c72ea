"""Who may do what: principals, roles and the access rules of the API.

The rules live here, in one place, so that the API, the CLI and the tests share them:
an operator may do everything; a consumer sees only its own orders; a producer sees and
changes only its own facility, machines and jobs.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from fabnet.domain.aggregate import Aggregate
from fabnet.domain.errors import InvalidInput
from fabnet.domain.ids import ApiKeyId, PrincipalId, ProducerId
from fabnet.domain.principal import SCOPES, Principal
from fabnet.domain.states import Role

__all__ = ["KEY_PREFIX", "SCOPES", "ApiKey", "Principal", "hash_key"]

KEY_PREFIX = "fab_"


def hash_key(secret: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a sound one-way store."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(kw_only=True)
class ApiKey(Aggregate):
    id: ApiKeyId
    name: str
    principal_id: PrincipalId
    role: Role
    producer_id: ProducerId | None
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ("read", "write")

    def __post_init__(self) -> None:
        unknown = set(self.scopes) - SCOPES
        if unknown or not self.scopes:
            raise InvalidInput("scopes", f"choose from {', '.join(sorted(SCOPES))}")
        if self.role is Role.PRODUCER and not self.producer_id:
            raise InvalidInput("producer_id", "a producer key must name its producer")
        if self.role is not Role.PRODUCER and self.producer_id:
            raise InvalidInput("producer_id", "only producer keys name a producer")

    @property
    def principal(self) -> Principal:
        return Principal(
            id=self.principal_id,
            role=self.role,
            producer_id=self.producer_id,
            scopes=frozenset(self.scopes),
            key_id=self.id,
        )

    def live(self, at: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or at < self.expires_at)

    def matches(self, secret: str, at: datetime) -> bool:
        return self.live(at) and hmac.compare_digest(self.key_hash, hash_key(secret))

    def revoke(self, at: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = at

"""/keys: an operator issues API keys (the secret is in the answer once, never again);
keys are listed without secrets and revoked by an operator or their own principal."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, Field

from fabnet.domain.access import ApiKey
from fabnet.domain.errors import Forbidden
from fabnet.domain.ids import ApiKeyId
from fabnet.domain.states import Role
from fabnet.entrypoints.api.deps import Bus, Caller, Paging, Uow
from fabnet.entrypoints.api.schemas.common import PageOut, Strict, paged
from fabnet.services import commands as cmd
from fabnet.services.access import list_api_keys

router = APIRouter(tags=["keys"])
Scope = Literal["read", "write"]
ALL_SCOPES: tuple[Scope, ...] = ("read", "write")


class KeyIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    role: Role = Field(strict=False)
    producer_id: str | None = Field(default=None, max_length=40)
    courier_id: str | None = Field(
        default=None, max_length=40, description="for a courier key: the courier it speaks for"
    )
    expires_at: AwareDatetime | None = Field(
        default=None, strict=False, description="none: the key lives until revoked"
    )
    scopes: list[Scope] = Field(
        default_factory=lambda: list(ALL_SCOPES), min_length=1, max_length=2
    )


class KeyOut(BaseModel):
    id: str
    principal_id: str
    role: Role
    secret: str


class KeyInfo(BaseModel):
    id: str
    name: str
    principal_id: str
    role: Role
    producer_id: str | None
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, k: ApiKey) -> KeyInfo:
        return cls(
            id=k.id,
            name=k.name,
            principal_id=k.principal_id,
            role=k.role,
            producer_id=k.producer_id,
            scopes=list(k.scopes),
            created_at=k.created_at,
            expires_at=k.expires_at,
            revoked_at=k.revoked_at,
        )


@router.post("/keys", status_code=201, response_model=KeyOut)
def create_key(body: KeyIn, bus: Bus, caller: Caller) -> KeyOut:
    if not caller.is_operator:
        raise Forbidden("only an operator issues keys")
    key = bus.handle(
        cmd.CreateApiKey(
            body.name,
            body.role,
            body.producer_id,
            principal_id=body.courier_id,
            expires_at=body.expires_at,
            scopes=tuple(body.scopes),
        )
    )
    return KeyOut(id=key.key_id, principal_id=key.principal_id, role=body.role, secret=key.secret)


@router.get("/keys", response_model=PageOut[KeyInfo])
def list_keys(uow: Uow, caller: Caller, page: Paging) -> PageOut[KeyInfo]:
    """Operators see every key, anyone else their own; secrets are never shown."""
    return paged(list_api_keys(uow, caller, page), KeyInfo.of)


@router.post("/keys/{key_id}/revoke", response_model=KeyInfo)
def revoke_key(key_id: ApiKeyId, request: Request, bus: Bus, uow: Uow, caller: Caller) -> KeyInfo:
    """Revoke a key at once (other replicas within FABNET_AUTH_CACHE_S)."""
    bus.handle(cmd.RevokeApiKey(caller, key_id))
    request.app.state.keys.forget()
    with uow.reading():
        return KeyInfo.of(uow.api_keys.get(key_id))

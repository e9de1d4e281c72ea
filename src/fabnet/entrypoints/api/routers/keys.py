"""/keys: an operator issues API keys; the secret is in the answer once, never again."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from fabnet.domain.errors import Forbidden
from fabnet.domain.states import Role
from fabnet.entrypoints.api.deps import Bus, Caller
from fabnet.entrypoints.api.schemas.common import Strict
from fabnet.services import commands as cmd

router = APIRouter(tags=["keys"])


class KeyIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    role: Role = Field(strict=False)
    producer_id: str | None = Field(default=None, max_length=40)


class KeyOut(BaseModel):
    id: str
    principal_id: str
    role: Role
    secret: str


@router.post("/keys", status_code=201, response_model=KeyOut)
def create_key(body: KeyIn, bus: Bus, caller: Caller) -> KeyOut:
    if not caller.is_operator:
        raise Forbidden("only an operator issues keys")
    key = bus.handle(cmd.CreateApiKey(body.name, body.role, body.producer_id))
    return KeyOut(id=key.key_id, principal_id=key.principal_id, role=body.role, secret=key.secret)

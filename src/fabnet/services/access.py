"""API keys: create (the secret is shown once, only its hash is stored) and authenticate."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fabnet.domain.access import KEY_PREFIX, ApiKey, Principal, hash_key
from fabnet.domain.errors import InvalidInput, Unauthorized
from fabnet.domain.ids import PREFIXES, ApiKeyId, PrincipalId, ProducerId
from fabnet.domain.states import Role
from fabnet.services.commands import CreateApiKey
from fabnet.services.ports import Clock, IdSource, UnitOfWork


@dataclass(frozen=True)
class NewKey:
    key_id: ApiKeyId
    principal_id: PrincipalId
    secret: str  # shown once


def create_api_key(cmd: CreateApiKey, *, uow: UnitOfWork, clock: Clock, ids: IdSource) -> NewKey:
    if not cmd.name.strip():
        raise InvalidInput("name", "must not be empty")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with uow:
        if cmd.role is Role.PRODUCER:
            if not cmd.producer_id:
                raise InvalidInput("producer_id", "a producer key must name its producer")
            if uow.producers.find(cmd.producer_id) is None:
                raise InvalidInput("producer_id", f"no producer {cmd.producer_id!r}")
        key = ApiKey(
            id=ApiKeyId(ids.new(PREFIXES["key"])),
            name=cmd.name.strip(),
            principal_id=PrincipalId(cmd.principal_id or ids.new(PREFIXES["principal"])),
            role=cmd.role,
            producer_id=ProducerId(cmd.producer_id) if cmd.producer_id else None,
            key_hash=hash_key(secret),
            created_at=clock.now(),
        )
        uow.api_keys.add(key)
        uow.commit()
    return NewKey(key.id, key.principal_id, secret)


def authenticate(secret: str | None, *, uow: UnitOfWork) -> Principal:
    if not secret:
        raise Unauthorized("an API key is required (header X-API-Key)")
    with uow.reading():
        found = uow.api_keys.all(key_hash=hash_key(secret))
        if not found or not found[0].matches(secret):
            raise Unauthorized("unknown or revoked API key")
        return found[0].principal

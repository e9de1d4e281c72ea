"""API keys: create (the secret is shown once, only its hash is stored) and authenticate;
producers' one-time enrolment codes, exchanged for their key."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fabnet.domain.access import KEY_PREFIX, ApiKey, Principal, hash_key
from fabnet.domain.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from fabnet.domain.ids import PREFIXES, ApiKeyId, PrincipalId, ProducerId
from fabnet.domain.states import Role
from fabnet.domain.times import to_utc
from fabnet.services.commands import CreateApiKey, Enrol, InviteProducer, RevokeApiKey
from fabnet.services.ports import Clock, IdSource, Listing, Page, UnitOfWork


@dataclass(frozen=True)
class NewKey:
    key_id: ApiKeyId
    principal_id: PrincipalId
    secret: str  # shown once


def create_api_key(cmd: CreateApiKey, *, uow: UnitOfWork, clock: Clock, ids: IdSource) -> NewKey:
    if not cmd.name.strip():
        raise InvalidInput("name", "must not be empty")
    expires_at = None if cmd.expires_at is None else to_utc(cmd.expires_at, "expires_at")
    if expires_at is not None and expires_at <= clock.now():
        raise InvalidInput("expires_at", "must be in the future")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with uow:
        if cmd.role is Role.PRODUCER:
            if not cmd.producer_id:
                raise InvalidInput("producer_id", "a producer key must name its producer")
            if uow.producers.find(cmd.producer_id) is None:
                raise InvalidInput("producer_id", f"no producer {cmd.producer_id!r}")
        if cmd.role is Role.COURIER:  # a courier's keys speak for the courier: its id
            if not cmd.principal_id or uow.couriers.find(cmd.principal_id) is None:
                raise InvalidInput("courier_id", f"no courier {cmd.principal_id!r}")
        elif cmd.principal_id and cmd.principal_id.startswith(PREFIXES["courier"] + "_"):
            raise InvalidInput("principal_id", "a courier's id is for courier keys only")
        key = ApiKey(
            id=ApiKeyId(ids.new(PREFIXES["key"])),
            name=cmd.name.strip(),
            principal_id=PrincipalId(cmd.principal_id or ids.new(PREFIXES["principal"])),
            role=cmd.role,
            producer_id=ProducerId(cmd.producer_id) if cmd.producer_id else None,
            key_hash=hash_key(secret),
            created_at=clock.now(),
            expires_at=expires_at,
            scopes=tuple(sorted(set(cmd.scopes))),
        )
        uow.api_keys.add(key)
        uow.commit()
    return NewKey(key.id, key.principal_id, secret)


def authenticate(secret: str | None, *, uow: UnitOfWork, now: datetime | None = None) -> Principal:
    if not secret:
        raise Unauthorized("an API key is required (header X-API-Key)")
    at = now or datetime.now(UTC)
    with uow.reading():
        key = uow.api_keys.by_hash(hash_key(secret))
        if key is None or not key.matches(secret, at):
            raise Unauthorized("unknown, revoked or expired API key")
        return key.principal


def revoke_api_key(cmd: RevokeApiKey, *, uow: UnitOfWork, clock: Clock) -> ApiKeyId:
    with uow:
        key = uow.api_keys.find(cmd.key_id)
        if key is None or not (cmd.actor.is_operator or key.principal_id == cmd.actor.id):
            raise NotFound("key", cmd.key_id)
        key.revoke(clock.now())
        uow.commit()
    return key.id


def list_api_keys(uow: UnitOfWork, actor: Principal, page: Page) -> Listing[ApiKey]:
    """Operators see every key; anyone else the keys of their own principal. Secrets
    are never stored, so never listed."""
    with uow.reading():
        return uow.api_keys.page(page, principal_id=None if actor.is_operator else actor.id)


ENROL_PREFIX = "fen_"
MAX_INVITE_TTL_S = 90 * 86400.0


@dataclass(frozen=True)
class Invitation:
    producer_id: ProducerId
    code: str  # shown once; only its hash is kept
    expires_at: datetime


@dataclass(frozen=True)
class Enrolled:
    producer_id: ProducerId
    key: NewKey


def invite_producer(cmd: InviteProducer, *, uow: UnitOfWork, clock: Clock) -> Invitation:
    """A new code replaces the producer's earlier one; it works once, until it expires."""
    if not cmd.actor.is_operator:
        raise Forbidden("only an operator may invite producers")
    if not (0 < cmd.ttl_s <= MAX_INVITE_TTL_S):
        raise InvalidInput("ttl_s", f"must be in (0, {MAX_INVITE_TTL_S:g}] seconds")
    secret = secrets.token_urlsafe(24)
    expires_at = clock.now() + timedelta(seconds=cmd.ttl_s)
    with uow:
        producer = uow.producers.find(cmd.producer_id)
        if producer is None:
            raise NotFound("producer", cmd.producer_id)
        producer.extra = {
            **producer.extra,
            "enrolment": f"{hash_key(secret)}|{expires_at.isoformat()}",
        }
        uow.commit()
    return Invitation(producer.id, f"{ENROL_PREFIX}{producer.id}.{secret}", expires_at)


def enrol(cmd: Enrol, *, uow: UnitOfWork, clock: Clock, ids: IdSource) -> Enrolled:
    """The code's producer gets a producer key; the code is spent in the same transaction.
    Every wrong, spent or expired code gets the same answer (no oracle)."""
    refused = Unauthorized("the enrolment code is unknown, used or expired")
    code = cmd.code.strip()
    if not code.startswith(ENROL_PREFIX) or "." not in code or len(code) > 200:
        raise refused
    producer_id, _, secret = code.removeprefix(ENROL_PREFIX).partition(".")
    with uow:
        producer = uow.producers.find(producer_id)
        stored = producer.extra.get("enrolment", "") if producer else ""
        digest, _, expires = stored.partition("|")
        if producer is None or not digest or not hmac.compare_digest(digest, hash_key(secret)):
            raise refused
        if datetime.fromisoformat(expires) <= clock.now():
            raise refused
        producer.extra = {k: v for k, v in producer.extra.items() if k != "enrolment"}
        key_secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=ApiKeyId(ids.new(PREFIXES["key"])),
            name=f"{producer.name} (enrolled)",
            principal_id=PrincipalId(ids.new(PREFIXES["principal"])),
            role=Role.PRODUCER,
            producer_id=producer.id,
            key_hash=hash_key(key_secret),
            created_at=clock.now(),
        )
        uow.api_keys.add(key)
        uow.commit()
    return Enrolled(producer.id, NewKey(key.id, key.principal_id, key_secret))

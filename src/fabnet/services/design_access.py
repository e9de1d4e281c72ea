"""Who may fetch a design's file, and how: the owner and operators directly; a producer
only while it holds a live job for the design, through a short-lived signed link, and
every such download is logged (``DesignDownloaded``, an entry of the order's log).

A link is ``/files/<token>``; the token carries the job, design, producer and expiry,
signed with the hub's link key (HMAC-SHA256). It is a capability for a few minutes: it
works without the key, for that one job's file, and stops working when it expires or
when the job is no longer live.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fabnet.domain import events as ev
from fabnet.domain.access import Principal
from fabnet.domain.designs import Design
from fabnet.domain.errors import Forbidden, InvalidInput, NotFound, StaleUpdate
from fabnet.services.ports import BlobStore, Clock, UnitOfWork

LINK_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Link:
    path: str
    expires_at: datetime


class LinkSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise InvalidInput("link_secret", "needs at least 32 bytes")
        self._secret = secret

    def sign(self, claims: dict[str, object]) -> str:
        body = base64.urlsafe_b64encode(
            json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
        ).rstrip(b"=")
        mac = hmac.new(self._secret, body, hashlib.sha256).digest()
        return (body + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()

    def open(self, token: str) -> dict[str, object]:
        body, _, mac = token.encode("ascii", "replace").partition(b".")
        want = hmac.new(self._secret, body, hashlib.sha256).digest()
        try:
            given = base64.urlsafe_b64decode(mac + b"=" * (-len(mac) % 4))
            claims = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
        except (binascii.Error, ValueError):
            raise NotFound("file", token[:16]) from None
        if not hmac.compare_digest(given, want) or not isinstance(claims, dict):
            raise NotFound("file", token[:16])
        return claims


def design_link(
    uow: UnitOfWork, actor: Principal, job_id: str, *, signer: LinkSigner, clock: Clock
) -> Link:
    """A link to the file of ``job_id``'s design, for the job's producer while it is live."""
    with uow.reading():
        job = uow.jobs.find(job_id)
        if job is None or not actor.owns_producer(job.producer_id):
            raise NotFound("job", job_id)
        if not job.is_live:
            raise Forbidden(f"job {job_id!r} is {job.state.value}: its design is not yours now")
    expires = clock.now() + LINK_TTL
    token = signer.sign(
        {"j": job.id, "d": job.design_id, "p": job.producer_id, "e": int(expires.timestamp())}
    )
    return Link(f"/files/{token}", expires)


def fetch_by_link(
    token: str, *, uow: UnitOfWork, signer: LinkSigner, blobs: BlobStore, clock: Clock
) -> tuple[Design, bytes]:
    """The file behind a link, if the link is genuine, unexpired and its job still live;
    the download is logged with the job's order."""
    claims = signer.open(token)
    now = clock.now()
    expiry = claims.get("e")
    if not isinstance(expiry, int) or datetime.fromtimestamp(expiry, UTC) < now:
        raise NotFound("file", token[:16])  # an expired link is just gone
    for attempt in range(3):
        try:
            return _fetch(claims, token, now, uow=uow, blobs=blobs)
        except StaleUpdate:  # the order moved meanwhile (a plan, a job step): log again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _fetch(
    claims: dict[str, object], token: str, now: datetime, *, uow: UnitOfWork, blobs: BlobStore
) -> tuple[Design, bytes]:
    with uow:
        job = uow.jobs.find(str(claims.get("j", "")))
        if job is None or job.producer_id != claims.get("p") or job.design_id != claims.get("d"):
            raise NotFound("file", token[:16])
        if not job.is_live:
            raise Forbidden(f"job {job.id!r} is {job.state.value}: its design is not yours now")
        design = uow.designs.get(job.design_id)
        order = uow.orders.get(job.order_id)
        order.events.append(
            ev.DesignDownloaded(
                at=now,
                design_id=design.id,
                content_hash=design.blob_key,
                job_id=job.id,
                order_id=order.id,
                producer_id=job.producer_id,
            )
        )
        order.updated_at = now
        uow.commit()
    return design, blobs.get(design.blob_key)

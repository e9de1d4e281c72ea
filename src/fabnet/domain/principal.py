"""Who is asking: a principal and its role (a module of its own, light to import; the
access rules that use it are in domain/access.py)."""

from __future__ import annotations

from dataclasses import dataclass

from fabnet.domain.ids import PrincipalId, ProducerId
from fabnet.domain.states import Role

SCOPES = frozenset({"read", "write"})  # read: GET only; write: everything the role may do


@dataclass(frozen=True, slots=True)
class Principal:
    id: PrincipalId
    role: Role
    producer_id: ProducerId | None = None
    scopes: frozenset[str] = SCOPES
    key_id: str = ""  # the key it authenticated with ("" for the CLI's own operator)

    @property
    def may_write(self) -> bool:
        return "write" in self.scopes

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    def owns_producer(self, producer_id: str) -> bool:
        return self.is_operator or (self.role is Role.PRODUCER and self.producer_id == producer_id)

    @property
    def courier_id(self) -> str | None:
        """A courier's keys are its courier's: the principal id is the courier id."""
        return self.id if self.role is Role.COURIER else None

    def owns_order(self, consumer_id: str) -> bool:
        return self.is_operator or (self.role is Role.CONSUMER and self.id == consumer_id)

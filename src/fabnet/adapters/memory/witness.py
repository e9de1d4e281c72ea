"""A witness in the same process (tests, the demo): the real rules, no HTTP."""

from __future__ import annotations

from collections.abc import Callable

from fabnet.ledger.witness import Witness


class LocalWitnessClient:
    def __init__(self, witness: Witness, now: Callable[[], int]) -> None:
        self.witness = witness
        self.now = now
        self.name = witness.signer.name

    def add_checkpoint(self, body: str) -> tuple[int, str]:
        reply = self.witness.add_checkpoint(body, self.now())
        return reply.status, reply.body

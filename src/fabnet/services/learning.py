"""Outcomes teach the hub who is reliable (domain/reliability.py)."""

from __future__ import annotations

from datetime import datetime

from fabnet.domain.reliability import ReliabilityPrior
from fabnet.services.ports import UnitOfWork


def learn_outcome(
    uow: UnitOfWork, producer_id: str, machine_id: str | None, *, succeeded: bool, at: datetime
) -> None:
    """An outcome moves what the hub believes of the producer and of the machine."""
    producer = uow.producers.find(producer_id)
    if producer is not None:
        producer.belief = producer.belief.observe(succeeded, at, ReliabilityPrior())
    machine = uow.machines.find(machine_id) if machine_id else None
    if machine is not None:
        machine.learn(succeeded, at, ReliabilityPrior())

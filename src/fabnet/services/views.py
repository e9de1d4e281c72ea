"""Reads, with the access rules applied: what each principal may see.

A thing another principal owns is reported as not found, so ids leak nothing.
"""

from __future__ import annotations

from typing import Any

from fabnet.domain.access import Principal
from fabnet.domain.designs import Design
from fabnet.domain.errors import Forbidden, NotFound
from fabnet.domain.escrow_policy import terms_digest, terms_of
from fabnet.domain.jobs import Job
from fabnet.domain.orders import Order
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.states import FacilityStatus, JobState, MachineStatus, OrderState, Role
from fabnet.services.escrow import escrow_of
from fabnet.services.ports import Listing, Page, UnitOfWork


def list_producers(
    uow: UnitOfWork, actor: Principal, page: Page, *, status: FacilityStatus | None = None
) -> Listing[Producer]:
    with uow.reading():
        if actor.role is Role.CONSUMER:
            raise Forbidden("consumers do not list producers")
        only = actor.producer_id if actor.role is Role.PRODUCER else None
        return uow.producers.page(page, only=only, status=status)


def get_producer(uow: UnitOfWork, actor: Principal, producer_id: str) -> Producer:
    with uow.reading():
        producer = uow.producers.find(producer_id)
        if producer is None or not actor.owns_producer(producer_id):
            raise NotFound("producer", producer_id)
        return producer


def list_machines(
    uow: UnitOfWork,
    actor: Principal,
    page: Page,
    *,
    producer_id: str | None = None,
    process: str | None = None,
    status: MachineStatus | None = None,
    flagged: bool | None = None,
) -> Listing[Machine]:
    with uow.reading():
        if actor.role is Role.PRODUCER:
            producer_id = actor.producer_id
        elif actor.role is Role.CONSUMER:
            raise Forbidden("consumers do not list machines")
        return uow.machines.page(
            page, producer_id=producer_id, process=process, status=status, flagged=flagged
        )


def get_machine(uow: UnitOfWork, actor: Principal, machine_id: str) -> Machine:
    with uow.reading():
        machine = uow.machines.find(machine_id)
        if machine is None or not actor.owns_producer(machine.producer_id):
            raise NotFound("machine", machine_id)
        return machine


def list_designs(uow: UnitOfWork, actor: Principal, page: Page) -> Listing[Design]:
    """An operator sees every design; anyone else the catalogue: the public designs
    (the operator's) and their own."""
    with uow.reading():
        if actor.is_operator:
            return uow.designs.page(page)
        return uow.designs.catalogue(page, owner_id=actor.id)


def get_design(uow: UnitOfWork, actor: Principal, design_id: str) -> Design:
    """Its owner, an operator, anyone for a public design, and a producer with a job of
    it may read a design's record; anyone else gets 404."""
    with uow.reading():
        design = uow.designs.find(design_id)
        if design is None:
            raise NotFound("design", design_id)
        if design.visible_to(actor.id, operator=actor.is_operator):
            return design
        if actor.producer_id and uow.jobs.any_of_design_for(design.id, actor.producer_id):
            return design
        raise NotFound("design", design_id)


def list_orders(
    uow: UnitOfWork,
    actor: Principal,
    page: Page,
    *,
    state: OrderState | None = None,
    consumer_id: str | None = None,
) -> Listing[Order]:
    with uow.reading():
        if actor.role is Role.CONSUMER:
            consumer_id = actor.id
        elif not actor.is_operator:
            raise Forbidden("producers see jobs, not orders")
        return uow.orders.page(page, consumer_id=consumer_id, state=state)


def get_order(uow: UnitOfWork, actor: Principal, order_id: str) -> Order:
    with uow.reading():
        order = uow.orders.find(order_id)
        if order is None or not actor.owns_order(order.consumer_id):
            raise NotFound("order", order_id)
        return order


def list_jobs(
    uow: UnitOfWork,
    actor: Principal,
    page: Page,
    *,
    state: JobState | None = None,
    machine_id: str | None = None,
    order_id: str | None = None,
    producer_id: str | None = None,
) -> Listing[Job]:
    with uow.reading():
        if actor.role is Role.PRODUCER:
            producer_id = actor.producer_id
        elif not actor.is_operator:
            raise Forbidden("consumers follow their orders, not jobs")
        return uow.jobs.page(
            page, state=state, machine_id=machine_id, order_id=order_id, producer_id=producer_id
        )


def get_job(uow: UnitOfWork, actor: Principal, job_id: str) -> Job:
    with uow.reading():
        job = uow.jobs.find(job_id)
        if job is None or not actor.owns_producer(job.producer_id):
            raise NotFound("job", job_id)
        return job


def job_terms(uow: UnitOfWork, job: Job) -> tuple[dict[str, Any] | None, str]:
    """The escrow terms a producer accepts with ``job``, and their digest."""
    with uow.reading():
        terms = escrow_of(uow, job.order_id).terms
    return terms_of(terms), terms_digest(terms)

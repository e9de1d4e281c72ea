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
from fabnet.domain.states import Role
from fabnet.services.escrow import escrow_of
from fabnet.services.ports import Listing, Page, UnitOfWork


def _clean(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v is not None}


def list_producers(
    uow: UnitOfWork, actor: Principal, page: Page, **filters: Any
) -> Listing[Producer]:
    with uow.reading():
        if actor.role is Role.PRODUCER:
            filters["id"] = actor.producer_id
        elif actor.role is Role.CONSUMER:
            raise Forbidden("consumers do not list producers")
        return uow.producers.list(page, **_clean(filters))


def get_producer(uow: UnitOfWork, actor: Principal, producer_id: str) -> Producer:
    with uow.reading():
        producer = uow.producers.find(producer_id)
        if producer is None or not actor.owns_producer(producer_id):
            raise NotFound("producer", producer_id)
        return producer


def list_machines(
    uow: UnitOfWork, actor: Principal, page: Page, flagged: bool | None = None, **filters: Any
) -> Listing[Machine]:
    if flagged:
        filters["capacity_flag__ne"] = ""
    with uow.reading():
        if actor.role is Role.PRODUCER:
            filters["producer_id"] = actor.producer_id
        elif actor.role is Role.CONSUMER:
            raise Forbidden("consumers do not list machines")
        return uow.machines.list(page, **_clean(filters))


def get_machine(uow: UnitOfWork, actor: Principal, machine_id: str) -> Machine:
    with uow.reading():
        machine = uow.machines.find(machine_id)
        if machine is None or not actor.owns_producer(machine.producer_id):
            raise NotFound("machine", machine_id)
        return machine


def list_designs(uow: UnitOfWork, actor: Principal, page: Page, **filters: Any) -> Listing[Design]:
    """An operator sees every design; anyone else their own."""
    with uow.reading():
        if not actor.is_operator:
            filters["owner_id"] = actor.id
        return uow.designs.list(page, **_clean(filters))


def get_design(uow: UnitOfWork, actor: Principal, design_id: str) -> Design:
    """Its owner, an operator, anyone for a public design, and a producer with a job of
    it may read a design's record; anyone else gets 404."""
    with uow.reading():
        design = uow.designs.find(design_id)
        if design is None:
            raise NotFound("design", design_id)
        if design.visible_to(actor.id, operator=actor.is_operator):
            return design
        if actor.producer_id and uow.jobs.count(design_id=design.id, producer_id=actor.producer_id):
            return design
        raise NotFound("design", design_id)


def list_orders(uow: UnitOfWork, actor: Principal, page: Page, **filters: Any) -> Listing[Order]:
    with uow.reading():
        if actor.role is Role.CONSUMER:
            filters["consumer_id"] = actor.id
        elif not actor.is_operator:
            raise Forbidden("producers see jobs, not orders")
        return uow.orders.list(page, **_clean(filters))


def get_order(uow: UnitOfWork, actor: Principal, order_id: str) -> Order:
    with uow.reading():
        order = uow.orders.find(order_id)
        if order is None or not actor.owns_order(order.consumer_id):
            raise NotFound("order", order_id)
        return order


def list_jobs(uow: UnitOfWork, actor: Principal, page: Page, **filters: Any) -> Listing[Job]:
    with uow.reading():
        if actor.role is Role.PRODUCER:
            filters["producer_id"] = actor.producer_id
        elif not actor.is_operator:
            raise Forbidden("consumers follow their orders, not jobs")
        return uow.jobs.list(page, **_clean(filters))


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

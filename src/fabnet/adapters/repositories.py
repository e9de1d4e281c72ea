"""The repositories, in domain terms: each aggregate's named queries.

Services ask for ``jobs.offers_expiring_by(at)`` or ``machines.available()``; the filter
language (column names, stored enum values, ``__lte``) stays here, behind them. Each
class builds on ``TrackingRepository._where`` (the store's filter, identity-mapped).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from fabnet.adapters.filters import ANY
from fabnet.adapters.tracking import TrackingRepository
from fabnet.domain.access import ApiKey
from fabnet.domain.designs import Design
from fabnet.domain.jobs import Job
from fabnet.domain.orders import Order
from fabnet.domain.producers import Machine, Producer
from fabnet.domain.shipments import Courier, Shipment, WeatherSwitch
from fabnet.domain.states import (
    JOB_LIVE,
    SHIPMENT_MOVING,
    SHIPMENT_WAITING,
    FacilityStatus,
    JobState,
    MachineStatus,
    OrderState,
    ShipmentState,
)
from fabnet.services.ports import Listing, Page

LIVE = tuple(s.value for s in JOB_LIVE)
REFUSED = (JobState.DECLINED.value, JobState.EXPIRED.value, JobState.FAILED.value)
AVAILABLE = (MachineStatus.IDLE.value, MachineStatus.BUSY.value)
WAITING = tuple(s.value for s in SHIPMENT_WAITING)
IN_HAND = tuple(s.value for s in SHIPMENT_MOVING)
OPEN = (OrderState.PLACED.value, OrderState.PLANNED.value, OrderState.IN_PRODUCTION.value)


def _given(**filters: object) -> dict[str, object]:
    return {k: v for k, v in filters.items() if v is not None}


class Producers(TrackingRepository[Producer]):
    def everyone(self) -> list[Producer]:
        return self._where()

    def active(self) -> list[Producer]:
        return self._where(status=FacilityStatus.ACTIVE.value)

    def by_external_ref(self, ref: str) -> Producer | None:
        found = self._where(external_ref=ref)
        return found[0] if found else None

    def page(
        self, page: Page, *, only: str | None = None, status: FacilityStatus | None = None
    ) -> Listing[Producer]:
        return self._page(page, _given(id=only, status=status and status.value))

    def places(self) -> list[tuple[str, float, float]]:
        """(id, lat, lon) of every producer: a read model, without the aggregates."""
        return [(r["id"], r["lat"], r["lon"]) for r in self._rows()]


class Machines(TrackingRepository[Machine]):
    def everyone(self) -> list[Machine]:
        return self._where()

    def of_producer(self, producer_id: str) -> list[Machine]:
        return self._where(producer_id=producer_id)

    def with_ids(self, ids: Iterable[str]) -> list[Machine]:
        return self._where(id=tuple(ids))

    def counts_by_producer(self) -> dict[str, tuple[int, int]]:
        """Machines and busy machines per producer: a read model, without the aggregates."""
        out: dict[str, tuple[int, int]] = {}
        for r in self._rows():
            n, busy = out.get(r["producer_id"], (0, 0))
            out[r["producer_id"]] = (n + 1, busy + (r["status"] == MachineStatus.BUSY.value))
        return out

    def flagged_or_offline(self) -> list[Machine]:
        """Machines the operator should look at: capacity in doubt, or offline."""
        return self._where(capacity_flag__ne="") + self._where(
            status=MachineStatus.OFFLINE.value, capacity_flag=""
        )

    def available(self, process: str | None = None) -> list[Machine]:
        """Machines that take work now (idle or busy), of one process when given."""
        return self._where(**_given(status=AVAILABLE, process=process))

    def page(
        self,
        page: Page,
        *,
        producer_id: str | None = None,
        process: str | None = None,
        status: MachineStatus | None = None,
        flagged: bool | None = None,
    ) -> Listing[Machine]:
        filters = _given(producer_id=producer_id, process=process, status=status and status.value)
        if flagged:
            filters["capacity_flag__ne"] = ""
        return self._page(page, filters)


class Designs(TrackingRepository[Design]):
    def with_content(self, content_hash: str) -> list[Design]:
        return self._where(content_hash=content_hash)

    def page(self, page: Page, *, owner_id: str | None = None) -> Listing[Design]:
        return self._page(page, _given(owner_id=owner_id))

    def catalogue(self, page: Page, *, owner_id: str) -> Listing[Design]:
        """The public designs and those of ``owner_id``."""
        return self._page(page, {ANY: [{"public": True}, {"owner_id": owner_id}]})


class Orders(TrackingRepository[Order]):
    def everyone(self) -> list[Order]:
        return self._where()

    def open(self) -> list[Order]:
        return self._where(state=OPEN)

    def open_of(self, consumer_id: str) -> list[Order]:
        return self._where(consumer_id=consumer_id, state=OPEN)

    def settling(self) -> list[Order]:
        """Orders whose escrow may have a step due (delivered, disputed)."""
        return self._where(state=(OrderState.FULFILLED.value, OrderState.IN_PRODUCTION.value))

    def page(
        self, page: Page, *, consumer_id: str | None = None, state: OrderState | None = None
    ) -> Listing[Order]:
        return self._page(page, _given(consumer_id=consumer_id, state=state and state.value))


class Jobs(TrackingRepository[Job]):
    def everyone(self) -> list[Job]:
        return self._where()

    def of_order(self, order_id: str) -> list[Job]:
        return self._where(order_id=order_id)

    def live(self) -> list[Job]:
        return self._where(state=LIVE)

    def live_on(self, machine_ids: Iterable[str]) -> list[Job]:
        return self._where(machine_id=tuple(machine_ids), state=LIVE)

    def running_on(self, machine_id: str) -> list[Job]:
        return self._where(machine_id=machine_id, state=JobState.RUNNING.value)

    def offers_expiring_by(self, at: datetime) -> list[Job]:
        return self._where(state=JobState.OFFERED.value, expires_at__lte=at)

    def refused_in(self, order_ids: Iterable[str]) -> list[Job]:
        """Jobs of these orders that a machine declined, let expire or failed."""
        return self._where(order_id=tuple(order_ids), state=REFUSED)

    def any_of_design_for(self, design_id: str, producer_id: str) -> bool:
        return bool(self._count(design_id=design_id, producer_id=producer_id))

    def page(
        self,
        page: Page,
        *,
        state: JobState | None = None,
        machine_id: str | None = None,
        order_id: str | None = None,
        producer_id: str | None = None,
    ) -> Listing[Job]:
        return self._page(
            page,
            _given(
                state=state and state.value,
                machine_id=machine_id,
                order_id=order_id,
                producer_id=producer_id,
            ),
        )


class ApiKeys(TrackingRepository[ApiKey]):
    def by_hash(self, key_hash: str) -> ApiKey | None:
        found = self._where(key_hash=key_hash)
        return found[0] if found else None

    def page(self, page: Page, *, principal_id: str | None = None) -> Listing[ApiKey]:
        return self._page(page, _given(principal_id=principal_id))


class Couriers(TrackingRepository[Courier]):
    def everyone(self) -> list[Courier]:
        return self._where()

    def active(self) -> list[Courier]:
        return self._where(active=True)

    def page(self, page: Page) -> Listing[Courier]:
        return self._page(page, {})


class Shipments(TrackingRepository[Shipment]):
    def everyone(self) -> list[Shipment]:
        return self._where()

    def of_order(self, order_id: str) -> list[Shipment]:
        return self._where(order_id=order_id)

    def waiting(self) -> list[Shipment]:
        """Parcels waiting for a route: ready at their producer, or at a hub."""
        return self._where(state=WAITING)

    def in_hand(self) -> list[Shipment]:
        """Picked up and not yet at the hub or delivered: in a courier's hands."""
        return self._where(state=IN_HAND)

    def planned(self) -> list[Shipment]:
        """On a route, not picked up yet: routing may move them."""
        return self._where(state=ShipmentState.PLANNED.value)

    def of_courier(self, courier_id: str, states: tuple[ShipmentState, ...]) -> list[Shipment]:
        return self._where(courier_id=courier_id, state=tuple(s.value for s in states))

    def page(
        self,
        page: Page,
        *,
        order_id: str | None = None,
        producer_id: str | None = None,
        courier_id: str | None = None,
        state: ShipmentState | None = None,
    ) -> Listing[Shipment]:
        return self._page(
            page,
            _given(
                order_id=order_id,
                producer_id=producer_id,
                courier_id=courier_id,
                state=state and state.value,
            ),
        )


class WeatherSwitches(TrackingRepository[WeatherSwitch]):
    def everyone(self) -> list[WeatherSwitch]:
        return self._where()

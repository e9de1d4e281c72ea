"""Orders and their lines, with the unit bookkeeping that planning relies on.

For every line, at all times: ``made + allocated + unallocated == quantity`` with each term
>= 0. ``allocated`` counts units held by live jobs; a unit is never in two jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fabnet.domain.aggregate import Aggregate
from fabnet.domain.capabilities import Process
from fabnet.domain.errors import InvalidInput, InvalidTransition, NotFound
from fabnet.domain.events import LotInspected, OrderPlaced, OrderStateChanged, UnitsRejected
from fabnet.domain.ids import DesignId, LineId, OrderId, PrincipalId
from fabnet.domain.states import ORDER_MOVES, OrderState, ReviewStatus
from fabnet.domain.times import to_utc
from fabnet.domain.units import Place

MAX_LINE_QUANTITY = 10_000_000
MAX_LEAD = timedelta(days=3650)  # an order is for the next ten years at most


@dataclass(kw_only=True)
class OrderLine:
    id: LineId
    design_id: DesignId
    process: Process
    material: str
    quantity: int
    deadline: datetime
    destination: Place
    units_allocated: int = 0
    units_made: int = 0
    units_failed: int = 0  # units lost to failed jobs (and planned again)
    units_rejected: int = 0  # units made that failed inspection (and planned again)
    min_review: ReviewStatus = ReviewStatus.NOT_REVIEWED  # the design must be vetted so far

    def __post_init__(self) -> None:
        if not 1 <= self.quantity <= MAX_LINE_QUANTITY:
            raise InvalidInput("quantity", f"must be between 1 and {MAX_LINE_QUANTITY}")
        self.deadline = to_utc(self.deadline, "deadline")

    @property
    def unallocated(self) -> int:
        return self.quantity - self.units_allocated - self.units_made


@dataclass(kw_only=True)
class Order(Aggregate):
    id: OrderId
    consumer_id: PrincipalId
    lines: list[OrderLine]
    placed_at: datetime
    priority: int = 0  # 0 normal, higher is more urgent
    reference: str = ""  # the consumer's own reference, unique per consumer when given
    state: OrderState = OrderState.PLACED
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.lines:
            raise InvalidInput("lines", "an order needs at least one line")
        if not 0 <= self.priority <= 9:
            raise InvalidInput("priority", "must be between 0 and 9")

    @classmethod
    def place(
        cls,
        *,
        id: OrderId,
        consumer_id: PrincipalId,
        lines: list[OrderLine],
        at: datetime,
        priority: int = 0,
        reference: str = "",
    ) -> Order:
        for i, line in enumerate(lines):
            if line.deadline <= at:
                raise InvalidInput(f"lines[{i}].deadline", "must be in the future")
            if line.deadline > at + MAX_LEAD:
                raise InvalidInput(
                    f"lines[{i}].deadline", f"must be within {MAX_LEAD.days} days of now"
                )
        order = cls(
            id=id,
            consumer_id=consumer_id,
            lines=lines,
            placed_at=at,
            priority=priority,
            reference=reference,
            updated_at=at,
        )
        order.events.append(
            OrderPlaced(at=at, order_id=id, consumer_id=consumer_id, units=order.quantity)
        )
        return order

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def units_made(self) -> int:
        return sum(line.units_made for line in self.lines)

    @property
    def is_open(self) -> bool:
        return self.state not in (OrderState.FULFILLED, OrderState.CANCELLED)

    def line(self, line_id: str) -> OrderLine:
        found = self.find_line(line_id)
        if found is None:
            raise NotFound("order line", line_id)
        return found

    def find_line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.id == line_id), None)

    def allocate(self, line_id: LineId, units: int, at: datetime) -> None:
        line = self.line(line_id)
        if not self.is_open:
            raise InvalidTransition("order", self.id, self.state, "allocate")
        if not 0 < units <= line.unallocated:
            raise InvalidInput("units", f"{units} not in 1..{line.unallocated} (unallocated)")
        line.units_allocated += units
        self._refresh(at)

    def release(self, line_id: LineId, units: int, at: datetime, *, failed: bool = False) -> None:
        """Units of a job that will not be made go back to the line (declined, failed...)."""
        line = self.line(line_id)
        if not 0 <= units <= line.units_allocated:
            raise InvalidInput("units", f"{units} not in 0..{line.units_allocated} (allocated)")
        line.units_allocated -= units
        if failed:
            line.units_failed += units
        self._refresh(at)

    def complete(self, line_id: LineId, units: int, at: datetime) -> None:
        line = self.line(line_id)
        if not 0 <= units <= line.units_allocated:
            raise InvalidInput("units", f"{units} not in 0..{line.units_allocated} (allocated)")
        line.units_allocated -= units
        line.units_made += units
        self._refresh(at)

    def reject(
        self, line_id: LineId, producer_id: str, units: int, at: datetime, reason: str = ""
    ) -> None:
        """Units made that failed inspection go back to the line, to be made again."""
        line = self.line(line_id)
        if self.state is OrderState.CANCELLED:
            raise InvalidTransition("order", self.id, self.state, "reject units")
        if not 0 < units <= line.units_made:
            raise InvalidInput("units", f"{units} not in 1..{line.units_made} (made)")
        line.units_made -= units
        line.units_rejected += units
        self.events.append(
            UnitsRejected(
                at=at,
                order_id=self.id,
                line_id=line.id,
                producer_id=producer_id,
                units=units,
                reason=reason[:500],
            )
        )
        self._refresh(at)

    def inspected(self, event: LotInspected) -> None:
        """Record a lot's inspection; a rejected lot's units go back to be made again."""
        line = self.line(LineId(event.line_id))
        if self.state is OrderState.CANCELLED:
            raise InvalidTransition("order", self.id, self.state, "inspect a lot")
        self.events.append(event)
        if not event.accepted:
            units = min(event.lot_size, line.units_made)
            if units:
                self.reject(
                    line.id,
                    event.producer_id,
                    units,
                    event.at,
                    f"lot of job {event.job_id} rejected by sampling: {event.nonconforming} "
                    f"nonconforming in {event.sample_size} (accept at most {event.accept})",
                )

    def cancel(self, at: datetime) -> None:
        self._move(OrderState.CANCELLED, at)

    def _refresh(self, at: datetime) -> None:
        if self.state is OrderState.CANCELLED:
            return
        if all(line.units_made == line.quantity for line in self.lines):
            target = OrderState.FULFILLED
        elif self.units_made > 0:
            target = OrderState.IN_PRODUCTION
        elif all(line.unallocated == 0 for line in self.lines):
            target = OrderState.PLANNED
        else:
            target = OrderState.PLACED
        producing = (OrderState.IN_PRODUCTION, OrderState.FULFILLED)
        if self.state in producing and target in (OrderState.PLACED, OrderState.PLANNED):
            target = OrderState.IN_PRODUCTION  # once producing, an order stays producing
        if target is not self.state:
            self._move(target, at)

    def _move(self, target: OrderState, at: datetime) -> None:
        if target not in ORDER_MOVES[self.state]:
            raise InvalidTransition("order", self.id, self.state, target)
        self.state = target
        self.updated_at = at
        self.events.append(OrderStateChanged(at=at, order_id=self.id, state=target))


@dataclass(frozen=True)
class LineSpec:
    """What a consumer asks for in one line, before ids are given."""

    design_id: DesignId
    material: str
    quantity: int
    deadline: datetime
    destination: Place
    extra: dict[str, str] = field(default_factory=dict)

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.domain.capabilities import Process
from fabnet.domain.errors import InvalidInput, InvalidTransition
from fabnet.domain.events import OrderPlaced, OrderStateChanged
from fabnet.domain.ids import DesignId, LineId, OrderId, PrincipalId
from fabnet.domain.orders import Order, OrderLine
from fabnet.domain.states import OrderState
from fabnet.domain.units import Place

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_order(quantity: int = 10) -> Order:
    line = OrderLine(
        id=LineId("lin_1"),
        design_id=DesignId("d" * 64),
        process=Process.FDM,
        material="PLA",
        quantity=quantity,
        deadline=T0 + timedelta(days=2),
        destination=Place(50, 10),
    )
    return Order.place(id=OrderId("ord_1"), consumer_id=PrincipalId("usr_a"), lines=[line], at=T0)


def test_placing_raises_order_placed():
    order = make_order()
    assert isinstance(order.events[0], OrderPlaced)
    assert order.events[0].units == 10
    assert order.state is OrderState.PLACED


def test_deadline_in_the_past_is_refused():
    line = OrderLine(
        id=LineId("l"),
        design_id=DesignId("d"),
        process=Process.FDM,
        material="PLA",
        quantity=1,
        deadline=T0 - timedelta(hours=1),
        destination=Place(0, 0),
    )
    with pytest.raises(InvalidInput, match=r"lines\[0\].deadline"):
        Order.place(id=OrderId("o"), consumer_id=PrincipalId("c"), lines=[line], at=T0)


def test_naive_deadline_is_refused():
    with pytest.raises(InvalidInput, match="deadline"):
        OrderLine(
            id=LineId("l"),
            design_id=DesignId("d"),
            process=Process.FDM,
            material="PLA",
            quantity=1,
            deadline=datetime(2030, 1, 1),
            destination=Place(0, 0),
        )


def test_states_follow_the_units():
    order = make_order(10)
    order.allocate(LineId("lin_1"), 10, T0)
    assert order.state is OrderState.PLANNED
    order.release(LineId("lin_1"), 4, T0, failed=True)
    assert order.state is OrderState.PLACED
    order.allocate(LineId("lin_1"), 4, T0)
    order.complete(LineId("lin_1"), 6, T0)
    assert order.state is OrderState.IN_PRODUCTION
    order.complete(LineId("lin_1"), 4, T0)
    assert order.state is OrderState.FULFILLED
    assert [e.state for e in order.events if isinstance(e, OrderStateChanged)] == [
        "planned",
        "placed",
        "planned",
        "in_production",
        "fulfilled",
    ]


def test_cannot_allocate_more_than_is_open():
    order = make_order(5)
    with pytest.raises(InvalidInput, match="units"):
        order.allocate(LineId("lin_1"), 6, T0)


def test_fulfilled_order_cannot_be_cancelled():
    order = make_order(1)
    order.allocate(LineId("lin_1"), 1, T0)
    order.complete(LineId("lin_1"), 1, T0)
    with pytest.raises(InvalidTransition):
        order.cancel(T0)


steps = st.lists(
    st.tuples(st.sampled_from(["allocate", "release", "fail", "complete"]), st.integers(0, 30)),
    max_size=60,
)


@given(st.integers(1, 50), steps)
def test_units_are_never_lost_or_double_assigned(quantity, actions):
    """Whatever happens, made + allocated + unallocated == quantity, each term >= 0."""
    order = make_order(quantity)
    line = order.lines[0]
    for action, n in actions:
        try:
            if action == "allocate":
                order.allocate(line.id, n, T0)
            elif action in ("release", "fail"):
                order.release(line.id, n, T0, failed=action == "fail")
            else:
                order.complete(line.id, n, T0)
        except (InvalidInput, InvalidTransition):
            pass
        assert line.units_made + line.units_allocated + line.unallocated == quantity
        assert min(line.units_made, line.units_allocated, line.unallocated) >= 0
    assert (order.state is OrderState.FULFILLED) == (line.units_made == quantity)

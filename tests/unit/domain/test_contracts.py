"""Escrow: money is conserved over any event sequence, no state is skipped, no payout
exceeds the funds, and replaying the logged events gives the same balances."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.domain import events as ev
from fabnet.domain.contracts import TERMINAL, Escrow, EscrowState
from fabnet.domain.errors import InvalidInput, InvalidTransition
from fabnet.domain.events import event_from, event_name, event_payload

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ORDER = "ord_1"


def funded(
    amount=10_000, units=10, window=3600, timeout=7200, default="release", penalty=50, cap=200
):
    return ev.EscrowFunded(
        at=T0,
        order_id=ORDER,
        amount_minor=amount,
        currency="EUR",
        units=units,
        inspection_window_s=window,
        arbiter_timeout_s=timeout,
        default_outcome=default,
        late_penalty_minor_per_unit_day=penalty,
        penalty_cap_permille=cap,
    )


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def test_the_happy_path_pays_producers_pro_rata():
    e = Escrow(ORDER)
    for event in (
        funded(),
        ev.EscrowProductionStarted(at=at(1), order_id=ORDER),
        ev.EscrowUnitsDelivered(at=at(2), order_id=ORDER, producer_id="p1", units=6),
        ev.EscrowUnitsDelivered(at=at(3), order_id=ORDER, producer_id="p2", units=4, days_late=2),
        ev.EscrowAccepted(at=at(4), order_id=ORDER),
    ):
        e.apply(event)
    # p2: 4 units x 1000 = 4000, penalty 4 x 2 x 50 = 400 (cap 20% = 800)
    assert e.balances() == {
        "held": 0,
        "paid": {"p1": 6000, "p2": 3600},
        "refunded": 400,
        "state": "released",
    }


def test_rejected_units_earn_nothing_and_penalties_are_capped():
    e = Escrow(ORDER)
    e.apply(funded(amount=1000, units=3, penalty=1000, cap=100))
    e.apply(
        ev.EscrowUnitsDelivered(at=at(1), order_id=ORDER, producer_id="p1", units=3, days_late=9)
    )
    e.apply(ev.EscrowUnitsRejected(at=at(2), order_id=ORDER, producer_id="p1", units=1))
    assert e.state is EscrowState.IN_PRODUCTION  # the rejected unit is made again
    with pytest.raises(InvalidTransition):
        e.apply(ev.EscrowAccepted(at=at(3), order_id=ORDER))
    with pytest.raises(InvalidInput, match="more units"):
        e.apply(ev.EscrowUnitsDelivered(at=at(3), order_id=ORDER, producer_id="p2", units=2))
    e.apply(ev.EscrowUnitsDelivered(at=at(4), order_id=ORDER, producer_id="p2", units=1))
    assert e.state is EscrowState.DELIVERED
    e.apply(ev.EscrowAccepted(at=at(5), order_id=ORDER))
    # p1: 2 good units x 333 = 666, penalty capped at 10% = 66; p2: 1 unit = 333
    assert e.paid == {"p1": 600, "p2": 333} and e.refunded == 67


def test_silence_accepts_after_the_inspection_window_only():
    e = Escrow(ORDER)
    e.apply(funded(window=3600))
    e.apply(ev.EscrowUnitsDelivered(at=at(0), order_id=ORDER, producer_id="p1", units=10))
    with pytest.raises(InvalidTransition):
        e.apply(ev.EscrowAccepted(at=at(59), order_id=ORDER, automatic=True))
    e.apply(ev.EscrowAccepted(at=at(60), order_id=ORDER, automatic=True))
    assert e.state is EscrowState.RELEASED and e.paid == {"p1": 10_000}


@pytest.mark.parametrize(
    ("default", "paid", "refunded"), [("release", 10_000, 0), ("refund", 0, 10_000)]
)
def test_an_arbiter_that_does_not_decide_gets_the_default(default, paid, refunded):
    e = Escrow(ORDER)
    e.apply(funded(default=default, timeout=7200))
    e.apply(ev.EscrowUnitsDelivered(at=at(0), order_id=ORDER, producer_id="p1", units=10))
    e.apply(ev.EscrowDisputed(at=at(10), order_id=ORDER, reason="cracked"))
    with pytest.raises(InvalidTransition):
        e.apply(
            ev.EscrowArbitrated(
                at=at(60), order_id=ORDER, producer_share_permille=0, by_default=True
            )
        )
    e.apply(
        ev.EscrowArbitrated(at=at(130), order_id=ORDER, producer_share_permille=0, by_default=True)
    )
    assert (sum(e.paid.values()), e.refunded) == (paid, refunded)


def test_an_arbiter_can_split():
    e = Escrow(ORDER)
    e.apply(funded())
    e.apply(ev.EscrowUnitsDelivered(at=at(0), order_id=ORDER, producer_id="p1", units=10))
    e.apply(ev.EscrowDisputed(at=at(1), order_id=ORDER))
    e.apply(ev.EscrowArbitrated(at=at(2), order_id=ORDER, producer_share_permille=700))
    assert e.paid == {"p1": 7000} and e.refunded == 3000


def test_cancelling_refunds_what_was_not_delivered():
    e = Escrow(ORDER)
    e.apply(funded())
    e.apply(ev.EscrowUnitsDelivered(at=at(0), order_id=ORDER, producer_id="p1", units=3))
    e.apply(ev.EscrowCancelled(at=at(1), order_id=ORDER))
    assert e.paid == {"p1": 3000} and e.refunded == 7000 and e.state is EscrowState.REFUNDED


def test_bad_terms_are_refused():
    with pytest.raises(InvalidInput):
        Escrow(ORDER).apply(funded(units=0))
    with pytest.raises(InvalidInput):
        Escrow(ORDER).apply(funded(default="maybe"))


producers = st.sampled_from(["p1", "p2", "p3"])
event_st = st.one_of(
    st.builds(lambda m: ("start", m), st.integers(0, 500)),
    st.builds(
        lambda p, u, d, m: ("deliver", p, u, d, m),
        producers,
        st.integers(0, 8),
        st.integers(0, 5),
        st.integers(0, 500),
    ),
    st.builds(
        lambda p, u, m: ("reject", p, u, m), producers, st.integers(0, 5), st.integers(0, 500)
    ),
    st.builds(lambda a, m: ("accept", a, m), st.booleans(), st.integers(0, 500)),
    st.builds(lambda m: ("dispute", m), st.integers(0, 500)),
    st.builds(
        lambda s, d, m: ("arbitrate", s, d, m),
        st.integers(-10, 1100),
        st.booleans(),
        st.integers(0, 500),
    ),
    st.builds(lambda m: ("cancel", m), st.integers(0, 500)),
)


def build(step):
    kind, *args = step
    when = at(args[-1])
    return {
        "start": lambda: ev.EscrowProductionStarted(at=when, order_id=ORDER),
        "deliver": lambda: ev.EscrowUnitsDelivered(
            at=when, order_id=ORDER, producer_id=args[0], units=args[1], days_late=args[2]
        ),
        "reject": lambda: ev.EscrowUnitsRejected(
            at=when, order_id=ORDER, producer_id=args[0], units=args[1]
        ),
        "accept": lambda: ev.EscrowAccepted(at=when, order_id=ORDER, automatic=args[0]),
        "dispute": lambda: ev.EscrowDisputed(at=when, order_id=ORDER),
        "arbitrate": lambda: ev.EscrowArbitrated(
            at=when, order_id=ORDER, producer_share_permille=args[0], by_default=args[1]
        ),
        "cancel": lambda: ev.EscrowCancelled(at=when, order_id=ORDER),
    }[kind]()


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 100_000),
    st.integers(1, 30),
    st.integers(0, 500),
    st.integers(0, 1000),
    st.lists(event_st, max_size=25),
)
def test_money_is_conserved_and_states_are_never_skipped(amount, units, penalty, cap, steps):
    escrow = Escrow(ORDER)
    escrow.apply(
        funded(amount=amount, units=units, window=600, timeout=1200, penalty=penalty, cap=cap)
    )
    applied = [
        funded(amount=amount, units=units, window=600, timeout=1200, penalty=penalty, cap=cap)
    ]
    allowed = {
        EscrowState.FUNDED: {
            EscrowState.FUNDED,
            EscrowState.IN_PRODUCTION,
            EscrowState.DELIVERED,
            EscrowState.REFUNDED,
        },
        EscrowState.IN_PRODUCTION: {
            EscrowState.IN_PRODUCTION,
            EscrowState.DELIVERED,
            EscrowState.REFUNDED,
        },
        EscrowState.DELIVERED: {
            EscrowState.DELIVERED,
            EscrowState.IN_PRODUCTION,  # units rejected at inspection are made again
            EscrowState.RELEASED,
            EscrowState.DISPUTED,
            EscrowState.REFUNDED,
        },
        EscrowState.DISPUTED: {EscrowState.DISPUTED, EscrowState.RELEASED, EscrowState.REFUNDED},
        EscrowState.RELEASED: {EscrowState.RELEASED},
        EscrowState.REFUNDED: {EscrowState.REFUNDED},
    }
    for step in steps:
        event = build(step)
        before = escrow.state
        try:
            escrow.apply(event)
            applied.append(event)
        except (InvalidInput, InvalidTransition):
            pass
        assert escrow.state in allowed[before]
        if (before, escrow.state) == (EscrowState.DELIVERED, EscrowState.IN_PRODUCTION):
            assert isinstance(event, ev.EscrowUnitsRejected)  # only a rejection goes back
        assert escrow.held + sum(escrow.paid.values()) + escrow.refunded == amount
        assert min([escrow.held, escrow.refunded, *escrow.paid.values()]) >= 0
        assert sum(escrow.paid.values()) <= amount
        if escrow.state in TERMINAL:
            assert escrow.held == 0
    # replay through the log's wire form gives the same balances, to the cent
    logged = [event_from(event_name(e), event_payload(e)) for e in applied]
    assert Escrow.replay(ORDER, logged).balances() == escrow.balances()

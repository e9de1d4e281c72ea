"""The escrow on an in-process EVM (Vyper contract, py-evm) settles exactly as the log's
replay of the same events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.adapters.chain.evm import EvmEscrow
from fabnet.domain import events as ev
from fabnet.domain.contracts import Escrow
from fabnet.domain.errors import ExternalSystemError, InvalidInput, InvalidTransition
from fabnet.domain.events import event_from, event_name, event_payload

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ORDER = "ord_chain"


def funded(amount=1_000_003, units=10, penalty=70, cap=150):
    return ev.EscrowFunded(
        at=T0,
        order_id=ORDER,
        amount_minor=amount,
        currency="WEI",
        units=units,
        inspection_window_s=3600,
        arbiter_timeout_s=7200,
        default_outcome="release",
        late_penalty_minor_per_unit_day=penalty,
        penalty_cap_permille=cap,
    )


def settle_both(events):
    logged = [event_from(event_name(e), event_payload(e)) for e in events]
    chain = EvmEscrow()
    for event in logged:
        chain.apply(event)
    return Escrow.replay(ORDER, logged).balances(), chain.balances()


def test_one_order_settles_on_chain_as_in_the_log():
    t = lambda m: T0 + timedelta(minutes=m)  # noqa: E731
    events = [
        funded(),
        ev.EscrowProductionStarted(at=t(1), order_id=ORDER),
        ev.EscrowUnitsDelivered(at=t(2), order_id=ORDER, producer_id="p1", units=6),
        ev.EscrowUnitsDelivered(at=t(3), order_id=ORDER, producer_id="p2", units=4, days_late=3),
        ev.EscrowUnitsRejected(at=t(4), order_id=ORDER, producer_id="p1", units=1),
        ev.EscrowUnitsDelivered(at=t(5), order_id=ORDER, producer_id="p3", units=1),  # remade
        ev.EscrowDisputed(at=t(6), order_id=ORDER, reason="one cracked"),
        ev.EscrowArbitrated(at=t(7), order_id=ORDER, producer_share_permille=850),
    ]
    log_side, chain_side = settle_both(events)
    assert chain_side == log_side
    assert log_side["state"] == "released" and log_side["held"] == 0


def make(kind, at, producer, n, late, share):
    if kind == "deliver":
        return ev.EscrowUnitsDelivered(
            at=at, order_id=ORDER, producer_id=producer, units=n, days_late=late
        )
    if kind == "reject":
        return ev.EscrowUnitsRejected(at=at, order_id=ORDER, producer_id=producer, units=n)
    if kind == "accept":
        return ev.EscrowAccepted(at=at, order_id=ORDER)
    if kind == "dispute":
        return ev.EscrowDisputed(at=at, order_id=ORDER)
    if kind == "arbitrate":
        return ev.EscrowArbitrated(at=at, order_id=ORDER, producer_share_permille=share)
    return ev.EscrowCancelled(at=at, order_id=ORDER)


steps = st.lists(
    st.tuples(
        st.sampled_from(["deliver", "reject", "accept", "dispute", "arbitrate", "cancel"]),
        st.sampled_from(["p1", "p2", "p3"]),
        st.integers(1, 5),
        st.integers(0, 4),
        st.integers(0, 1000),
    ),
    max_size=10,
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(1_000, 10**9), st.integers(1, 12), steps)
def test_random_event_sequences_settle_the_same_on_chain(amount, units, plan):
    escrow = Escrow(ORDER)
    events: list[ev.EscrowEvent] = [funded(amount=amount, units=units)]
    escrow.apply(events[0])
    for i, (kind, producer, n, late, share) in enumerate(plan):
        at = T0 + timedelta(seconds=i + 1)
        event = make(kind, at, producer, n, late, share)
        try:
            escrow.apply(event)
        except (InvalidInput, InvalidTransition):
            continue
        events.append(event)
    log_side, chain_side = settle_both(events)
    assert chain_side == log_side


def test_the_contract_refuses_what_the_rules_refuse():
    chain = EvmEscrow()
    chain.apply(funded(units=2))
    with pytest.raises(ExternalSystemError, match="not delivered"):
        chain.apply(ev.EscrowAccepted(at=T0, order_id=ORDER))  # nothing delivered yet

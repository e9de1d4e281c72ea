"""Shipments: the state machine never skips a state, a parcel in a courier's hands is never
routed again, and a delivery needs its proof (wrong codes counted, then refused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.domain import events as ev
from fabnet.domain.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from fabnet.domain.ids import CourierId, JobId, LineId, OrderId, ProducerId, ShipmentId
from fabnet.domain.shipments import MAX_PROOF_ATTEMPTS, Leg, Shipment, proof_digest
from fabnet.domain.states import SHIPMENT_MOVES, ProofKind, ShipmentState
from fabnet.domain.units import Place

T0 = datetime(2026, 12, 3, 8, tzinfo=UTC)
HUB = Place(52.52, 13.40)


def shipment(**over: object) -> Shipment:
    fields: dict[str, object] = {
        "id": ShipmentId("shp_1"),
        "order_id": OrderId("ord_1"),
        "line_id": LineId("lin_1"),
        "producer_id": ProducerId("prd_1"),
        "job_ids": (JobId("job_1"),),
        "units": 10,
        "mass_g": 900,
        "volume_ml": 4000,
        "origin": Place(52.40, 13.30),
        "destination": Place(52.55, 13.45),
        "due": T0 + timedelta(days=2),
        "made_days_late": 0,
        "proof_code": "042017",
        "created_at": T0,
    }
    fields.update(over)
    return Shipment(**fields).ready(T0, (JobId("job_1"),))  # type: ignore[arg-type]


def leg(courier: str | None = "cou_a", *, to_hub: bool = False, to: Place | None = None) -> Leg:
    return Leg(
        mode="van" if courier else "parcel_carrier",
        courier_id=CourierId(courier) if courier else None,
        route_id="rte-1",
        stop=0,
        to=to or (HUB if to_hub else Place(52.55, 13.45)),
        to_hub=to_hub,
        pickup_eta=T0 + timedelta(hours=1),
        eta=T0 + timedelta(hours=3),
        distance_km=4.0,
        co2_kg=1.0,
    )


def test_a_delivery_with_the_right_code_logs_its_digest_not_the_code():
    s = shipment()
    s.plan(leg(), T0)
    s.pick_up(T0 + timedelta(hours=1), "cou_a")
    s.deliver(T0 + timedelta(hours=3), "cou_a", ProofKind.CODE, " 042017 ")
    (done,) = [e for e in s.events if isinstance(e, ev.ShipmentDelivered)]
    assert s.state is ShipmentState.DELIVERED and s.on_time
    assert done.proof_sha256 == proof_digest("042017") and "042017" not in repr(done)
    assert done.distance_km == 4.0 and done.modes == "van"


def test_wrong_codes_are_counted_then_refused_until_an_operator_confirms():
    s = shipment()
    s.plan(leg(), T0)
    s.pick_up(T0, "cou_a")
    for left in range(MAX_PROOF_ATTEMPTS - 1, -1, -1):
        with pytest.raises(InvalidInput, match=f"{left} tries left") as err:
            s.deliver(T0, "cou_a", ProofKind.CODE, "000000")
        assert err.value.field == "proof"
    with pytest.raises(Conflict, match="operator"):
        s.deliver(T0, "cou_a", ProofKind.CODE, "042017")  # even the right code now
    assert s.state is ShipmentState.PICKED_UP
    s.deliver(T0, None, ProofKind.SIGNATURE, "a" * 64)  # an operator, with a signature
    assert s.state is ShipmentState.DELIVERED


def test_a_signature_or_photo_is_its_sha256():
    s = shipment()
    s.plan(leg(), T0)
    s.pick_up(T0, "cou_a")
    with pytest.raises(InvalidInput, match="SHA-256"):
        s.deliver(T0, "cou_a", ProofKind.PHOTO, "photo.jpg")
    s.deliver(T0, "cou_a", ProofKind.PHOTO, "AB" * 32)
    assert s.events[-1].proof_sha256 == "ab" * 32  # type: ignore[attr-defined]


def test_another_courier_cannot_confirm_the_stop():
    s = shipment()
    s.plan(leg("cou_a"), T0)
    with pytest.raises(Forbidden, match="not on your route"):
        s.pick_up(T0, "cou_b")
    s.pick_up(T0, "cou_a")
    with pytest.raises(Forbidden):
        s.deliver(T0, "cou_b", ProofKind.CODE, "042017")
    assert s.state is ShipmentState.PICKED_UP


def test_a_picked_up_parcel_is_never_routed_again():
    s = shipment()
    s.plan(leg("cou_a"), T0)
    s.plan(leg("cou_b"), T0)  # not picked up yet: it may move
    s.pick_up(T0, "cou_b")
    with pytest.raises(InvalidTransition):
        s.plan(leg("cou_a"), T0)
    assert s.courier_id == "cou_b"


def test_two_echelons_the_hub_leg_then_the_last_mile():
    s = shipment()
    s.plan(leg("cou_a", to_hub=True), T0)
    s.pick_up(T0, "cou_a")
    with pytest.raises(InvalidInput, match="hub"):
        s.deliver(T0, "cou_a", ProofKind.CODE, "042017")
    s.at_hub(T0 + timedelta(hours=2), "cou_a")
    assert s.state is ShipmentState.AT_HUB and s.origin == HUB and s.leg_no == 2
    s.plan(leg("cou_c"), T0 + timedelta(hours=3))
    s.pick_up(T0 + timedelta(hours=3), "cou_c")
    s.deliver(T0 + timedelta(hours=4), "cou_c", ProofKind.CODE, "042017")
    assert s.distance_km == 8.0 and s.modes == ("van", "van")


def test_late_delivery_is_not_on_time():
    s = shipment()
    s.plan(leg(None), T0)
    s.pick_up(T0, None)
    s.deliver(T0 + timedelta(days=3), None, ProofKind.CONSIGNEE, "")
    assert s.on_time is False


STEPS = ("plan", "unplan", "pick_up", "in_transit", "at_hub", "deliver", "fail", "retry", "return")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(STEPS), max_size=14), st.booleans())
def test_every_move_the_shipment_makes_is_one_its_table_allows(steps, to_hub):
    """Whatever a careless caller tries, the states visited follow SHIPMENT_MOVES, a
    parcel is delivered only from a courier's hands, and events are one per move."""
    s = shipment()
    expected = 1  # ShipmentReady
    for step in steps:
        before, n_events = s.state, len(s.events)
        try:
            if step == "plan":
                s.plan(leg("cou_a", to_hub=to_hub), T0)
            elif step == "unplan":
                s.unplan(T0, "no room")
            elif step == "pick_up":
                s.pick_up(T0, "cou_a")
            elif step == "in_transit":
                s.in_transit(T0, "cou_a")
            elif step == "at_hub":
                s.at_hub(T0, "cou_a")
            elif step == "deliver":
                s.deliver(T0, "cou_a", ProofKind.CODE, "042017")
            elif step == "fail":
                s.fail(T0, "cou_a", "nobody home")
            elif step == "retry":
                s.retry(T0)
            else:
                s.return_to_maker(T0, "cou_a")
        except (InvalidTransition, InvalidInput, Forbidden):
            assert s.state is before and len(s.events) == n_events  # nothing half-done
            continue
        if s.state is not before:
            assert s.state in SHIPMENT_MOVES[before]
            if s.state is ShipmentState.DELIVERED:
                assert before in (ShipmentState.PICKED_UP, ShipmentState.IN_TRANSIT)
        # one event per move; re-planning on the same leg and unplanning log nothing
        same_plan = step == "plan" and before is ShipmentState.PLANNED
        expected += step != "unplan" and not same_plan
    assert len(s.events) == expected
    delivered = [e for e in s.events if isinstance(e, ev.ShipmentDelivered)]
    assert len(delivered) == (s.state is ShipmentState.DELIVERED)  # at most once


def test_a_shipment_needs_units_and_a_size():
    with pytest.raises(InvalidInput):
        shipment(units=0)
    with pytest.raises(InvalidInput):
        shipment(mass_g=0)

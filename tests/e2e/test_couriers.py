"""Couriers over HTTP: an operator registers couriers and issues their keys; a courier's
key sees its own route and parcels and nothing else; each step is a 4xx with the field
named when it is wrong, and nothing changes then."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api


def courier(api: Api, name: str, lat: float = 52.52, lon: float = 13.40) -> tuple[str, str]:
    made = api.client.post(
        "/couriers",
        headers=api.as_("operator"),
        json={"name": name, "mode": "van", "lat": lat, "lon": lon},
    )
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    key = api.client.post(
        "/keys",
        headers=api.as_("operator"),
        json={"name": name, "role": "courier", "courier_id": cid},
    )
    assert key.status_code == 201, key.text
    assert key.json()["principal_id"] == cid
    api.keys[name] = key.json()["secret"]
    return cid, name


@pytest.fixture
def routed(api: Api, placed) -> dict[str, str]:
    van, _ = courier(api, "van1", 52.4, 13.3)  # based at the destination: one leg
    other, _ = courier(api, "van2", 52.4005, 13.3005)
    for step in ("accept", "queue", "start", "finish"):
        assert api.client.post(f"/jobs/{placed['job']}/{step}", headers=api.as_("p1")).is_success
    wave = api.client.post("/shipments/plan", headers=api.as_("operator"))
    assert wave.status_code == 200, wave.text
    (parcel,) = api.client.get(
        f"/orders/{placed['order']}/shipments", headers=api.as_("alice")
    ).json()
    mine = "van1" if parcel["courier_id"] == van else "van2"
    theirs = "van2" if mine == "van1" else "van1"
    return {
        **placed,
        "parcel": parcel["id"],
        "code": parcel["proof_code"],
        "mine": mine,
        "theirs": theirs,
        "mine_id": van if mine == "van1" else other,
        "theirs_id": other if mine == "van1" else van,
    }


def test_a_courier_key_reaches_its_route_and_nothing_else(api: Api, routed):
    me = api.as_(routed["mine"])
    for path in ("/orders", "/jobs", "/producers", "/machines", "/designs", "/keys", "/couriers"):
        r = api.client.get(path, headers=me)
        assert r.status_code == 403 and r.json()["error"]["type"] == "forbidden", path
    route = api.client.get(f"/couriers/{routed['mine_id']}/route", headers=me)
    assert route.status_code == 200
    assert [s["action"] for s in route.json()["stops"]] == ["pickup", "deliver"]
    assert routed["code"] not in route.text  # the consignee gives the code at the door
    assert api.client.get(f"/couriers/{routed['theirs_id']}/route", headers=me).status_code == 404
    seen = api.client.get(f"/shipments/{routed['parcel']}", headers=me)
    assert seen.status_code == 200 and "proof_code" not in seen.json()
    other = api.as_(routed["theirs"])
    assert api.client.get(f"/shipments/{routed['parcel']}", headers=other).status_code == 404
    # a maker sees its own parcels, without the code; another maker nothing
    assert (
        "proof_code"
        not in api.client.get(f"/shipments/{routed['parcel']}", headers=api.as_("p1")).json()
    )
    assert (
        api.client.get(f"/shipments/{routed['parcel']}", headers=api.as_("p2")).status_code == 404
    )
    assert (
        api.client.get(f"/shipments/{routed['parcel']}", headers=api.as_("bob")).status_code == 404
    )


def test_the_courier_delivers_with_the_code_and_the_order_shows_it(api: Api, routed):
    step = f"/shipments/{routed['parcel']}/events"
    me, other = api.as_(routed["mine"]), api.as_(routed["theirs"])
    assert api.client.post(step, headers=other, json={"kind": "picked_up"}).status_code == 404
    assert api.client.post(step, headers=me, json={"kind": "picked_up"}).status_code == 200
    wrong = api.client.post(step, headers=me, json={"kind": "delivered", "proof": "123"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "proof"
    typo = api.client.post(step, headers=me, json={"kind": "deliverd", "proof": routed["code"]})
    assert typo.status_code == 422 and "kind" in typo.text
    extra = api.client.post(step, headers=me, json={"kind": "delivered", "pin": routed["code"]})
    assert extra.status_code == 422
    photo = api.client.post(
        step, headers=me, json={"kind": "delivered", "proof_kind": "photo", "proof": "x.jpg"}
    )
    assert photo.status_code == 422 and photo.json()["error"]["field"] == "proof"
    failed = api.client.post(step, headers=me, json={"kind": "failed"})
    assert failed.status_code == 422 and failed.json()["error"]["field"] == "reason"
    done = api.client.post(step, headers=me, json={"kind": "delivered", "proof": routed["code"]})
    assert done.status_code == 200 and done.json()["state"] == "delivered"
    again = api.client.post(step, headers=me, json={"kind": "delivered", "proof": routed["code"]})
    assert again.status_code == 409
    (parcel,) = api.client.get(
        f"/orders/{routed['order']}/shipments", headers=api.as_("alice")
    ).json()
    assert parcel["state"] == "delivered" and parcel["on_time"] is True


def test_only_an_operator_registers_couriers_plans_waves_and_couriers_are_checked(api: Api):
    body = {"name": "x", "mode": "van", "lat": 52.5, "lon": 13.4}
    assert api.client.post("/couriers", headers=api.as_("alice"), json=body).status_code == 403
    assert api.client.post("/shipments/plan", headers=api.as_("p1")).status_code == 403
    bad = api.client.post("/couriers", headers=api.as_("operator"), json=body | {"mode": "ufo"})
    assert bad.status_code == 422 and "mode" in bad.text
    bike = api.client.post(
        "/couriers", headers=api.as_("operator"), json=body | {"mode": "cargo_bike"}
    )
    assert bike.status_code == 422
    assert bike.json()["error"]["field"] == "modes.cargo_bike.co2_kg_per_km"
    far = api.client.post("/couriers", headers=api.as_("operator"), json=body | {"lat": 91})
    assert far.status_code == 422
    ghost = api.client.post(
        "/keys",
        headers=api.as_("operator"),
        json={"name": "g", "role": "courier", "courier_id": "cou_nobody"},
    )
    assert ghost.status_code == 422 and ghost.json()["error"]["field"] == "courier_id"


def test_the_weather_switch_over_http(api: Api):
    """No weather area configured: the switch names the field and says where areas come
    from; only an operator reads or sets it."""
    assert api.client.get("/logistics/weather", headers=api.as_("operator")).json() == []
    assert api.client.get("/logistics/weather", headers=api.as_("alice")).status_code == 403
    bad = api.client.post(
        "/logistics/weather", headers=api.as_("operator"), json={"area": "x", "flyable": False}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "area"
    assert "FABNET_LOGISTICS" in bad.json()["error"]["message"]
    no = api.client.post(
        "/logistics/weather", headers=api.as_("p1"), json={"area": "x", "flyable": False}
    )
    assert no.status_code == 403
    typo = api.client.post(
        "/logistics/weather", headers=api.as_("operator"), json={"area": "x", "flyable": "no"}
    )
    assert typo.status_code == 422 and typo.json()["error"]["field"] == "flyable"

"""Issue 10: what a hostile or careless user tried, each now refused or contained."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from tests.conftest import START
from tests.e2e.conftest import Api, order_body, upload


def test_a_deadline_beyond_utc_is_refused_and_lists_keep_working(api: Api):
    design = upload(api).json()["id"]
    body = order_body(design, deadline="9999-12-31T23:59:59-14:00")
    response = api.client.post("/orders", headers=api.as_("alice"), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "lines[0].deadline"
    far = order_body(design, deadline=(START + timedelta(days=4000)).isoformat())
    response = api.client.post("/orders", headers=api.as_("alice"), json=far)
    assert response.status_code == 422
    assert "within 3650 days" in response.json()["error"]["message"]
    assert api.client.get("/orders", headers=api.as_("operator")).status_code == 200


def test_an_order_stored_with_such_a_deadline_does_not_poison_the_store(api: Api):
    design = upload(api).json()["id"]
    good = api.client.post("/orders", headers=api.as_("alice"), json=order_body(design))
    assert good.status_code == 201
    engine = sa.create_engine(api.app.settings.resolved_database_url())
    with engine.begin() as conn:  # as a hub before the bounds would have stored it
        (lines,) = conn.execute(sa.text("select lines from orders")).scalars()
        lines = json.loads(lines) if isinstance(lines, str) else lines
        lines[0]["deadline"] = "9999-12-31T23:59:59-14:00"
        conn.execute(sa.text("update orders set lines = :l"), {"l": json.dumps(lines)})
    engine.dispose()
    listed = api.client.get("/orders", headers=api.as_("operator"))
    assert listed.status_code == 200, listed.text
    (order,) = listed.json()["items"]
    assert order["lines"][0]["deadline"].startswith("2200-01-01")
    assert api.client.post("/plan", headers=api.as_("operator")).status_code == 200


def test_values_of_the_wrong_json_type_are_not_coerced(api: Api):
    design = upload(api).json()["id"]
    for bad in ({"quantity": "3"}, {"quantity": True}, {"quantity": 3.0}):
        response = api.client.post(
            "/orders", headers=api.as_("alice"), json=order_body(design, **bad)
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["field"] == "lines[0].quantity"
    response = api.client.post(
        "/orders", headers=api.as_("alice"), json={**order_body(design), "priority": "1"}
    )
    assert response.status_code == 422


def test_a_refused_move_names_states_by_their_value(api: Api, placed):
    api.client.post(f"/jobs/{placed['job']}/accept", headers=api.as_("p1"))
    again = api.client.post(f"/jobs/{placed['job']}/accept", headers=api.as_("p1"))
    assert again.status_code == 409
    error = again.json()["error"]
    assert (error["current"], error["target"]) == ("accepted", "accepted")
    assert "<" not in error["message"] and "'accepted'" in error["message"]

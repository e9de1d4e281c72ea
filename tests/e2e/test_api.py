"""The HTTP API over a real SQLite store: the access matrix, bad input, the main path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fabnet.sim.parts import box_stl
from tests.conftest import START
from tests.e2e.conftest import Api, order_body, upload


def test_openapi_is_served(api: Api):
    spec = api.client.get("/openapi.json").json()
    for path in (
        "/producers",
        "/machines",
        "/designs",
        "/orders",
        "/jobs",
        "/jobs/{job_id}/accept",
    ):
        assert path in spec["paths"]


@pytest.mark.parametrize(
    "headers", [{}, {"X-API-Key": "fab_wrong"}, {"Authorization": "Bearer nope"}]
)
def test_missing_or_wrong_keys_are_401_with_a_json_body(api: Api, headers):
    response = api.client.get("/orders", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthorized"


def test_a_bearer_token_works_too(api: Api):
    response = api.client.get("/orders", headers={"Authorization": f"Bearer {api.keys['alice']}"})
    assert response.status_code == 200


def test_the_main_path_from_order_to_finished_job(api: Api, placed):
    assert placed["job_producer"] == api.producers["p1"]  # Berlin is nearest to the order
    for step in ("accept", "queue", "start", "finish"):
        r = api.client.post(f"/jobs/{placed['job']}/{step}", headers=api.as_("p1"))
        assert r.status_code == 200, r.text
    order = api.client.get(f"/orders/{placed['order']}", headers=api.as_("alice")).json()
    assert (order["state"], order["units_made"]) == ("fulfilled", 20)
    producer = api.client.get(f"/producers/{api.producers['p1']}", headers=api.as_("p1")).json()
    assert producer["jobs_done"] == 1


# who, method, path template, expected status
MATRIX = [
    ("bob", "GET", "/orders/{order}", 404),
    ("bob", "POST", "/orders/{order}/cancel", 404),
    ("alice", "GET", "/orders/{order}", 200),
    ("operator", "GET", "/orders/{order}", 200),
    ("p1", "GET", "/orders", 403),
    ("alice", "GET", "/jobs", 403),
    ("alice", "GET", "/jobs/{job}", 404),
    ("p2", "GET", "/jobs/{job}", 404),
    ("p2", "POST", "/jobs/{job}/accept", 404),
    ("p2", "POST", "/jobs/{job}/decline", 404),
    ("p1", "GET", "/jobs/{job}", 200),
    ("operator", "GET", "/jobs/{job}", 200),
    ("p2", "GET", "/producers/{p1}", 404),
    ("p2", "PATCH", "/producers/{p1}", 404),
    ("p2", "POST", "/producers/{p1}/machines", 404),
    ("alice", "GET", "/producers", 403),
    ("alice", "POST", "/producers", 403),
    ("p1", "POST", "/producers", 403),
    ("alice", "GET", "/machines", 403),
    ("p1", "POST", "/plan", 403),
    ("p2", "GET", "/producers/{p1}/reliability", 404),
    ("alice", "GET", "/producers/{p1}/reliability", 404),
    ("p1", "GET", "/producers/{p1}/reliability", 200),
    ("operator", "GET", "/producers/{p1}/reliability", 200),
    ("p2", "POST", "/producers/{p1}/restock", 404),
    ("p1", "POST", "/producers/{p1}/invite", 403),
]


@pytest.mark.parametrize(("who", "method", "template", "status"), MATRIX)
def test_access_matrix(api: Api, placed, who, method, template, status):
    path = template.format(p1=api.producers["p1"], **placed)
    body = {
        "/producers": {"name": "x", "location": {"lat": 1, "lon": 1}},
        "/machines": {
            "name": "x",
            "process": "fdm",
            "materials": ["PLA"],
            "build_volume_mm": [1, 1, 1],
        },
        "PATCH": {"name": "renamed"},
    }
    payload = (
        body["PATCH"]
        if method == "PATCH"
        else body.get(
            "/machines" if path.endswith("/machines") else path, {} if method == "POST" else None
        )
    )
    if path.endswith("/restock"):
        payload = {"material": "PLA"}
    response = api.client.request(method, path, headers=api.as_(who), json=payload)
    assert response.status_code == status, response.text
    if status >= 400:
        assert "error" in response.json()


def test_lists_only_show_what_is_yours(api: Api, placed):
    assert api.client.get("/orders", headers=api.as_("bob")).json()["total"] == 0
    assert api.client.get("/orders", headers=api.as_("alice")).json()["total"] == 1
    assert api.client.get("/jobs", headers=api.as_("p2")).json()["total"] == 0
    assert api.client.get("/jobs", headers=api.as_("p1")).json()["total"] == 1
    machines = api.client.get("/machines", headers=api.as_("p2")).json()["items"]
    assert {m["producer_id"] for m in machines} == {api.producers["p2"]}
    producers = api.client.get("/producers", headers=api.as_("p2")).json()["items"]
    assert [p["id"] for p in producers] == [api.producers["p2"]]


def test_a_producer_declines_and_the_work_moves(api: Api, placed):
    r = api.client.post(
        f"/jobs/{placed['job']}/decline", headers=api.as_("p1"), json={"reason": "busy"}
    )
    assert r.status_code == 200 and r.json()["state"] == "declined"
    jobs = api.client.get("/jobs", headers=api.as_("p2")).json()["items"]
    assert [(j["state"], j["units"]) for j in jobs] == [("offered", 20)]


def test_a_decline_says_why_and_an_unknown_reason_is_422(api: Api, placed):
    r = api.client.post(
        f"/jobs/{placed['job']}/decline", headers=api.as_("p1"), json={"kind": "sleepy"}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "kind"
    r = api.client.post(
        f"/jobs/{placed['job']}/decline",
        headers=api.as_("p1"),
        json={"kind": "out_of_material", "reason": "no PLA"},
    )
    assert r.status_code == 200, r.text
    producer = api.producers["p1"]
    machines = api.client.get("/machines", headers=api.as_("p1")).json()["items"]
    assert all("PLA" not in m["materials"] for m in machines)
    r = api.client.post(
        f"/producers/{producer}/restock", headers=api.as_("p1"), json={"material": "PLA"}
    )
    assert r.status_code == 200, r.text
    machines = api.client.get("/machines", headers=api.as_("p1")).json()["items"]
    assert all("PLA" in m["materials"] for m in machines)


def test_an_invited_producer_enrols_over_http_without_a_key(api: Api):
    producer = api.producers["p2"]
    r = api.client.post(f"/producers/{producer}/invite", headers=api.as_("alice"), json={})
    assert r.status_code in (403, 404)
    r = api.client.post(f"/producers/{producer}/invite", headers=api.as_("operator"), json={})
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    enrolled = api.client.post("/enrol", json={"code": code})
    assert enrolled.status_code == 201, enrolled.text
    key = enrolled.json()["secret"]
    mine = api.client.get("/producers", headers={"X-API-Key": key}).json()["items"]
    assert [p["id"] for p in mine] == [producer]
    again = api.client.post("/enrol", json={"code": code})
    assert again.status_code == 401 and "used or expired" in again.json()["error"]["message"]


def test_an_impossible_move_is_409(api: Api, placed):
    r = api.client.post(f"/jobs/{placed['job']}/start", headers=api.as_("p1"))
    assert r.status_code == 409
    error = r.json()["error"]
    assert (error["type"], error["current"], error["target"]) == (
        "invalid_transition",
        "offered",
        "running",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 0}, "lines[0].quantity"),
        ({"quantity": "many"}, "lines[0].quantity"),
        ({"deadline": "2026-03-05T10:00:00"}, "lines[0].deadline"),
        ({"deadline": (START - timedelta(days=1)).isoformat()}, "lines[0].deadline"),
        ({"destination": {"lat": 123, "lon": 0}}, "lines[0].destination.lat"),
        ({"destination": {"lat": 12}}, "lines[0].destination"),
        ({"destination": {}}, "lines[0].destination"),
        ({"destination": {"city": "Xyzzyville", "country": "KE"}}, "lines[0].destination.city"),
        (
            {"destination": {"city": "Nairobi", "country": "Atlantis"}},
            "lines[0].destination.country",
        ),
        ({"material": "UNOBTAINIUM"}, "lines[0].material"),
        ({"design_id": "0" * 64}, "lines[0].design_id"),
        ({"colour": "red"}, "lines[0].colour"),
    ],
)
def test_bad_orders_are_422_naming_the_field_and_store_nothing(api: Api, change, field):
    design = upload(api).json()["id"]
    before = api.count("orders"), api.count("jobs")
    r = api.client.post("/orders", headers=api.as_("alice"), json=order_body(design, **change))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert (api.count("orders"), api.count("jobs")) == before


def test_consumers_see_the_catalogue_and_their_own_designs_only(api: Api):
    public = upload(api, "operator").json()["id"]
    own = upload(api, "alice", data=box_stl(50, 40, 10)).json()["id"]
    other = upload(api, "bob", data=box_stl(60, 40, 10)).json()["id"]
    seen = {d["id"] for d in api.client.get("/designs", headers=api.as_("alice")).json()["items"]}
    assert seen == {public, own}
    assert api.client.get(f"/designs/{other}", headers=api.as_("alice")).status_code == 404
    r = api.client.post("/orders", headers=api.as_("alice"), json=order_body(public))
    assert r.status_code == 201, r.text


def test_a_destination_may_be_a_city_as_people_write_it(api: Api):
    design = upload(api).json()["id"]
    body = order_body(design, destination={"city": "munchen", "country": "Germany"})
    r = api.client.post("/orders", headers=api.as_("alice"), json=body)
    assert r.status_code == 201, r.text
    where = r.json()["lines"][0]["destination"]
    assert abs(where["lat"] - 48.14) < 0.05 and abs(where["lon"] - 11.58) < 0.05


def test_malformed_json_is_422(api: Api):
    r = api.client.post(
        "/orders",
        headers=api.as_("alice") | {"Content-Type": "application/json"},
        content=b"{not json",
    )
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "invalid_input"


def test_a_duplicate_reference_is_409(api: Api, placed):
    r = api.client.post("/orders", headers=api.as_("alice"), json=order_body(placed["design"]))
    assert r.status_code == 409


def test_design_upload_stores_the_file_once_with_a_record_per_party(api: Api):
    first, second = upload(api).json(), upload(api, name="again").json()
    assert first["id"] == second["id"]  # same owner, same bytes
    assert first["bbox_mm"] == [180, 160, 20] and first["triangles"] == 12
    bobs = upload(api, who="bob", materials="PETG").json()
    assert bobs["id"] != first["id"] and bobs["content_hash"] == first["content_hash"]
    assert bobs["materials"] == ["PETG"]
    assert api.count("designs") == 2
    got = api.client.get(f"/designs/{first['id']}/file", headers=api.as_("alice"))
    assert got.content == box_stl(180, 160, 20)
    assert got.headers["content-disposition"] == 'attachment; filename="shield.stl"'
    for who in ("bob", "p1"):  # another consumer; a producer without a job of it
        assert api.client.get(f"/designs/{first['id']}", headers=api.as_(who)).status_code == 404
        r = api.client.get(f"/designs/{first['id']}/file", headers=api.as_(who))
        assert r.status_code == 404


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        (b"", 422, "file"),
        (b"\x00junk" * 10, 422, "file"),
        (b"solid x\n" + b"x" * (70 * 1024), 413, "file"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(api: Api, data, status, field):
    r = upload(api, data=data)
    assert r.status_code == status, r.text
    assert r.json()["error"]["field"] == field
    assert api.count("designs") == 0
    assert not list((api.app.settings.data_dir / "designs").rglob("*.*"))


def test_upload_form_fields_are_checked(api: Api):
    assert upload(api, materials="PLA,NOPE").json()["error"]["field"] == "materials[1]"
    assert upload(api, print_time_s="-3").status_code == 422


def test_pagination_and_filters(api: Api):
    r = api.client.get("/producers", headers=api.as_("operator"), params={"limit": 1, "offset": 1})
    body = r.json()
    assert (body["total"], len(body["items"]), body["limit"], body["offset"]) == (2, 1, 1, 1)
    bad = api.client.get("/producers", headers=api.as_("operator"), params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "limit"
    bad = api.client.get("/orders", headers=api.as_("operator"), params={"state": "sleeping"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "state"


def test_unknown_ids_are_404(api: Api):
    for path in (
        "/orders/ord_nope",
        "/jobs/job_nope",
        "/machines/mch_nope",
        "/designs/" + "f" * 64,
    ):
        r = api.client.get(path, headers=api.as_("operator"))
        assert r.status_code == 404, path
        assert r.json()["error"]["type"] == "not_found"


def test_operator_registers_a_producer_with_machines(api: Api):
    body = {
        "name": "Fab Hamburg",
        "location": {"lat": 53.55, "lon": 9.99},
        "machines": [
            {
                "name": "m1",
                "process": "fdm",
                "materials": ["PETG"],
                "build_volume_mm": [250, 210, 220],
            }
        ],
    }
    r = api.client.post("/producers", headers=api.as_("operator"), json=body)
    assert r.status_code == 201, r.text
    machines = api.client.get(
        "/machines", headers=api.as_("operator"), params={"producer_id": r.json()["id"]}
    )
    assert [m["materials"] for m in machines.json()["items"]] == [["PETG"]]
    body["machines"][0]["materials"] = ["PETG", "WOOD"]
    before = api.count("producers")
    r = api.client.post("/producers", headers=api.as_("operator"), json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "machines[0].materials[1]"
    assert api.count("producers") == before


def test_a_producer_updates_its_machine_status(api: Api):
    machines = api.client.get("/machines", headers=api.as_("p1")).json()["items"]
    r = api.client.post(
        f"/machines/{machines[0]['id']}/status", headers=api.as_("p1"), json={"status": "offline"}
    )
    assert r.status_code == 200 and r.json()["status"] == "offline"
    r = api.client.post(
        f"/machines/{machines[0]['id']}/status", headers=api.as_("p2"), json={"status": "idle"}
    )
    assert r.status_code == 404


def test_an_operator_issues_keys_that_work(api: Api):
    r = api.client.post(
        "/keys", headers=api.as_("operator"), json={"name": "clinic", "role": "consumer"}
    )
    assert r.status_code == 201
    secret = r.json()["secret"]
    assert api.client.get("/orders", headers={"X-API-Key": secret}).status_code == 200
    assert (
        api.client.post(
            "/keys", headers=api.as_("alice"), json={"name": "x", "role": "operator"}
        ).status_code
        == 403
    )
    bad = api.client.post(
        "/keys", headers=api.as_("operator"), json={"name": "x", "role": "producer"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "producer_id"


def _snapshot(api: Api) -> tuple[int, ...]:
    with api.app.new_uow() as uow:
        counts = tuple(
            getattr(uow, k).count()
            for k in ("producers", "machines", "designs", "orders", "jobs", "api_keys")
        )
    import sqlite3

    db = sqlite3.connect(api.app.settings.data_dir / "fabnet.sqlite")
    events = db.execute("select count(*), coalesce(max(seq), 0) from events").fetchone()
    versions = db.execute("select coalesce(sum(version), 0) from jobs").fetchone()
    db.close()
    return (*counts, *events, *versions)


FAILING = [
    ("alice", "POST", "/orders", {"lines": []}),
    ("alice", "POST", "/orders/{order}/cancel", {"reason": 7}),
    ("bob", "POST", "/orders/{order}/cancel", {}),
    ("p1", "POST", "/jobs/{job}/start", None),
    ("p1", "POST", "/jobs/{job}/fail", {"cause": ""}),
    ("p2", "POST", "/jobs/{job}/accept", None),
    (
        "operator",
        "POST",
        "/producers",
        {
            "name": "x",
            "location": {"lat": 1, "lon": 1},
            "machines": [
                {"name": "m", "process": "fdm", "materials": ["PLA"], "build_volume_mm": [1, 1, -1]}
            ],
        },
    ),
    (
        "p1",
        "POST",
        "/producers/{p1}/machines",
        {"name": "m", "process": "warp", "materials": ["PLA"], "build_volume_mm": [1, 1, 1]},
    ),
    ("p1", "PATCH", "/producers/{p1}", {"name": ""}),
    ("operator", "POST", "/keys", {"name": "k", "role": "producer", "producer_id": "prd_nope"}),
]


@pytest.mark.parametrize(("who", "method", "template", "body"), FAILING)
def test_a_failed_request_leaves_the_store_unchanged(api: Api, placed, who, method, template, body):
    before = _snapshot(api)
    path = template.format(p1=api.producers["p1"], **placed)
    response = api.client.request(method, path, headers=api.as_(who), json=body)
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()
    assert _snapshot(api) == before


def test_the_server_expires_unanswered_offers_and_plans_them_again(tmp_path):
    import time as _time

    from fastapi.testclient import TestClient

    from fabnet.bootstrap import bootstrap
    from fabnet.config import Settings
    from fabnet.entrypoints.api import create_app
    from fabnet.services import commands as cmd
    from fabnet.services.ports import FixedClock
    from tests.conftest import ALICE, OPERATOR, facility, printer

    clock = FixedClock(START)
    app = bootstrap(Settings(data_dir=tmp_path, offer_sweep_s=0.05, offer_ttl_s=600), clock=clock)
    bus = app.bus()
    first = bus.handle(cmd.RegisterProducer(OPERATOR, facility("near", 52.5, 13.4, printer())))
    second = bus.handle(cmd.RegisterProducer(OPERATOR, facility("far", 48.1, 11.6, printer())))
    design = bus.handle(
        cmd.RegisterDesign(OPERATOR, "p.stl", box_stl(10, 10, 10), "p", "fdm", ("PLA",), 600)
    )
    line = cmd.LineRequest(design, "PLA", 5, START + timedelta(days=2), 52.5, 13.4)
    order_id = bus.handle(cmd.PlaceOrder(ALICE, (line,)))
    with TestClient(create_app(fabnet=app)):
        clock.set(START + timedelta(minutes=11))
        deadline = _time.monotonic() + 10
        while _time.monotonic() < deadline:
            with app.new_uow() as uow:
                states = {j.producer_id: j.state.value for j in uow.jobs.all(order_id=order_id)}
            if states.get(second) == "offered":
                break
            _time.sleep(0.05)
    assert states == {first: "expired", second: "offered"}
    app.close()


def deliver_over_http(api: Api, order_id: str) -> None:
    """No courier serves this hub: the carrier takes the parcels; the maker hands them
    over, the consignee confirms each delivery."""
    wave = api.client.post("/shipments/plan", headers=api.as_("operator"))
    assert wave.status_code == 200 and wave.json()["planned"] >= 1
    parcels = api.client.get(f"/orders/{order_id}/shipments", headers=api.as_("alice")).json()
    for p in parcels:
        assert p["mode"] == "parcel_carrier" and len(p["proof_code"]) == 6
        step = f"/shipments/{p['id']}/events"
        handed = api.client.post(step, headers=api.as_("p1"), json={"kind": "picked_up"})
        assert handed.status_code == 200, handed.text
        got = api.client.post(
            step, headers=api.as_("alice"), json={"kind": "delivered", "proof_kind": "consignee"}
        )
        assert got.status_code == 200 and got.json()["state"] == "delivered"


def test_escrow_over_http(api: Api, placed):
    r = api.client.post(
        f"/orders/{placed['order']}/escrow", headers=api.as_("alice"), json={"amount_minor": 20_000}
    )
    assert r.status_code == 201 and r.json()["held"] == 20_000
    assert (
        api.client.get(f"/orders/{placed['order']}/escrow", headers=api.as_("bob")).status_code
        == 404
    )
    bad = api.client.post(
        f"/orders/{placed['order']}/escrow", headers=api.as_("alice"), json={"amount_minor": 0}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "amount_minor"
    again = api.client.post(
        f"/orders/{placed['order']}/escrow", headers=api.as_("alice"), json={"amount_minor": 5}
    )
    assert again.status_code == 409
    for step in ("accept", "queue", "start", "finish"):
        api.client.post(f"/jobs/{placed['job']}/{step}", headers=api.as_("p1"))
    early = api.client.post(f"/orders/{placed['order']}/escrow/accept", headers=api.as_("alice"))
    assert early.status_code == 409  # made is not delivered: nothing to accept yet
    deliver_over_http(api, placed["order"])
    assert (
        api.client.post(
            f"/orders/{placed['order']}/escrow/decide",
            headers=api.as_("alice"),
            json={"producer_share_permille": 1000},
        ).status_code
        == 403
    )
    done = api.client.post(f"/orders/{placed['order']}/escrow/accept", headers=api.as_("alice"))
    assert done.status_code == 200
    assert done.json()["paid"] == {api.producers["p1"]: 20_000}
    assert (
        api.client.get(f"/orders/{placed['order']}/escrow", headers=api.as_("alice")).json()[
            "state"
        ]
        == "released"
    )


def test_a_finished_lot_is_inspected_over_http(api: Api, placed):
    for step in ("accept", "queue", "start", "finish"):
        assert (
            api.client.post(f"/jobs/{placed['job']}/{step}", headers=api.as_("p1")).status_code
            == 200
        )
    plan = api.client.get(
        f"/jobs/{placed['job']}/sampling-plan", headers=api.as_("operator"), params={"aql": 2.5}
    )
    assert plan.status_code == 200, plan.text
    assert (plan.json()["code_letter"], plan.json()["sample_size"]) == ("C", 5)  # lot of 20
    bad = api.client.post(
        f"/jobs/{placed['job']}/inspection",
        headers=api.as_("operator"),
        json={"aql": 2.5, "nonconforming": 6},
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "nonconforming"
    r = api.client.post(
        f"/jobs/{placed['job']}/inspection",
        headers=api.as_("operator"),
        json={"aql": 2.5, "nonconforming": 0},
    )
    assert r.status_code == 201 and r.json()["accepted"] is True
    again = api.client.post(
        f"/jobs/{placed['job']}/inspection",
        headers=api.as_("operator"),
        json={"aql": 2.5, "nonconforming": 0},
    )
    assert again.status_code == 409
    refused = api.client.post(
        f"/jobs/{placed['job']}/inspection",
        headers=api.as_("p1"),
        json={"aql": 2.5, "nonconforming": 0},
    )
    assert refused.status_code == 403


def test_a_design_review_over_http_and_a_line_that_needs_it(api: Api):
    design = upload(api, "operator").json()["id"]
    body = order_body(design, min_review="clinical_use")
    placed = api.client.post("/orders", headers=api.as_("alice"), json=body)
    assert placed.status_code == 201, placed.text
    assert placed.json()["lines"][0]["min_review"] == "clinical_use"
    assert placed.json()["lines"][0]["units_allocated"] == 0  # held for the review
    refused = api.client.post(
        f"/designs/{design}/review", headers=api.as_("alice"), json={"status": "clinical_use"}
    )
    assert refused.status_code == 403
    bad = api.client.post(
        f"/designs/{design}/review", headers=api.as_("operator"), json={"status": "safe"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    done = api.client.post(
        f"/designs/{design}/review",
        headers=api.as_("operator"),
        json={"status": "clinical_use", "notes": "reviewed"},
    )
    assert done.status_code == 200 and done.json()["review_status"] == "clinical_use"


def test_a_machine_is_qualified_over_http_with_the_coupon(api: Api):
    coupon = api.client.get("/qualification/coupon.stl", headers=api.as_("p1"))
    assert coupon.status_code == 200 and coupon.headers["content-type"] == "model/stl"
    from fabnet.fabrication.qualification import COUPON

    good = {f: nominal for f, (nominal, _) in COUPON.items()}
    machine = api.client.get("/machines", headers=api.as_("p1")).json()["items"][0]["id"]
    bad = api.client.post(
        f"/machines/{machine}/qualification",
        headers=api.as_("p1"),
        json={"measurements": {**good, "length_mm": 4.0}},
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "measurements.length_mm"
    other = api.client.post(
        f"/machines/{machine}/qualification", headers=api.as_("p2"), json={"measurements": good}
    )
    assert other.status_code == 404
    failed = api.client.post(
        f"/machines/{machine}/qualification",
        headers=api.as_("p1"),
        json={"measurements": {**good, "hole_6_mm": 5.0}, "photo_base64": "aGVsbG8="},
    )
    assert failed.status_code == 200, failed.text
    body = failed.json()
    assert (body["passed"], body["failed_features"], body["status"]) == (
        False,
        ["hole_6_mm"],
        "unverified",
    )
    assert len(body["photo_hash"]) == 64


def test_a_passed_coupon_puts_the_machine_on_probation_over_http(api: Api):
    from fabnet.fabrication.qualification import COUPON

    good = {f: nominal for f, (nominal, _) in COUPON.items()}
    machine = api.client.get("/machines", headers=api.as_("p1")).json()["items"][0]
    assert machine["probation"] is None
    wrong = api.client.post(
        f"/machines/{machine['id']}/qualification",
        headers=api.as_("p1"),
        json={"measurements": good, "material": "TPU"},
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "material"
    passed = api.client.post(
        f"/machines/{machine['id']}/qualification",
        headers=api.as_("p1"),
        json={"measurements": good, "material": machine["materials"][-1]},
    )
    assert passed.status_code == 200, passed.text
    body = passed.json()
    assert body["passed"] and body["material"] == machine["materials"][-1]
    assert body["probation"] == {
        "jobs_left": 5,
        "jobs": 5,
        "units_per_job": 10,
        "graduate_at": 0.8,
    }
    shown = api.client.get(f"/machines/{machine['id']}", headers=api.as_("p1")).json()
    assert shown["probation"]["jobs_left"] == 5

"""Issue 10: what a hostile or careless user tried, each now refused or contained."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from fabnet.sim.parts import box_stl
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


def test_escrow_terms_are_bounded_by_the_hubs_policy(api: Api, placed):
    url = f"/orders/{placed['order']}/escrow"
    alice = api.as_("alice")
    for bad, field in (
        ({"penalty_cap_permille": 1000}, "penalty_cap_permille"),
        ({"arbiter_timeout_s": 0}, "arbiter_timeout_s"),
        ({"late_penalty_minor_per_unit_day": 999_999}, "late_penalty_minor_per_unit_day"),
        ({"default_outcome": "refund"}, "default_outcome"),  # the policy's, not hers
    ):
        r = api.client.post(url, headers=alice, json={"amount_minor": 20_000, **bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["field"] == field
    funded = api.client.post(url, headers=alice, json={"amount_minor": 20_000})
    assert funded.status_code == 201, funded.text


def test_a_producer_sees_the_terms_with_the_offer_and_accepts_them(api: Api, placed):
    alice, p1, p2 = api.as_("alice"), api.as_("p1"), api.as_("p2")
    job_url = f"/jobs/{placed['job']}"
    unfunded = api.client.get(job_url, headers=p1).json()
    assert (unfunded["escrow_terms"], unfunded["terms_digest"]) == (None, "unfunded")
    api.client.post(
        f"/orders/{placed['order']}/escrow",
        headers=alice,
        json={"amount_minor": 20_000, "late_penalty_minor_per_unit_day": 10},
    )
    offer = api.client.get(job_url, headers=p1).json()
    assert offer["escrow_terms"]["late_penalty_minor_per_unit_day"] == 10
    assert offer["escrow_terms"]["default_outcome"] == "release"
    stale = api.client.post(f"{job_url}/accept", headers=p1, json={"terms_digest": "unfunded"})
    assert stale.status_code == 409 and "changed" in stale.json()["error"]["message"]
    ok = api.client.post(
        f"{job_url}/accept", headers=p1, json={"terms_digest": offer["terms_digest"]}
    )
    assert ok.status_code == 200, ok.text
    mine = api.client.get(f"/orders/{placed['order']}/escrow", headers=p1)
    assert mine.status_code == 200
    assert set(mine.json()) == {"state", "terms", "terms_digest", "delivered", "rejected", "paid"}
    assert api.client.get(f"/orders/{placed['order']}/escrow", headers=p2).status_code == 404
    whole = api.client.get(f"/orders/{placed['order']}/escrow", headers=alice).json()
    assert whole["held"] == 20_000 and whole["terms_digest"] == offer["terms_digest"]


def test_an_escrow_cannot_be_funded_once_production_started(api: Api, placed):
    for step in ("accept", "queue", "start"):
        api.client.post(f"/jobs/{placed['job']}/{step}", headers=api.as_("p1"))
    r = api.client.post(
        f"/orders/{placed['order']}/escrow", headers=api.as_("alice"), json={"amount_minor": 1000}
    )
    assert r.status_code == 409


def test_a_consumer_cannot_take_the_whole_capacity(tmp_path):
    from fastapi.testclient import TestClient

    from fabnet.bootstrap import bootstrap
    from fabnet.config import Settings
    from fabnet.domain.states import Role
    from fabnet.entrypoints.api import create_app
    from fabnet.services import commands as cmd
    from fabnet.services.ports import FixedClock

    settings = Settings(data_dir=tmp_path, max_open_units_per_consumer=50)
    app = bootstrap(settings, clock=FixedClock(START))
    alice = app.bus().handle(cmd.CreateApiKey("alice", Role.CONSUMER)).secret
    with TestClient(create_app(fabnet=app, hub=False)) as client:
        api = Api(client, app, {"alice": alice}, {})
        design = upload(api).json()["id"]
        first = client.post("/orders", headers=api.as_("alice"), json=order_body(design, 40))
        assert first.status_code == 201
        body = {**order_body(design, 11), "reference": "po-2"}
        over = client.post("/orders", headers=api.as_("alice"), json=body)
        assert over.status_code == 429
        assert over.json()["error"]["limit"] == "max_open_units_per_consumer"
    app.close()


def test_keys_are_listed_without_secrets_revoked_and_expire(api: Api):
    ops = api.as_("operator")
    made = api.client.post(
        "/keys",
        headers=ops,
        json={
            "name": "carol",
            "role": "consumer",
            "expires_at": (START + timedelta(hours=1)).isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    carol = {"X-API-Key": made.json()["secret"]}
    assert api.client.get("/designs", headers=carol).status_code == 200
    listed = api.client.get("/keys", headers=ops).json()
    assert listed["total"] == 6 and all("secret" not in k for k in listed["items"])
    own = api.client.get("/keys", headers=carol).json()
    assert [k["name"] for k in own["items"]] == ["carol"]
    bob_key = next(k for k in listed["items"] if k["name"] == "bob")
    assert api.client.post(f"/keys/{bob_key['id']}/revoke", headers=carol).status_code == 404
    revoked = api.client.post(f"/keys/{bob_key['id']}/revoke", headers=ops)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert api.client.get("/designs", headers=api.as_("bob")).status_code == 401
    api.app.clock.set(START + timedelta(hours=2))  # carol's key expired
    api.app.settings.auth_cache_s = 0
    api.client.app.state.keys.forget()
    assert api.client.get("/designs", headers=carol).status_code == 401


def test_a_read_only_key_may_only_read(api: Api):
    made = api.client.post(
        "/keys",
        headers=api.as_("operator"),
        json={"name": "auditor", "role": "operator", "scopes": ["read"]},
    ).json()
    auditor = {"X-API-Key": made["secret"]}
    assert api.client.get("/orders", headers=auditor).status_code == 200
    refused = api.client.post("/plan", headers=auditor)
    assert refused.status_code == 403 and "only read" in refused.json()["error"]["message"]


def test_the_data_directory_and_its_files_are_owner_only(api: Api):
    import stat

    data_dir = api.app.settings.data_dir
    upload(api)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "fabnet.sqlite").stat().st_mode) == 0o600
    blobs = list((data_dir / "designs").rglob("*"))
    assert blobs and all(
        stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600) for p in blobs
    )


def test_a_producer_fetches_a_design_only_for_a_live_job_by_a_signed_link(api: Api, placed):
    p1, p2 = api.as_("p1"), api.as_("p2")
    job = placed["job"]
    assert api.client.post(f"/jobs/{job}/design-link", headers=p2).status_code == 404
    link = api.client.post(f"/jobs/{job}/design-link", headers=p1)
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    got = api.client.get(url)  # the link is the capability: no key
    assert got.status_code == 200 and got.content == box_stl(180, 160, 20)
    assert got.headers["content-disposition"].endswith('"shield.stl"')
    forged = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    assert api.client.get(forged).status_code == 404
    with api.app.new_uow() as uow:
        logged = uow.order_events(placed["order"])
    downloads = [e for e in logged if type(e).__name__ == "DesignDownloaded"]
    assert [(d.job_id, d.producer_id) for d in downloads] == [(job, placed["job_producer"])]
    api.client.post(f"/jobs/{job}/decline", headers=p1, json={"reason": "busy"})
    assert api.client.get(url).status_code == 403  # the job moved on: the design with it
    assert api.client.post(f"/jobs/{job}/design-link", headers=p1).status_code == 403


def test_a_design_link_expires(api: Api, placed):
    url = api.client.post(f"/jobs/{placed['job']}/design-link", headers=api.as_("p1")).json()["url"]
    api.app.clock.set(START + timedelta(minutes=11))
    assert api.client.get(url).status_code == 404


def test_machines_are_bounded_by_physics_and_the_hubs_envelope(api: Api):
    url = f"/producers/{api.producers['p1']}/machines"
    base = {"name": "m", "process": "fdm", "materials": ["PLA"], "build_volume_mm": [250, 210, 220]}
    for bad, field in (
        ({"speed_factor": 100}, "machine.speed_factor"),
        ({"hours_per_day": 25}, "hours_per_day"),
        ({"build_volume_mm": [1e308, 1e308, 1e308]}, "machine.build_volume_mm.x"),
        ({"build_volume_mm": [0, 210, 220]}, "machine.build_volume_mm.x"),
    ):
        r = api.client.post(url, headers=api.as_("p1"), json={**base, **bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["field"] == field, r.json()
    assert api.client.post(url, headers=api.as_("p1"), json=base).status_code == 201


def test_a_machine_slower_than_it_claims_is_flagged_for_the_operator(world, clock):
    from fabnet.domain import events as ev
    from fabnet.services import commands as cmd
    from tests.conftest import printer, producer_actor

    pid = world.producer("boaster", 52.5, 13.4, printer(speed_factor=3.0))
    design = world.design(print_time_s=3600)
    for _ in range(3):
        world.order(design, 2, days=20)
        with world.uow() as uow:
            (job,) = [j for j in uow.jobs.all(producer_id=pid) if j.is_live]
        actor = producer_actor(pid)
        for step in (cmd.AcceptJob, cmd.QueueJob, cmd.StartJob):
            world.bus.handle(step(actor, job.id))
        clock.set(clock.now() + timedelta(hours=2 * 1.0))  # 2 units at 1 h: 3x its claim
        world.bus.handle(cmd.FinishJob(actor, job.id))
    with world.uow() as uow:
        (machine,) = uow.machines.all(producer_id=pid)
        flagged = [
            e for _, e in uow.events_after(0, 10_000) if isinstance(e, ev.MachineCapacityFlagged)
        ]
    assert "3 jobs in a row" in machine.capacity_flag
    assert [e.machine_id for e in flagged] == [machine.id]


def test_a_wrong_method_is_405_with_allow(api: Api):
    r = api.client.put("/orders", headers=api.as_("alice"))
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "POST"}
    assert r.json()["error"]["type"] == "method_not_allowed"

"""Sign-in and sessions over HTTP: the key is exchanged for an HttpOnly, SameSite=Strict
cookie that holds no key; changes need the session's CSRF token; pages carry a strict
Content Security Policy; a revoked key ends its sessions; a session sees what its key
sees and nothing more."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from fabnet.domain.states import Role
from fabnet.entrypoints.api import create_app
from fabnet.services import commands as cmd
from tests.e2e.conftest import Api


def signed_in(api: Api, who: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(fabnet=api.app, hub=False), raise_server_exceptions=False)
    r = client.post("/session", data={"key": api.keys[who]}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/")
    csrf = re.search(r'name="csrf" content="([^"]+)"', page.text)
    assert csrf is not None
    return client, csrf.group(1)


def test_the_cookie_is_httponly_strict_and_holds_no_key(api: Api):
    client = TestClient(create_app(fabnet=api.app, hub=False))
    r = client.post("/session", data={"key": api.keys["alice"]}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert api.keys["alice"] not in cookie
    page = client.get("/")
    assert page.status_code == 200 and 'data-role="consumer"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in page.text  # no inline script: the CSP forbids it anyway


def test_changes_need_the_csrf_token(api: Api, placed):
    client, csrf = signed_in(api, "operator")
    assert client.post("/shipments/plan").status_code == 403
    assert client.post("/shipments/plan", headers={"X-CSRF-Token": "x" * 32}).status_code == 403
    assert client.post("/shipments/plan", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get("/overview").status_code == 200  # reading needs no token


def test_a_sign_in_from_another_site_and_a_wrong_key_are_refused(api: Api):
    client = TestClient(create_app(fabnet=api.app, hub=False))
    r = client.post(
        "/session", data={"key": api.keys["alice"]}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert r.status_code == 403 and "set-cookie" not in r.headers
    r = client.post("/session", data={"key": api.keys["alice"]}, headers={"Origin": "http://evil"})
    assert r.status_code == 403
    r = client.post("/session", data={"key": "fab_wrong"})
    assert r.status_code == 401 and "key: unknown" in r.text and 'aria-invalid="true"' in r.text
    assert client.post("/session", data={}).status_code == 422


def test_a_forged_or_foreign_cookie_is_the_sign_in_page(api: Api):
    client, _ = signed_in(api, "alice")
    token = client.cookies.get("fabnet_session")
    key_id, expires, nonce, mac = token.split(".")
    forged = f"{key_id}.{int(expires) + 999}.{nonce}.{mac}"  # a longer life, same mac
    other = TestClient(create_app(fabnet=api.app, hub=False))
    cookie = {"Cookie": f"fabnet_session={forged}"}
    assert "Sign in" in other.get("/", headers=cookie).text
    assert other.get("/orders", headers=cookie).status_code == 401
    assert other.get("/orders", headers={"Cookie": f"fabnet_session={token}"}).status_code == 200


def test_revoking_the_key_ends_its_sessions(api: Api):
    client, _ = signed_in(api, "bob")
    assert client.get("/orders").status_code == 200
    with api.app.new_uow() as uow:
        (key,) = [k for k in uow.api_keys.all() if k.name == "bob"]
    api.app.bus().handle(cmd.RevokeApiKey(cmd_operator(), key.id))
    assert client.get("/orders").status_code == 401
    assert "Sign in" in client.get("/").text


def cmd_operator():
    from tests.conftest import OPERATOR

    return OPERATOR


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("bob", "/orders/{order}", 404),  # another consumer's order
        ("bob", "/orders/{order}/shipments", 404),
        ("p2", "/jobs/{job}", 404),  # another maker's job
        ("alice", "/overview", 403),  # the network is the operator's
        ("p1", "/overview/map", 403),
        ("alice", "/producers", 403),
    ],
)
def test_a_session_sees_what_its_key_sees_and_nothing_more(api: Api, placed, who, path, status):
    client, _ = signed_in(api, who)
    r = client.get(path.format(**placed))
    assert r.status_code == status, r.text


def test_a_courier_session_reaches_its_route_only(api: Api, placed):
    courier = api.app.bus().handle(cmd.RegisterCourier(cmd_operator(), "van", "van", 52.4, 13.3))
    api.keys["van"] = (
        api.app.bus().handle(cmd.CreateApiKey("van", Role.COURIER, principal_id=courier)).secret
    )
    client, _ = signed_in(api, "van")
    assert 'data-role="courier"' in client.get("/").text
    assert client.get(f"/couriers/{courier}/route").status_code == 200
    assert client.get("/orders").status_code == 403
    assert client.get("/overview").status_code == 403


def test_signing_out_needs_the_token_and_clears_the_cookie(api: Api):
    client, csrf = signed_in(api, "alice")
    assert client.post("/session/end", data={"csrf": "nope"}).status_code == 403
    r = client.post("/session/end", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and 'fabnet_session=""' in r.headers["set-cookie"]

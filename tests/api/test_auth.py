"""Sign-in, sessions, CSRF, tokens and rate limiting through HTTP; every error
in the one JSON shape."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from api_support import BASE, PASSWORD, person, token

from api.main import create_app
from api.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from config.settings import Settings
from domain.accounts import StandingRole, TokenScope

ME = "P-000368"
ADMIN = "P-000001"


def assert_error(resp: httpx.Response, status: int, code: str, field: str | None = "?") -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "field", "message", "message_zh"}
    assert body["error"]["code"] == code
    if field != "?":
        assert body["error"]["field"] == field
    return body["error"]


async def sign_in(client, login=ME, password=PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/sign-in", json={"login": login, "password": password})


async def test_sign_in_sets_a_secure_httponly_lax_cookie(client, accounts):
    person(accounts, ME)
    assert (await client.get("/api/v1/auth/whoami")).json()["kind"] == "anonymous"
    resp = await sign_in(client)
    assert resp.status_code == 200, resp.text
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
    body = resp.json()
    assert body["person_id"] == ME and body["via"] == "password" and body["csrf_token"]
    me = (await client.get("/api/v1/auth/whoami")).json()
    assert me["person_id"] == ME and me["csrf_token"] == body["csrf_token"]


async def test_wrong_password_and_unknown_login_look_the_same(client, accounts):
    person(accounts, ME)
    a = assert_error(await sign_in(client, password="wrong one"), 401, "not_signed_in", "password")
    b = assert_error(await sign_in(client, login="P-nobody"), 401, "not_signed_in", "password")
    assert a == b


async def test_a_forged_session_cookie_is_anonymous(client, accounts):
    person(accounts, ME)
    forged = {"Cookie": f"{SESSION_COOKIE}=not-signed"}
    assert (await client.get("/api/v1/auth/whoami", headers=forged)).json()["kind"] == "anonymous"
    assert_error(await client.get(f"/api/v1/users/{ME}", headers=forged), 401, "not_signed_in")
    # a validly signed id of no session is anonymous too
    from api.security import session_cookie_value

    unknown = {"Cookie": f"{SESSION_COOKIE}={session_cookie_value(accounts.settings, 'no-such-session')}"}
    assert (await client.get("/api/v1/auth/whoami", headers=unknown)).json()["kind"] == "anonymous"


async def test_cookie_requests_that_change_something_need_the_csrf_token(client, accounts):
    person(accounts, ME)
    csrf = (await sign_in(client)).json()["csrf_token"]
    body = {"password": "a new password", "current_password": PASSWORD}
    assert_error(await client.put(f"/api/v1/users/{ME}/password", json=body), 403, "forbidden", "csrf_token")
    assert_error(await client.put(f"/api/v1/users/{ME}/password", json=body, headers={"X-CSRF-Token": "guess"}), 403, "forbidden", "csrf_token")
    ok = await client.put(f"/api/v1/users/{ME}/password", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    # a new password ended the session
    assert (await client.get("/api/v1/auth/whoami")).json()["kind"] == "anonymous"


async def test_a_form_post_carries_the_token_as_a_field(client, accounts):
    person(accounts, ME)
    csrf = (await sign_in(client)).json()["csrf_token"]
    assert_error(await client.post("/api/v1/auth/sign-out", data={"x": "1"}), 403, "forbidden", "csrf_token")
    resp = await client.post("/api/v1/auth/sign-out", data={"csrf_token": csrf})
    assert resp.status_code == 200 and resp.json() == {"signed_out": True}
    assert (await client.get("/api/v1/auth/whoami")).json()["kind"] == "anonymous"


async def test_bearer_tokens_need_no_csrf_and_act_within_their_scopes(client, accounts):
    person(accounts, ADMIN, (StandingRole.ADMINISTRATOR, None))
    admin_token = token(accounts, ADMIN)
    narrow = token(accounts, ADMIN, scopes=(TokenScope.REVIEWS_READ,))
    resp = await client.post("/api/v1/users", json={"person_id": ME}, headers={"Authorization": f"Bearer {admin_token}"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["person_id"] == ME
    assert_error(await client.get("/api/v1/users", headers={"Authorization": f"Bearer {narrow}"}), 403, "forbidden", "Authorization")
    who = (await client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {narrow}"})).json()
    assert who["kind"] == "system" and who["token_scopes"] == ["reviews:read"] and who["csrf_token"] is None


async def test_expired_and_revoked_tokens_are_refused(client, accounts, monkeypatch):
    person(accounts, ADMIN, (StandingRole.ADMINISTRATOR, None))
    short = token(accounts, ADMIN, days=1)
    resp = await client.post("/api/v1/tokens", json={"person_id": ADMIN, "name": "portal", "scopes": ["accounts:admin"]}, headers={"Authorization": f"Bearer {short}"})
    assert resp.status_code == 201, resp.text
    issued = resp.json()
    h = {"Authorization": f"Bearer {issued['secret']}"}
    assert (await client.get("/api/v1/tokens", headers=h)).status_code == 200
    listed = (await client.get("/api/v1/tokens", headers=h)).json()
    assert all("secret" not in t for t in listed["items"])
    assert (await client.delete(f"/api/v1/tokens/{issued['token_id']}", headers={"Authorization": f"Bearer {short}"})).json()["state"] == "revoked"
    err = assert_error(await client.get("/api/v1/tokens", headers=h), 401, "not_signed_in", "Authorization")
    assert "revoked" in err["message"]
    later = accounts.now() + timedelta(days=2)
    monkeypatch.setattr(accounts, "now", lambda: later)
    err = assert_error(await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {short}"}), 401, "not_signed_in", "Authorization")
    assert "expired" in err["message"]


async def test_a_malformed_authorization_header_is_refused(client):
    assert_error(await client.get("/api/v1/auth/whoami", headers={"Authorization": "Basic abc"}), 401, "not_signed_in", "Authorization")
    assert_error(await client.get("/api/v1/auth/whoami", headers={"Authorization": "Bearer pgy_nope"}), 401, "not_signed_in", "Authorization")


async def test_sign_in_is_rate_limited_per_account_and_address(client, accounts):
    person(accounts, ME)
    for _ in range(3):  # the limit is 3 in these settings
        assert_error(await sign_in(client, password="wrong one"), 401, "not_signed_in")
    err = assert_error(await sign_in(client), 429, "too_many_attempts", "login")
    assert err["message_zh"]


async def test_development_sign_in_is_labelled_and_can_be_off(client, accounts, ctx):
    resp = await client.post("/api/v1/auth/dev-sign-in", json={"person_id": ME})
    assert resp.status_code == 200 and resp.json()["via"] == "development"
    off_settings = Settings(data_dir=ctx.settings.data_dir, dev_sign_in=False)
    off = create_app(ctx, accounts=type(accounts)(off_settings, ctx.engine, ctx.events, hasher=accounts.hasher))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url=BASE) as c:
        assert_error(await c.post("/api/v1/auth/dev-sign-in", json={"person_id": ME}), 403, "forbidden", "person_id")


async def test_bad_input_names_the_field(client, accounts):
    assert_error(await client.post("/api/v1/auth/sign-in", json={"login": ME}), 422, "bad_input", "password")
    assert_error(await client.post("/api/v1/auth/sign-in", content=b"{not json", headers={"content-type": "application/json"}), 422, "bad_input")
    person(accounts, ADMIN, (StandingRole.ADMINISTRATOR, None))
    h = {"Authorization": f"Bearer {token(accounts, ADMIN)}"}
    assert_error(await client.get("/api/v1/users?limit=0", headers=h), 422, "bad_input", "limit")
    assert_error(await client.get("/api/v1/users?cursor=%25%25", headers=h), 422, "bad_input", "cursor")
    assert_error(await client.post(f"/api/v1/users/{ADMIN}/grants", json={"role": "supervisor"}, headers=h), 422, "bad_input", "scope")
    assert_error(await client.get("/api/v1/nothing-here"), 404, "not_found")


async def test_login_csrf_cookie_helper(api, accounts):
    from fastapi import Response

    from api.security import issue_login_csrf

    r = Response()
    value = issue_login_csrf(r, accounts.settings)
    assert value and f"{LOGIN_CSRF_COOKIE}={value}" in r.headers["set-cookie"]

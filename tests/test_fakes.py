"""The fake vendor apps behave like the real vendors (strictly), so Osmo bugs can't hide."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth1Client, AsyncOAuth2Client, OAuth1Auth

from tests.fakes import (
    FakeCRM,
    FakeHelpdesk,
    FakeOAuth1App,
    login_and_consent,
    login_and_consent_sync,
    parse_login_form,
    serve,
    serve_async,
)

CID, SECRET = "osmo", "osmo-secret"
REDIRECT = "http://osmo.test/oauth/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(base: str, challenge: str | None = None, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": CID,
        "redirect_uri": REDIRECT,
        "scope": "contacts.read contacts.write",
        "state": "st-123",
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return f"{base}/oauth/authorize?{urlencode(params)}"


def query_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def crm() -> FakeCRM:
    fake = FakeCRM()
    fake.register_client(CID, SECRET, [REDIRECT])
    fake.add_user("alice", "wonderland", "alice@example.com")
    return fake


@pytest.fixture
async def http(crm: FakeCRM) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=crm.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
        yield client


async def get_code(http: httpx.AsyncClient, challenge: str | None = None) -> str:
    resp = await login_and_consent(
        http, authorize_url("http://crm.test", challenge), "alice", "wonderland"
    )
    params = query_of(resp)
    assert params["state"] == "st-123"
    return params["code"]


async def exchange(http: httpx.AsyncClient, code: str, **extra: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    return await http.post("/oauth/token", data=data, auth=(CID, SECRET))


async def tokens(http: httpx.AsyncClient) -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    resp = await exchange(http, await get_code(http, challenge), code_verifier=verifier)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token}
    return await http.post("/oauth/token", data=data, auth=(CID, SECRET))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_full_code_flow_with_pkce_over_a_real_port(crm: FakeCRM) -> None:
    verifier, challenge = pkce_pair()
    with serve(crm.app) as base, httpx.Client(base_url=base) as client:
        page = client.get(authorize_url(base, challenge))
        assert page.status_code == 200
        form = parse_login_form(page)
        assert form.action == f"{base}/oauth/authorize"
        assert form.fields["code_challenge"] == challenge
        bad = client.post(
            form.action,
            data={**form.fields, "username": "alice", "password": "x", "action": "approve"},
        )
        assert bad.status_code == 200
        assert parse_login_form(bad).error == "Invalid username or password."
        ok = client.post(
            form.action,
            data={
                **form.fields,
                "username": "alice",
                "password": "wonderland",
                "action": "approve",
            },
        )
        params = query_of(ok)
        assert params["state"] == "st-123"
        data = {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": CID,
            "client_secret": SECRET,
        }
        token = client.post("/oauth/token", data=data)
        assert token.status_code == 200, token.text
        body = token.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 3600
        assert body["scope"] == "contacts.read contacts.write" and body["refresh_token"]
        assert token.headers["cache-control"] == "no-store"
        me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
        assert me.json() == {
            "id": crm.users["alice"].id,
            "email": "alice@example.com",
            "name": "Alice",
        }
        denied = login_and_consent_sync(client, authorize_url(base, challenge), "alice", "", "deny")
        assert query_of(denied)["error"] == "access_denied"
        assert query_of(denied)["state"] == "st-123"
    assert [r["auth_method"] for r in crm.token_requests] == ["client_secret_post"]


async def test_authorize_rejects_bad_clients_without_redirecting(http: httpx.AsyncClient) -> None:
    unknown = await http.get(authorize_url("http://crm.test", client_id="nope"))
    assert unknown.status_code == 400 and 'id="error"' in unknown.text
    evil = await http.get(authorize_url("http://crm.test", redirect_uri="http://evil.test/cb"))
    assert evil.status_code == 400 and "location" not in evil.headers
    plain = await http.get(
        authorize_url("http://crm.test", code_challenge="x" * 43, code_challenge_method="plain")
    )
    assert query_of(plain)["error"] == "invalid_request"


async def test_wrong_code_verifier_is_invalid_grant(http: httpx.AsyncClient) -> None:
    _verifier, challenge = pkce_pair()
    code = await get_code(http, challenge)
    resp = await exchange(http, code, code_verifier=pkce_pair()[0])
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"
    missing = await exchange(http, await get_code(http, challenge))
    assert missing.json()["error"] == "invalid_grant"


async def test_code_is_single_use_and_bound_to_redirect_uri(http: httpx.AsyncClient) -> None:
    code = await get_code(http)
    first = await exchange(http, code)
    assert first.status_code == 200
    again = await exchange(http, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # RFC 6749 4.1.2: tokens issued from a replayed code are revoked.
    me = await http.get("/api/v1/me", headers=bearer(first.json()["access_token"]))
    assert me.status_code == 401
    other = await exchange(http, await get_code(http), redirect_uri="http://osmo.test/other")
    assert other.json()["error"] == "invalid_grant"


async def test_code_expires_and_injected_failure_does_not_consume_it(
    crm: FakeCRM, http: httpx.AsyncClient
) -> None:
    now = [1_700_000_000.0]
    crm.clock = lambda: now[0]
    stale = await get_code(http)
    now[0] += 61
    assert (await exchange(http, stale)).json()["error"] == "invalid_grant"
    code = await get_code(http)
    crm.fail_next_token_exchange("server_error")
    failed = await exchange(http, code)
    assert failed.status_code == 500 and failed.json()["error"] == "server_error"
    assert (await exchange(http, code)).status_code == 200
    assert [r["status"] for r in crm.token_requests] == [400, 500, 200]


async def test_client_authentication_errors(http: httpx.AsyncClient) -> None:
    code = await get_code(http)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    wrong = await http.post("/oauth/token", data=data, auth=(CID, "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    nobody = await http.post("/oauth/token", data=data)
    assert nobody.status_code == 401
    both = await http.post(
        "/oauth/token", data={**data, "client_secret": SECRET}, auth=(CID, SECRET)
    )
    assert both.status_code == 400
    grant = await http.post("/oauth/token", data={"grant_type": "password"}, auth=(CID, SECRET))
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


async def test_refresh_rotation_rejects_old_token(http: httpx.AsyncClient) -> None:
    first = await tokens(http)
    resp = await refresh(http, first["refresh_token"])
    assert resp.status_code == 200
    second = resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    old = await refresh(http, first["refresh_token"])
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"
    assert (await refresh(http, second["refresh_token"])).status_code == 200


async def test_omit_refresh_token_on_refresh(crm: FakeCRM, http: httpx.AsyncClient) -> None:
    crm.omit_refresh_token_on_refresh = True
    first = await tokens(http)
    for _ in range(2):
        resp = await refresh(http, first["refresh_token"])
        assert resp.status_code == 200 and "refresh_token" not in resp.json()


async def test_revoke_all_refresh_tokens_and_injected_failure(
    crm: FakeCRM, http: httpx.AsyncClient
) -> None:
    first = await tokens(http)
    crm.fail_next_token_exchange("temporarily_unavailable")
    flaky = await refresh(http, first["refresh_token"])
    assert flaky.status_code == 503 and flaky.json()["error"] == "temporarily_unavailable"
    crm.revoke_all_refresh_tokens("user uninstalled the app")
    resp = await refresh(http, first["refresh_token"])
    assert resp.json() == {
        "error": "invalid_grant",
        "error_description": "user uninstalled the app",
    }


async def test_concurrent_refresh_race_is_observable(crm: FakeCRM, http: httpx.AsyncClient) -> None:
    first = await tokens(http)
    crm.token_latency = 0.05
    results = await asyncio.gather(*(refresh(http, first["refresh_token"]) for _ in range(2)))
    assert sorted(r.status_code for r in results) == [200, 400]


async def test_client_credentials(http: httpx.AsyncClient) -> None:
    data = {"grant_type": "client_credentials", "scope": "contacts.read"}
    resp = await http.post("/oauth/token", data={**data, "client_id": CID, "client_secret": SECRET})
    body = resp.json()
    assert resp.status_code == 200 and "refresh_token" not in body
    me = await http.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.json()["id"] == f"client:{CID}"


async def test_revoke(crm: FakeCRM, http: httpx.AsyncClient) -> None:
    first = await tokens(http)
    resp = await http.post(
        "/oauth/revoke", data={"token": first["access_token"]}, auth=(CID, SECRET)
    )
    assert resp.status_code == 200
    assert (await http.get("/api/v1/me", headers=bearer(first["access_token"]))).status_code == 401
    data = {"token": first["refresh_token"], "token_type_hint": "refresh_token"}
    assert (await http.post("/oauth/revoke", data=data, auth=(CID, SECRET))).status_code == 200
    assert (await refresh(http, first["refresh_token"])).json()["error"] == "invalid_grant"
    assert crm.revoked_tokens == [first["access_token"], first["refresh_token"]]


async def test_expired_and_missing_tokens_get_401(crm: FakeCRM, http: httpx.AsyncClient) -> None:
    access = (await tokens(http))["access_token"]
    crm.expire_access_tokens()
    resp = await http.get("/api/v1/contacts", headers=bearer(access))
    assert resp.status_code == 401
    assert 'error="invalid_token"' in resp.headers["www-authenticate"]
    assert resp.json()["category"] == "INVALID_AUTHENTICATION"
    missing = await http.get("/api/v1/contacts")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert [r["status"] for r in crm.api_requests] == [401, 401]
    assert crm.api_requests[0]["authorization"] == f"Bearer {access}"


async def test_rate_limit(crm: FakeCRM, http: httpx.AsyncClient) -> None:
    access = (await tokens(http))["access_token"]
    crm.arm_rate_limit(2, retry_after=7)
    for _ in range(2):
        resp = await http.get("/api/v1/me", headers=bearer(access))
        assert resp.status_code == 429 and resp.headers["retry-after"] == "7"
        assert resp.json()["category"] == "RATE_LIMITS"
    assert (await http.get("/api/v1/me", headers=bearer(access))).status_code == 200
    assert len(crm.api_requests) == 3


async def test_contacts_pagination_and_crud(crm: FakeCRM, http: httpx.AsyncClient) -> None:
    headers = bearer((await tokens(http))["access_token"])
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 10}
    pages = 0
    while True:
        body = (await http.get("/api/v1/contacts", params=params, headers=headers)).json()
        seen += [c["id"] for c in body["results"]]
        pages += 1
        if "paging" not in body:
            break
        params["after"] = body["paging"]["next"]["after"]
    assert pages == 3 and len(seen) == len(set(seen)) == 25
    too_big = await http.get("/api/v1/contacts", params={"limit": 101}, headers=headers)
    assert too_big.status_code == 400
    created = await http.post(
        "/api/v1/contacts", json={"properties": {"email": "z@example.com"}}, headers=headers
    )
    assert created.status_code == 201
    cid = created.json()["id"]
    assert crm.api_requests[-1]["json"] == {"properties": {"email": "z@example.com"}}
    dup = await http.post(
        "/api/v1/contacts", json={"properties": {"email": "z@example.com"}}, headers=headers
    )
    assert dup.status_code == 409
    patched = await http.patch(
        f"/api/v1/contacts/{cid}", json={"properties": {"firstname": "Zed"}}, headers=headers
    )
    assert patched.json()["properties"]["firstname"] == "Zed"
    assert (await http.delete(f"/api/v1/contacts/{cid}", headers=headers)).status_code == 204
    gone = await http.get(f"/api/v1/contacts/{cid}", headers=headers)
    assert gone.status_code == 404 and gone.json()["category"] == "OBJECT_NOT_FOUND"


async def test_interop_with_authlib_oauth2_client(crm: FakeCRM) -> None:
    verifier = secrets.token_urlsafe(48)
    async with (
        serve_async(crm.app) as base,
        httpx.AsyncClient() as browser,
        AsyncOAuth2Client(
            CID, SECRET, redirect_uri=REDIRECT, scope="contacts.read", code_challenge_method="S256"
        ) as client,
    ):
        url, _state = client.create_authorization_url(
            f"{base}/oauth/authorize", code_verifier=verifier
        )
        callback = (await login_and_consent(browser, url, "alice", "wonderland")).headers[
            "location"
        ]
        token = await client.fetch_token(
            f"{base}/oauth/token", authorization_response=callback, code_verifier=verifier
        )
        assert token["scope"] == "contacts.read"
        assert (await client.get(f"{base}/api/v1/me")).status_code == 200


async def test_helpdesk_auth_and_paging() -> None:
    desk = FakeHelpdesk()
    desk.add_agent("agent@example.com", "tok123")
    transport = httpx.ASGITransport(app=desk.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://desk.test") as client:
        basic = await client.get(
            "/api/v2/users/me.json", auth=("agent@example.com/token", "tok123")
        )
        assert basic.json()["user"]["email"] == "agent@example.com"
        assert "api_token" not in basic.json()["user"]
        key = await client.get("/api/v2/users/me.json", headers={"X-Api-Key": "tok123"})
        assert key.status_code == 200
        for bad in [("agent@example.com", "tok123"), ("agent@example.com/token", "nope")]:
            resp = await client.get("/api/v2/users/me.json", auth=bad)
            assert resp.status_code == 401 and resp.json() == {"error": "Couldn't authenticate you"}
        url: str | None = "http://desk.test/api/v2/tickets.json?per_page=10"
        ids: list[int] = []
        while url:
            body = (await client.get(url, headers={"X-Api-Key": "tok123"})).json()
            assert body["count"] == 25
            ids += [t["id"] for t in body["tickets"]]
            url = body["next_page"]
        assert ids == list(range(1, 26))
        new = await client.post(
            "/api/v2/tickets.json",
            json={"ticket": {"subject": "Hi", "comment": {"body": "Help"}}},
            headers={"X-Api-Key": "tok123"},
        )
        assert new.status_code == 201 and new.json()["ticket"]["id"] == 26
        invalid = await client.post(
            "/api/v2/tickets.json",
            json={"ticket": {"subject": "x"}},
            headers={"X-Api-Key": "tok123"},
        )
        assert invalid.status_code == 422
    assert len(desk.api_requests) == 9 and desk.api_requests[2]["status"] == 401


async def test_oauth1_dance_and_tampering() -> None:
    fake = FakeOAuth1App()
    fake.register_consumer("ck", "cs")
    fake.add_user("bob", "builder")
    with serve(fake.app) as base:
        async with AsyncOAuth1Client("ck", "cs", redirect_uri="http://osmo.test/cb1") as client:
            request_token = await client.fetch_request_token(f"{base}/oauth/request_token")
            assert request_token["oauth_callback_confirmed"] == "true"
            url = client.create_authorization_url(f"{base}/oauth/authorize")
            async with httpx.AsyncClient() as browser:
                redirect = await login_and_consent(browser, url, "bob", "builder")
            callback = redirect.headers["location"]
            assert callback.startswith("http://osmo.test/cb1?")
            client.parse_authorization_response(callback)
            token = await client.fetch_access_token(f"{base}/oauth/access_token")
            me = await client.get(f"{base}/api/1/members/me")
            assert me.status_code == 200 and me.json()["username"] == "bob"
        async with httpx.AsyncClient() as raw:
            good = OAuth1Auth("ck", "cs", token["oauth_token"], token["oauth_token_secret"])
            signed = next(good.auth_flow(raw.build_request("GET", f"{base}/api/1/members/me")))
            tampered = raw.build_request(
                "GET", f"{base}/api/1/members/me?x=1", headers=signed.headers
            )
            resp = await raw.send(tampered)
            assert resp.status_code == 401 and "signature_invalid" in resp.text
            assert (await raw.send(signed)).status_code == 200
            replay = await raw.send(signed)
            assert replay.status_code == 401 and "nonce_used" in replay.text
            wrong = OAuth1Auth("ck", "cs", token["oauth_token"], "not-the-secret")
            bad = await raw.get(f"{base}/api/1/members/me", auth=wrong)
            assert bad.status_code == 401
            unsigned = await raw.get(f"{base}/api/1/members/me")
            assert unsigned.status_code == 400
    assert [r["status"] for r in fake.api_requests] == [200, 401, 200, 401, 401, 400]

"""The connect flow's defenses: state bound to the browser, RFC 9207 `iss`, page headers."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx

from tests.api.connect_helpers import (
    create_connect_session,
    new_browser,
    only_connection,
    query_of,
    start_oauth,
)
from tests.conftest import Osmo, create_crm_integration
from tests.fakes import FakeCRM, login_and_consent


async def nothing_stored(osmo: Osmo, fake: FakeCRM, tenant: str = "acme") -> None:
    assert (await osmo.call("GET", "/connections", tenant=tenant)).json()["items"] == []
    assert fake.token_requests == []


async def test_state_completed_in_another_browser_is_refused(osmo: Osmo, crm) -> None:
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    async with new_browser(osmo) as attacker, new_browser(osmo) as victim:
        # The attacker starts a flow under their own customer and lures the victim through
        # the provider: the victim's browser has no (or another) connect cookie.
        start = await start_oauth(osmo, "mallory", "crm", attacker)
        consent = await login_and_consent(victim, start.headers["location"], "alice", "wonderland")
        callback = consent.headers["location"]
        no_cookie = await victim.get(callback)
        assert no_cookie.status_code == 400
        assert 'data-error-key="state_browser_mismatch"' in no_cookie.text
        await start_oauth(osmo, "victim", "crm", victim)  # now the victim has a cookie
        other_cookie = await victim.get(callback)
        assert other_cookie.status_code == 400
        assert 'data-error-key="state_browser_mismatch"' in other_cookie.text
        await nothing_stored(osmo, fake, "mallory")
        # the refusal did not use the state up: the browser that started it still can
        done = await attacker.get(callback)
        assert done.status_code == 200, done.text
    await only_connection(osmo, "mallory")


async def test_oauth1_state_is_bound_to_the_browser(osmo: Osmo, oauth1_app) -> None:
    _, url = oauth1_app
    created = await osmo.call(
        "POST",
        "/integrations",
        json={
            "key": "boards",
            "connectorKey": "fake-oauth1",
            "clientId": "osmo-consumer",
            "clientSecret": "osmo-consumer-secret",
            "parameters": {"baseUrl": url},
        },
    )
    assert created.status_code == 201, created.text
    async with new_browser(osmo) as starter, new_browser(osmo) as other:
        start = await start_oauth(osmo, "acme", "boards", starter)
        assert start.status_code == 303, start.text
        consent = await login_and_consent(other, start.headers["location"], "bob", "builder")
        refused = await other.get(consent.headers["location"])
    assert refused.status_code == 400
    assert 'data-error-key="state_browser_mismatch"' in refused.text
    assert (await osmo.call("GET", "/connections", tenant="acme")).json()["items"] == []


def with_query(url: str, **changes: str | None) -> str:
    base, _, _ = url.partition("?")
    query = {k: v for k, v in {**query_of(url), **changes}.items() if v is not None}
    return f"{base}?{urlencode(query)}"


async def test_callback_from_another_issuer_is_refused(osmo: Osmo, crm) -> None:
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    for iss, key in [
        ("https://evil.example", "issuer_mismatch"),
        (f"{crm_url}/", "issuer_mismatch"),  # no normalization (RFC 9207 2.4)
        (None, "issuer_missing"),  # the connector says the provider always sends it
    ]:
        async with new_browser(osmo) as browser:
            start = await start_oauth(osmo, "acme", "crm", browser)
            consent = await login_and_consent(
                browser, start.headers["location"], "alice", "wonderland"
            )
            assert query_of(consent.headers["location"])["iss"] == crm_url
            refused = await browser.get(with_query(consent.headers["location"], iss=iss))
        assert refused.status_code == 400, iss
        assert f'data-error-key="{key}"' in refused.text
        await nothing_stored(osmo, fake)
    attempts = (await osmo.call("GET", "/connection-attempts", tenant="acme")).json()["items"]
    assert [a["errorKey"] for a in attempts][:3] == [
        "issuer_missing",
        "issuer_mismatch",
        "issuer_mismatch",
    ]


async def test_issuer_is_checked_on_error_responses_too(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    async with new_browser(osmo) as browser:
        start = await start_oauth(osmo, "acme", "crm", browser)
        state = query_of(start.headers["location"])["state"]
        forged = await browser.get(
            "/oauth/callback?"
            + urlencode({"error": "access_denied", "state": state, "iss": "https://evil.example"})
        )
    assert forged.status_code == 400
    assert 'data-error-key="issuer_mismatch"' in forged.text


CSP_NONCE = re.compile(r"script-src 'nonce-([^']+)'")


def assert_secure_page(response: httpx.Response, frame_ancestors: str) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.url
    assert headers["referrer-policy"] == "no-referrer", response.url
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert f"frame-ancestors {frame_ancestors}" in csp
    assert "unsafe-inline" not in csp
    nonce = CSP_NONCE.search(csp)
    assert nonce, csp
    if response.status_code < 300:
        # every inline style or script carries this response's nonce, and only it
        tags = re.findall(r"<(script|style)([^>]*)>", response.text)
        assert tags, response.text
        assert all(f'nonce="{nonce.group(1)}"' in attrs for _, attrs in tags), tags


async def test_every_page_sends_security_headers(osmo: Osmo, crm, helpdesk) -> None:
    _, crm_url = crm
    _, helpdesk_url = helpdesk
    await create_crm_integration(osmo, crm_url, auth_options=())
    await osmo.call(
        "POST",
        "/integrations",
        json={
            "key": "helpdesk",
            "connectorKey": "fake-helpdesk",
            "parameters": {"baseUrl": helpdesk_url},
            "authOptions": ["api-token"],
        },
    )
    origins = "https://product.example"
    osmo.services.settings.allowed_redirect_origins = f"{origins},https://admin.example"
    ancestors = "https://product.example https://admin.example"
    pages: list[httpx.Response] = []
    async with new_browser(osmo) as browser:
        chooser = await start_oauth(osmo, "acme", "crm", browser)
        assert 'id="option-oauth2"' in chooser.text
        pages.append(chooser)
        option_url = re.search(r'href="([^"]+)"', chooser.text)
        assert option_url
        redirect = await browser.get(option_url.group(1).replace("&amp;", "&"))
        assert redirect.status_code == 303
        pages.append(redirect)
        consent = await login_and_consent(
            browser, redirect.headers["location"], "alice", "wonderland"
        )
        connected = await browser.get(consent.headers["location"])
        assert connected.status_code == 200 and "postMessage" in connected.text
        pages.append(connected)
        pages.append(await browser.get("/oauth/callback?state=forged"))
        pages.append(await browser.get("/connect?session=cs_unknown"))
        pages.append(await browser.get("/connect"))
        link = await create_connect_session(osmo, "acme", "helpdesk")
        form = await browser.get(link["url"])
        assert 'id="connect-form"' in form.text
        pages.append(form)
        session = query_of(link["url"])["session"]
        invalid = await browser.post("/connect", data={"session": session, "inputs.email": "x"})
        assert invalid.status_code == 422
        pages.append(invalid)
    assert [p.status_code for p in pages] == [200, 303, 200, 400, 404, 401, 200, 422]
    for page in pages:
        assert_secure_page(page, ancestors)


async def test_wildcard_origins_let_any_page_frame_the_connect_page(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    assert osmo.settings.allowed_redirect_origins == "*"
    assert_secure_page(await osmo.client.get("/connect?session=cs_unknown"), "*")


async def test_connect_cookie_is_http_only_and_lax(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    async with new_browser(osmo) as browser:
        start = await start_oauth(osmo, "acme", "crm", browser)
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("osmo_connect=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # http://127.0.0.1: a Secure cookie would never come back
    osmo.services.settings.public_url = "https://osmo.example"
    async with new_browser(osmo) as browser:
        secure = await start_oauth(osmo, "acme", "crm", browser)
    assert "Secure" in secure.headers["set-cookie"]

"""OAuth2 authorization code + PKCE through the connect page, against the fake CRM."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.api.connect_helpers import (
    connect_oauth2,
    new_browser,
    only_connection,
    query_of,
    start_oauth,
)
from tests.conftest import Osmo, create_crm_integration
from tests.fakes import login_and_consent


async def test_connect_page_redirects_with_state_and_pkce(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    response = await start_oauth(osmo, "acme", "crm")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{crm_url}/oauth/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["client_id"] == "osmo-client"
    assert query["redirect_uri"] == f"{osmo.url}/oauth/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["scope"] == "contacts.read"
    assert query["state"].count(".") == 2  # a signed JWT


async def test_full_code_flow_creates_connected_connection(osmo: Osmo, crm) -> None:
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    done = await connect_oauth2(osmo, "acme")
    assert done.status_code == 200, done.text
    assert "Connected" in done.text and "postMessage" in done.text
    connection = await only_connection(osmo, "acme")
    assert connection["state"] == "connected"
    assert connection["integrationKey"] == "crm"
    assert connection["id"] in done.text
    # the test request ran with the new token, and the code exchange used PKCE
    assert fake.api_requests[-1]["path"] == "/api/v1/me"
    grants = [r["grant_type"] for r in fake.token_requests]
    assert grants == ["authorization_code"]


async def test_redirect_uri_gets_connection_id(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    done = await connect_oauth2(osmo, "acme", redirectUri="https://product.example/done?x=1")
    assert done.status_code == 303
    assert done.headers["location"].startswith("https://product.example/done?x=1&connectionId=")
    connection = await only_connection(osmo, "acme")
    assert query_of(done.headers["location"])["connectionId"] == connection["id"]


async def test_reconnect_keeps_connection_id(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    await connect_oauth2(osmo, "acme")
    first = await only_connection(osmo, "acme")
    await osmo.call("POST", f"/connections/{first['id']}/disconnect", tenant="acme")
    done = await connect_oauth2(osmo, "acme", connectionId=first["id"])
    assert done.status_code == 200, done.text
    again = await only_connection(osmo, "acme")
    assert again["id"] == first["id"]
    assert again["state"] == "connected"


async def test_provider_denial_shows_page_and_logs_attempt(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    done = await connect_oauth2(osmo, "acme", action="deny")
    assert done.status_code == 400
    assert "access_denied" in done.text
    listing = await osmo.call("GET", "/connections", tenant="acme")
    assert listing.json()["items"] == []
    attempts = (await osmo.call("GET", "/connection-attempts", tenant="acme")).json()["items"]
    assert attempts[0]["success"] is False
    assert attempts[0]["errorKey"] == "access_denied"


async def test_failed_code_exchange_stores_nothing(osmo: Osmo, crm) -> None:
    fake, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    fake.fail_next_token_exchange("invalid_request")
    done = await connect_oauth2(osmo, "acme")
    assert done.status_code == 400
    assert "refused the authorization" in done.text
    assert (await osmo.call("GET", "/connections", tenant="acme")).json()["items"] == []
    attempts = (await osmo.call("GET", "/connection-attempts", tenant="acme")).json()["items"]
    assert attempts[0]["errorKey"] == "token_exchange_failed"


async def test_tampered_expired_and_replayed_state_are_refused(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    done = await connect_oauth2(osmo, "acme")
    assert done.status_code == 200
    async with new_browser(osmo) as browser:
        start = await start_oauth(osmo, "acme", "crm", browser)
        state = query_of(start.headers["location"])["state"]
        tampered = state[:-3] + ("AAA" if not state.endswith("AAA") else "BBB")
        response = await browser.get(f"/oauth/callback?code=x&state={tampered}")
        assert response.status_code == 400 and "invalid" in response.text
        # replay: a state the provider already returned once, back in the same browser
        consent = await login_and_consent(browser, start.headers["location"], "alice", "wonderland")
        first = await browser.get(consent.headers["location"])
        assert first.status_code == 200, first.text
        replay = await browser.get(f"/oauth/callback?code=x&state={state}")
        assert replay.status_code == 400 and "already used" in replay.text
        # expired
        osmo.services.settings.state_ttl_seconds = -10
        expired = await start_oauth(osmo, "acme", "crm", browser)
        expired_state = query_of(expired.headers["location"])["state"]
        response = await browser.get(f"/oauth/callback?code=x&state={expired_state}")
        assert response.status_code == 400 and "expired" in response.text
    assert len((await osmo.call("GET", "/connections", tenant="acme")).json()["items"]) == 1


async def test_bad_connect_links_show_error_pages(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    no_session = await osmo.client.get("/connect?integrationKey=crm")
    assert no_session.status_code == 401
    assert 'data-error-key="not_authenticated"' in no_session.text
    unknown = await osmo.client.get("/connect?session=cs_not-a-session")
    assert unknown.status_code == 404
    assert 'data-error-key="connect_session_not_found"' in unknown.text


async def test_several_auth_options_show_a_chooser(osmo: Osmo, crm) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url, auth_options=())
    page = await start_oauth(osmo, "acme", "crm")
    assert page.status_code == 200
    assert 'id="option-oauth2"' in page.text and 'id="option-client-credentials"' in page.text
    chosen = await start_oauth(osmo, "acme", "crm", authOptionKey="oauth2")
    assert chosen.status_code == 303


async def test_connecting_again_reuses_the_connection_unless_multiple_allowed(
    osmo: Osmo, crm
) -> None:
    _, crm_url = crm
    await create_crm_integration(osmo, crm_url)
    await connect_oauth2(osmo, "acme")
    await connect_oauth2(osmo, "acme")
    first = await only_connection(osmo, "acme")
    await connect_oauth2(osmo, "acme", allowMultipleConnections="true")
    items = (await osmo.call("GET", "/connections", tenant="acme")).json()["items"]
    assert len(items) == 2 and first["id"] in {i["id"] for i in items}

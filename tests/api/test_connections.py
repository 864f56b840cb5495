"""Connections for every non-redirect auth kind, lifecycle routes, and customer isolation."""

from __future__ import annotations

from tests.api.connect_helpers import (
    connect_oauth2,
    new_browser,
    only_connection,
    query_of,
    start_oauth,
)
from tests.conftest import Osmo, create_crm_integration
from tests.fakes import login_and_consent


async def helpdesk_integration(osmo: Osmo, url: str, options: list[str]) -> None:
    response = await osmo.call(
        "POST",
        "/integrations",
        json={
            "key": "desk",
            "connectorKey": "fake-helpdesk",
            "parameters": {"baseUrl": url},
            "authOptions": options,
        },
    )
    assert response.status_code == 201, response.text


async def test_basic_auth_connection_through_the_api(osmo: Osmo, helpdesk) -> None:
    fake, url = helpdesk
    await helpdesk_integration(osmo, url, ["api-token"])
    body = {
        "integrationKey": "desk",
        "inputs": {"email": "agent@example.com", "apiToken": "helpdesk-token-123"},
    }
    created = await osmo.call("POST", "/connections", tenant="acme", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "connected"
    assert "helpdesk-token-123" not in created.text
    assert fake.api_requests[-1]["path"] == "/api/v2/users/me.json"


async def test_api_key_connection_and_proxy(osmo: Osmo, helpdesk) -> None:
    _, url = helpdesk
    await helpdesk_integration(osmo, url, ["api-key"])
    created = await osmo.call(
        "POST",
        "/connections",
        tenant="acme",
        json={"integrationKey": "desk", "inputs": {"apiKey": "helpdesk-token-123"}},
    )
    assert created.status_code == 201, created.text
    connection_id = created.json()["id"]
    tickets = await osmo.call(
        "GET", f"/connections/{connection_id}/proxy/api/v2/tickets.json?per_page=5", tenant="acme"
    )
    assert tickets.status_code == 200
    assert len(tickets.json()["tickets"]) == 5
    posted = await osmo.call(
        "POST",
        f"/connections/{connection_id}/proxy/api/v2/tickets.json",
        tenant="acme",
        json={"ticket": {"subject": "Printer on fire", "comment": {"body": "Help"}}},
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["ticket"]["subject"] == "Printer on fire"


async def test_invalid_inputs_are_422_with_paths_and_nothing_is_sent(osmo: Osmo, helpdesk) -> None:
    fake, url = helpdesk
    await helpdesk_integration(osmo, url, ["api-token"])
    response = await osmo.call(
        "POST",
        "/connections",
        tenant="acme",
        json={"integrationKey": "desk", "inputs": {"apiToken": "short"}},
    )
    assert response.status_code == 422
    paths = {e["path"] for e in response.json()["data"]["errors"]}
    assert paths == {"inputs.email", "inputs.apiToken"}
    assert "short" not in response.text  # sensitive values are never echoed
    malformed = await osmo.call(
        "POST",
        "/connections",
        tenant="acme",
        json={"integrationKey": "desk", "inputs": {"email": "nope", "apiToken": "long-enough"}},
    )
    assert malformed.status_code == 422
    assert [e["path"] for e in malformed.json()["data"]["errors"]] == ["inputs.email"]
    assert fake.api_requests == []
    assert (await osmo.call("GET", "/connections", tenant="acme")).json()["items"] == []


async def test_failing_test_request_stores_nothing(osmo: Osmo, helpdesk) -> None:
    _, url = helpdesk
    await helpdesk_integration(osmo, url, ["api-key"])
    response = await osmo.call(
        "POST",
        "/connections",
        tenant="acme",
        json={"integrationKey": "desk", "inputs": {"apiKey": "wrong-key-12345"}},
    )
    assert response.status_code == 400
    assert response.json()["key"] == "connection_test_failed"
    assert response.json()["data"]["cause"] == "access_token_expired"
    assert (await osmo.call("GET", "/connections", tenant="acme")).json()["items"] == []


async def test_client_credentials_connection(osmo: Osmo, crm) -> None:
    fake, url = crm
    await create_crm_integration(osmo, url, auth_options=("client-credentials",))
    created = await osmo.call("POST", "/connections", tenant="acme", json={"integrationKey": "crm"})
    assert created.status_code == 201, created.text
    connection_id = created.json()["id"]
    me = await osmo.call("GET", f"/connections/{connection_id}/proxy/api/v1/me", tenant="acme")
    assert me.json()["id"] == "client:osmo-client"
    fake.expire_access_tokens()
    again = await osmo.call("GET", f"/connections/{connection_id}/proxy/api/v1/me", tenant="acme")
    assert again.status_code == 200
    grants = [r["grant_type"] for r in fake.token_requests]
    assert grants == ["client_credentials", "client_credentials"]


async def test_oauth1_connection_end_to_end(osmo: Osmo, oauth1_app) -> None:
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
    assert created.status_code == 201
    async with new_browser(osmo) as browser:
        start = await start_oauth(osmo, "acme", "boards", browser)
        assert start.status_code == 303, start.text
        consent = await login_and_consent(browser, start.headers["location"], "bob", "builder")
        assert consent.status_code in (302, 303), consent.text
        callback = consent.headers["location"]
        assert "oauth_verifier" in query_of(callback)
        done = await browser.get(callback)
    assert done.status_code == 200, done.text
    connection = await only_connection(osmo, "acme")
    me = await osmo.call(
        "GET", f"/connections/{connection['id']}/proxy/api/1/members/me", tenant="acme"
    )
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "bob"


async def test_other_customers_objects_are_404(osmo: Osmo, crm) -> None:
    _, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    for method, path in [
        ("GET", f"/connections/{connection_id}"),
        ("PATCH", f"/connections/{connection_id}"),
        ("POST", f"/connections/{connection_id}/test"),
        ("GET", f"/connections/{connection_id}/proxy/api/v1/me"),
        ("DELETE", f"/connections/{connection_id}"),
    ]:
        response = await osmo.call(method, path, tenant="globex", json={})
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["key"] == "connection_not_found"
    assert (await osmo.call("GET", "/connections", tenant="globex")).json()["items"] == []
    assert (
        await osmo.call("GET", f"/connections/{connection_id}", tenant="acme")
    ).status_code == 200


async def test_secrets_only_for_admins_who_ask(osmo: Osmo, crm) -> None:
    _, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    plain = (await osmo.call("GET", f"/connections/{connection_id}")).json()
    assert plain["credentials"] is None
    denied = await osmo.call(
        "GET", f"/connections/{connection_id}?includeSecrets=true", tenant="acme"
    )
    assert denied.status_code == 403
    secret = (await osmo.call("GET", f"/connections/{connection_id}?includeSecrets=true")).json()
    assert secret["credentials"]["access_token"] and secret["credentials"]["refresh_token"]


async def test_test_disconnect_and_delete(osmo: Osmo, crm) -> None:
    fake, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    tested = await osmo.call("POST", f"/connections/{connection_id}/test", tenant="acme")
    assert tested.json() == {"success": True, "state": "connected", "error": None}
    refresh_token = osmo.services.connections.load(connection_id).credentials["refresh_token"]
    disconnected = await osmo.call(
        "POST", f"/connections/{connection_id}/disconnect", tenant="acme"
    )
    assert disconnected.json()["state"] == "disconnected"
    assert disconnected.json()["disconnectReason"] == "disconnected_by_user"
    assert refresh_token in fake.revoked_tokens
    assert osmo.services.connections.load(connection_id).credentials == {}
    tested = await osmo.call("POST", f"/connections/{connection_id}/test", tenant="acme")
    assert tested.json()["success"] is False
    assert tested.json()["state"] == "disconnected"
    assert (
        await osmo.call("DELETE", f"/connections/{connection_id}", tenant="acme")
    ).status_code == 204
    assert (
        await osmo.call("GET", f"/connections/{connection_id}", tenant="acme")
    ).status_code == 404


async def test_failed_test_marks_connection_error(osmo: Osmo, crm) -> None:
    fake, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    fake.arm_rate_limit(20, retry_after=7)
    tested = (await osmo.call("POST", f"/connections/{connection_id}/test", tenant="acme")).json()
    assert tested["success"] is False and tested["state"] == "error"
    assert tested["error"]["key"] == "rate_limit_exceeded"
    assert tested["error"]["data"]["retryAfter"] == 7

"""The API proxy and the external API logs it (and everything else) produces."""

from __future__ import annotations

import asyncio

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration, make_settings, start_osmo


async def connected(osmo: Osmo, crm, tenant: str = "acme") -> str:
    _, url = crm
    if (await osmo.call("GET", "/integrations/crm")).status_code == 404:
        await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, tenant)
    return str((await only_connection(osmo, tenant))["id"])


async def test_proxy_passes_status_headers_and_body(osmo: Osmo, crm) -> None:
    fake, _ = crm
    connection_id = await connected(osmo, crm)
    created = await osmo.call(
        "POST",
        f"/connections/{connection_id}/proxy/api/v1/contacts",
        tenant="acme",
        json={"properties": {"email": "new@example.com", "firstname": "New"}},
    )
    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]
    assert fake.contacts[contact_id]["properties"]["email"] == "new@example.com"
    missing = await osmo.call(
        "GET", f"/connections/{connection_id}/proxy/api/v1/contacts/999999", tenant="acme"
    )
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    assert "transfer-encoding" not in missing.headers
    # the caller's Osmo token never reaches the app; the connection's token does
    sent = fake.api_requests[-1]
    assert sent["authorization"].startswith("Bearer ")
    assert osmo.token("acme") not in sent["authorization"]
    await osmo.call(
        "GET",
        f"/connections/{connection_id}/proxy/api/v1/contacts?limit=2&after=1005",
        tenant="acme",
    )
    assert fake.api_requests[-1]["query"] == {"limit": "2", "after": "1005"}


async def test_upstream_rate_limit_is_passed_through(osmo: Osmo, crm) -> None:
    fake, _ = crm
    connection_id = await connected(osmo, crm)
    fake.arm_rate_limit(1, retry_after=9)
    response = await osmo.call(
        "GET", f"/connections/{connection_id}/proxy/api/v1/me", tenant="acme"
    )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "9"


async def test_every_external_request_is_logged_redacted(osmo: Osmo, crm) -> None:
    connection_id = await connected(osmo, crm)
    await osmo.call(
        "GET", f"/connections/{connection_id}/proxy/api/v1/contacts?limit=1", tenant="acme"
    )
    logs = (await osmo.call("GET", "/external-api-logs", tenant="acme")).json()["items"]
    # newest first: proxy call, test request, token exchange
    assert [(log["method"], log["url"].split("?")[0].rsplit("/", 2)[-2:]) for log in logs] == [
        ("GET", ["v1", "contacts"]),
        ("GET", ["v1", "me"]),
        ("POST", ["oauth", "token"]),
    ]
    proxy_log = logs[0]
    assert proxy_log["status"] == 200 and proxy_log["success"] is True
    assert proxy_log["connectionId"] == connection_id
    assert proxy_log["requestHeaders"]["authorization"] == "[REDACTED]"
    assert proxy_log["durationMs"] > 0 and proxy_log["responseSize"] > 0
    token_log = logs[2]
    credentials = osmo.services.connections.load(connection_id).credentials
    everything = str(logs)
    for secret in (
        credentials["access_token"],
        credentials["refresh_token"],
        "osmo-client-secret-123",
    ):
        assert secret not in everything
    assert "[REDACTED]" in (token_log["responseBody"] or "")


async def test_log_bodies_are_truncated(sqlite_url: str, crm) -> None:
    async for osmo in start_osmo(make_settings(sqlite_url, log_body_limit=100)):
        connection_id = await connected(osmo, crm)
        path = f"/connections/{connection_id}/proxy/api/v1/contacts?limit=50"
        await osmo.call("GET", path, tenant="acme")
        logs = (await osmo.call("GET", "/external-api-logs?limit=1", tenant="acme")).json()
        log = logs["items"][0]
        assert log["responseSize"] > 1000
        assert "truncated" in log["responseBody"] and len(log["responseBody"]) < 150


async def test_logs_filters_pagination_and_isolation(osmo: Osmo, crm) -> None:
    fake, _ = crm
    acme = await connected(osmo, crm, "acme")
    globex = await connected(osmo, crm, "globex")
    fake.arm_rate_limit(2, retry_after=1)
    for _ in range(2):
        await osmo.call("GET", f"/connections/{acme}/proxy/api/v1/me", tenant="acme")
    await asyncio.gather(
        *(osmo.call("GET", f"/connections/{acme}/proxy/api/v1/me", tenant="acme") for _ in range(5))
    )
    failed = (await osmo.call("GET", "/external-api-logs?success=false", tenant="acme")).json()
    assert [log["status"] for log in failed["items"]] == [429, 429]
    by_status = (await osmo.call("GET", "/external-api-logs?status=429")).json()["items"]
    assert len(by_status) == 2
    globex_logs = (await osmo.call("GET", "/external-api-logs", tenant="globex")).json()["items"]
    assert globex_logs and all(log["connectionId"] in (globex, None) for log in globex_logs)
    assert all(log["customerId"] == globex_logs[0]["customerId"] for log in globex_logs)
    seen, cursor = [], None
    while True:
        query = f"/external-api-logs?connectionId={acme}&limit=3" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = (await osmo.call("GET", query, tenant="acme")).json()
        seen += page["items"]
        cursor = page["cursor"]
        if not cursor:
            break
    # the two 429s and five 200s; calls made while connecting predate the connection id
    assert len(seen) == len({log["id"] for log in seen}) == 2 + 5
    times = [log["createdAt"] for log in seen]
    assert times == sorted(times, reverse=True)
    log_id = seen[0]["id"]
    assert (
        await osmo.call("GET", f"/external-api-logs/{log_id}", tenant="globex")
    ).status_code == 404
    future = await osmo.call("GET", "/external-api-logs?since=2999-01-01T00:00:00Z", tenant="acme")
    assert future.json()["items"] == []


async def test_many_concurrent_proxy_calls_do_not_exhaust_the_pool(osmo: Osmo, crm) -> None:
    """Routes release their database connection before awaiting the external app."""
    connection_id = await connected(osmo, crm)
    path = f"/connections/{connection_id}/proxy/api/v1/me"
    responses = await asyncio.wait_for(
        asyncio.gather(*(osmo.call("GET", path, tenant="acme") for _ in range(60))), timeout=25
    )
    assert [r.status_code for r in responses] == [200] * 60

"""Token refresh: proactive, after a 401, single-flight across processes, rotation, revocation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from connectors.runtime import ConnectorError
from core.models import utcnow
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import create_crm_integration, make_settings, start_osmo
from tests.connectors.runtime.crm_runtime import contacts, new_runtime, refresh_grants


async def test_fifty_concurrent_calls_with_expired_token_refresh_once(connected) -> None:
    osmo, fake, connection_id = connected
    fake.expire_access_tokens()
    first, second = new_runtime(osmo), new_runtime(osmo)
    try:
        results = await asyncio.gather(
            *(contacts(first if i % 2 else second, connection_id) for i in range(50))
        )
    finally:
        await first.aclose()
        await second.aclose()
    assert results == [200] * 50
    assert len(refresh_grants(fake)) == 1
    statuses = [r["status"] for r in fake.api_requests]
    assert statuses.count(200) == 50


async def test_token_expiring_soon_is_refreshed_before_the_call(connected) -> None:
    osmo, fake, connection_id = connected
    stored = osmo.services.connections.load(connection_id)
    osmo.services.connections.save_credentials(
        connection_id, stored.credentials, utcnow() + timedelta(seconds=10)
    )
    runtime = new_runtime(osmo)
    try:
        assert await contacts(runtime, connection_id) == 200
    finally:
        await runtime.aclose()
    assert len(refresh_grants(fake)) == 1
    assert [r["status"] for r in fake.api_requests] == [200]  # no 401 was ever seen
    after = osmo.services.connections.load(connection_id)
    assert after.token_expires_at is not None and after.token_expires_at > utcnow() + timedelta(
        minutes=30
    )


async def test_rotated_refresh_token_is_stored(connected) -> None:
    osmo, fake, connection_id = connected
    before = osmo.services.connections.load(connection_id).credentials["refresh_token"]
    fake.expire_access_tokens()
    runtime = new_runtime(osmo)
    try:
        assert await contacts(runtime, connection_id) == 200
        fake.expire_access_tokens()
        assert await contacts(runtime, connection_id) == 200  # the rotated token works
    finally:
        await runtime.aclose()
    after = osmo.services.connections.load(connection_id).credentials["refresh_token"]
    assert after != before
    assert len(refresh_grants(fake)) == 2


@pytest.mark.parametrize("slow_crm", [{"omit_refresh_token_on_refresh": True}], indirect=True)
async def test_refresh_response_without_refresh_token_keeps_the_old_one(connected) -> None:
    osmo, fake, connection_id = connected
    before = osmo.services.connections.load(connection_id).credentials
    fake.expire_access_tokens()
    runtime = new_runtime(osmo)
    try:
        assert await contacts(runtime, connection_id) == 200
    finally:
        await runtime.aclose()
    after = osmo.services.connections.load(connection_id).credentials
    assert after["refresh_token"] == before["refresh_token"]
    assert after["access_token"] != before["access_token"]


async def test_invalid_grant_disconnects_with_the_providers_reason(connected) -> None:
    osmo, fake, connection_id = connected
    fake.expire_access_tokens()
    fake.revoke_all_refresh_tokens("User uninstalled the app")
    runtime = new_runtime(osmo)
    try:
        with pytest.raises(ConnectorError) as raised:
            await contacts(runtime, connection_id)
    finally:
        await runtime.aclose()
    assert raised.value.key == "connection_is_defunct"
    connection = (await osmo.call("GET", f"/connections/{connection_id}", tenant="acme")).json()
    assert connection["state"] == "disconnected"
    assert connection["disconnectReason"] == "invalid_grant"
    assert connection["errorMessage"] == "User uninstalled the app"


async def test_refresh_credentials_endpoint_forces_a_refresh(connected) -> None:
    osmo, fake, connection_id = connected
    before = osmo.services.connections.load(connection_id).credentials["access_token"]
    response = await osmo.call(
        "POST", f"/connections/{connection_id}/refresh-credentials", tenant="acme"
    )
    assert response.status_code == 200, response.text
    assert osmo.services.connections.load(connection_id).credentials["access_token"] != before
    assert len(refresh_grants(fake)) == 1


async def test_proxy_refreshes_after_401_and_retries_once(connected) -> None:
    osmo, fake, connection_id = connected
    fake.expire_access_tokens()
    response = await osmo.call(
        "GET", f"/connections/{connection_id}/proxy/api/v1/contacts?limit=3", tenant="acme"
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 3
    assert [r["status"] for r in fake.api_requests] == [401, 200]
    assert len(refresh_grants(fake)) == 1


async def test_two_api_processes_share_one_refresh(database_url: str, slow_crm) -> None:
    """Two Osmo servers on one database: concurrent proxied calls refresh exactly once."""
    fake, url = slow_crm
    settings = make_settings(database_url)
    async for first in start_osmo(settings):
        await create_crm_integration(first, url)
        assert (await connect_oauth2(first, "acme")).status_code == 200
        connection_id = (await only_connection(first, "acme"))["id"]
        second_settings = settings.model_copy()
        async for second in start_osmo(second_settings):
            fake.token_requests.clear()
            fake.expire_access_tokens()
            path = f"/connections/{connection_id}/proxy/api/v1/me"
            responses = await asyncio.gather(
                *((first if i % 2 else second).call("GET", path, tenant="acme") for i in range(20))
            )
            assert [r.status_code for r in responses] == [200] * 20
            assert len(refresh_grants(fake)) == 1

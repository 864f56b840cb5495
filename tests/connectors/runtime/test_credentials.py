"""A dead connection stops using its refresh token; short-lived tokens are not refreshed on
every call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from connectors.runtime import ConnectorError, ConnectorRuntime, DatabaseApiLogSink
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import CRM_CLIENT, Osmo, create_crm_integration
from tests.connectors.runtime.crm_runtime import contacts, new_runtime, refresh_grants
from tests.fakes import FakeCRM, serve


async def proxy_call(osmo: Osmo, connection_id: str) -> tuple[int, str]:
    response = await osmo.call(
        "GET", f"/connections/{connection_id}/proxy/api/v1/contacts", tenant="acme"
    )
    return response.status_code, response.json().get("key", "")


async def test_twenty_calls_on_a_dead_connection_answer_409_without_asking_the_provider(
    connected,
) -> None:
    osmo, fake, connection_id = connected
    fake.expire_access_tokens()
    fake.revoke_all_refresh_tokens("User uninstalled the app")
    assert await proxy_call(osmo, connection_id) == (409, "connection_is_defunct")
    fake.token_requests.clear()
    fake.api_requests.clear()
    results = await asyncio.gather(*(proxy_call(osmo, connection_id) for _ in range(20)))
    assert results == [(409, "connection_disconnected")] * 20
    assert fake.token_requests == []
    assert fake.api_requests == []
    # a forced refresh does not use the dead refresh token either
    forced = await osmo.call(
        "POST", f"/connections/{connection_id}/refresh-credentials", tenant="acme"
    )
    assert forced.status_code == 409 and forced.json()["key"] == "connection_disconnected"
    # nor is it sent to be revoked when the customer disconnects
    revoked_before = list(fake.revoked_tokens)
    disconnected = await osmo.call(
        "POST", f"/connections/{connection_id}/disconnect", tenant="acme"
    )
    assert disconnected.status_code == 200, disconnected.text
    assert fake.revoked_tokens == revoked_before
    assert fake.token_requests == []


async def test_concurrent_calls_that_find_the_grant_dead_ask_the_provider_once(
    connected,
) -> None:
    """Callers queued behind the refresh that got `invalid_grant` (in this process or
    another) see the connection disconnected instead of trying the same refresh token."""
    osmo, fake, connection_id = connected
    fake.expire_access_tokens()
    fake.revoke_all_refresh_tokens()
    first, second = new_runtime(osmo), new_runtime(osmo)
    try:
        outcomes = await asyncio.gather(
            *(contacts(first if i % 2 else second, connection_id) for i in range(20)),
            return_exceptions=True,
        )
    finally:
        await first.aclose()
        await second.aclose()
    keys = sorted(o.key for o in outcomes if isinstance(o, ConnectorError))
    assert len(keys) == 20
    assert keys.count("connection_is_defunct") == 1
    assert keys.count("connection_disconnected") == 19
    assert len(refresh_grants(fake)) == 1


@pytest.fixture
def short_lived_crm() -> Iterator[tuple[FakeCRM, str]]:
    """A CRM whose access tokens live two minutes (less than the default 300 s margin)."""
    fake = FakeCRM(access_token_ttl=120)
    fake.register_client(*CRM_CLIENT)
    fake.add_user("alice", "wonderland")
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
async def default_margin_runtime(osmo: Osmo) -> AsyncIterator[ConnectorRuntime]:
    services = osmo.services
    runtime = ConnectorRuntime(
        services.registry, services.connections, DatabaseApiLogSink(services.engine)
    )
    assert runtime.credentials.refresh_margin == 300  # the setting's default
    yield runtime
    await runtime.aclose()


async def test_a_token_living_two_minutes_is_not_refreshed_on_every_call(
    osmo: Osmo, short_lived_crm, default_margin_runtime: ConnectorRuntime
) -> None:
    fake, url = short_lived_crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    fake.token_requests.clear()
    before = osmo.services.connections.load(connection_id).credentials["refresh_token"]
    for _ in range(5):
        assert await contacts(default_margin_runtime, connection_id) == 200
    assert refresh_grants(fake) == []
    assert osmo.services.connections.load(connection_id).credentials["refresh_token"] == before

"""The worker's connection cache decrypts once, yet the next call sees every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from activities.connection_cache import ConnectionCache
from core.errors import OsmoError
from core.models import Connection, ConnectionState, Integration
from core.stores.connections import ConnectionStore
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration


class CountingStore(ConnectionStore):
    """The real store, counting full loads (three rows read, secrets decrypted)."""

    loads = 0

    def load(self, connection_id: str):  # type: ignore[no-untyped-def]
        self.loads += 1
        return super().load(connection_id)


async def test_cached_until_a_refresh_a_disconnect_an_edit_or_a_delete(osmo: Osmo, crm) -> None:
    await create_crm_integration(osmo, crm[1])
    await connect_oauth2(osmo, "acme")
    connection_id = str((await only_connection(osmo, "acme"))["id"])
    services = osmo.services
    store = CountingStore(services.engine, services.encryptor)
    cache = ConnectionCache(store)

    first = await cache.load(connection_id)
    first.credentials["access_token"] = "changed by a caller"  # callers get private copies
    again = await cache.load(connection_id)
    assert store.loads == 1
    assert again.credentials["access_token"] != "changed by a caller"

    # A refresh (here or in another process) is seen by the very next call.
    expires = datetime.now(UTC) + timedelta(hours=1)
    store.save_credentials(connection_id, {"access_token": "refreshed-token"}, expires)
    refreshed = await cache.load(connection_id)
    assert refreshed.credentials == {"access_token": "refreshed-token"}
    assert refreshed.credentials_version == first.credentials_version + 1
    assert store.loads == 2

    store.mark_state(connection_id, ConnectionState.disconnected, "revoked")
    assert (await cache.load(connection_id)).state == ConnectionState.disconnected
    assert store.loads == 3

    with Session(services.engine) as session:  # an edited integration (its base URL, say)
        connection = session.get(Connection, connection_id)
        assert connection is not None
        integration = session.get(Integration, connection.integration_id)
        assert integration is not None
        integration.parameters = {**integration.parameters, "baseUrl": "http://edited.test"}
        integration.updated_at = datetime.now(UTC)
        session.add(integration)
        session.commit()
    edited = await cache.load(connection_id)
    assert edited.integration_parameters["baseUrl"] == "http://edited.test"

    with Session(services.engine) as session:
        session.delete(session.get(Connection, connection_id))
        session.commit()
    with pytest.raises(OsmoError) as raised:
        await cache.load(connection_id)
    assert raised.value.key == "connection_not_found"


async def test_entries_expire(osmo: Osmo, crm) -> None:
    await create_crm_integration(osmo, crm[1])
    await connect_oauth2(osmo, "acme")
    connection_id = str((await only_connection(osmo, "acme"))["id"])
    store = CountingStore(osmo.services.engine, osmo.services.encryptor)
    now = [0.0]
    cache = ConnectionCache(store, ttl=5, clock=lambda: now[0])
    await cache.load(connection_id)
    now[0] = 4.9
    await cache.load(connection_id)
    assert store.loads == 1
    now[0] = 5.0
    await cache.load(connection_id)
    assert store.loads == 2

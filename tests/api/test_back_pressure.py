"""A saturated API says so at once (503 with `Retry-After`) instead of stalling (issue 12).

Two kinds of saturation: more start requests in flight than `OSMO_MAX_INFLIGHT_STARTS`
(`api_busy`), and no pooled database connection free within `OSMO_DB_POOL_TIMEOUT_SECONDS`
(`database_busy`). Also here: a token's customer is not upserted on every request.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

from api.routes import flow_runs
from core.errors import OsmoError
from tests.conftest import Osmo, make_settings, start_osmo
from tests.workflows.flow_fixtures import crm_connection, define

FLOW: dict[str, Any] = {
    "key": "held",
    "nodes": {"trigger": {"type": "api-trigger"}},
}


def _declared_busy(response: Any, key: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["key"] == key and body["type"] == "unavailable"
    assert body["data"]["retryAfter"] == 1 and body["message"]


@pytest.fixture
async def osmo_two_starts(sqlite_url: str) -> AsyncIterator[Osmo]:
    """Osmo working on at most two starts at once, each over the limit waiting 0.3 s."""
    settings = make_settings(sqlite_url, max_inflight_starts=2, start_queue_seconds=0.3)
    async for running in start_osmo(settings):
        yield running


@pytest.fixture
async def osmo_one_connection(database_url: str) -> AsyncIterator[Osmo]:
    """Osmo with one pooled database connection, waited for at most 0.3 s."""
    settings = make_settings(
        database_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.3
    )
    async for running in start_osmo(settings):
        yield running


async def test_starts_over_the_limit_get_api_busy_while_other_routes_answer(
    osmo_two_starts: Osmo, crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    osmo = osmo_two_starts
    connection_id = await crm_connection(osmo, crm[1])
    await define(osmo, FLOW)
    release, entered = threading.Event(), []

    async def start_flow_run(services: Any, run_input: Any) -> Any:
        # Stands in for a slow Temporal; the server's loop runs in another thread.
        entered.append(run_input)
        while not release.is_set():
            await asyncio.sleep(0.01)
        raise OsmoError("unavailable", "temporal_unavailable", "not started", status=503)

    monkeypatch.setattr(flow_runs, "start_flow_run", start_flow_run)
    path = f"/connections/{connection_id}/flows/held/run"
    held = [asyncio.create_task(osmo.call("POST", path, tenant="acme", json={})) for _ in range(2)]
    while len(entered) < 2:
        await asyncio.sleep(0.01)

    started = time.monotonic()
    refused = await osmo.call("POST", path, tenant="acme", json={})
    waited = time.monotonic() - started
    _declared_busy(refused, "api_busy")
    assert refused.json()["data"]["limit"] == 2
    assert 0.3 <= waited < 5, waited  # it waited for a slot, briefly
    # Routes that start nothing are not queued behind the starts.
    assert (await osmo.call("GET", "/health")).status_code == 200
    assert (await osmo.call("GET", "/connections", tenant="acme")).status_code == 200
    assert len(entered) == 2

    release.set()
    for answer in await asyncio.gather(*held):
        assert answer.json()["key"] == "temporal_unavailable"
    # The slots came back: a new start gets in.
    again = await osmo.call("POST", path, tenant="acme", json={})
    assert again.json()["key"] == "temporal_unavailable" and len(entered) == 3


async def test_an_exhausted_database_pool_is_database_busy_not_a_stall(
    osmo_one_connection: Osmo,
) -> None:
    osmo = osmo_one_connection
    assert (await osmo.call("GET", "/connections", tenant="acme")).status_code == 200
    held = osmo.services.engine.connect()  # the pool's only connection
    held.exec_driver_sql("SELECT 1")
    try:
        started = time.monotonic()
        busy = await osmo.call("GET", "/connections", tenant="acme")
        assert time.monotonic() - started < 10
        _declared_busy(busy, "database_busy")
    finally:
        held.close()
    assert (await osmo.call("GET", "/connections", tenant="acme")).status_code == 200


async def test_known_customers_cost_no_query_and_changes_are_seen(osmo: Osmo) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    token = {"Authorization": f"Bearer {osmo.token('acme', name='Acme')}"}
    first = await osmo.client.get("/self", headers=token)
    assert first.status_code == 200 and first.json()["name"] == "Acme"
    event.listen(osmo.services.engine, "before_cursor_execute", record)
    try:
        again = await osmo.client.get("/self", headers=token)
    finally:
        event.remove(osmo.services.engine, "before_cursor_execute", record)
    assert again.json() == first.json()
    assert not [s for s in statements if "customers" in s], statements

    # A token with other claims is applied at once.
    renamed = {"Authorization": f"Bearer {osmo.token('acme', name='Acme Inc')}"}
    assert (await osmo.client.get("/self", headers=renamed)).json()["name"] == "Acme Inc"

    # A deleted customer is forgotten: the same token makes a new one.
    deleted = await osmo.call("DELETE", f"/customers/{first.json()['id']}")
    assert deleted.status_code == 204, deleted.text
    recreated = await osmo.client.get("/self", headers=token)
    assert recreated.status_code == 200 and recreated.json()["id"] != first.json()["id"]

    # A customer changed by an admin is read again (the token's claims then apply as before).
    customer_id = recreated.json()["id"]
    changed = await osmo.call(
        "PATCH", f"/customers/{customer_id}", json={"fields": {"plan": "pro"}}
    )
    assert changed.status_code == 200, changed.text
    assert (await osmo.client.get("/self", headers=token)).json()["fields"] == {"plan": "pro"}

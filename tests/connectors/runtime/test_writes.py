"""Writes through the runtime: logged `pending` before they leave, and a retried create the
app refuses as a conflict resolved to the record it conflicts with."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from connectors.runtime import ConnectorError, ConnectorRuntime, DatabaseApiLogSink
from connectors.runtime.collections import run_method
from core.models import ExternalApiLog
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration
from tests.connectors.runtime.crm_runtime import new_runtime

SEEDED = "ada.lovelace1@example.com"
"""The fake CRM's first seeded contact (id 1001)."""


def log_rows(osmo: Osmo) -> list[ExternalApiLog]:
    with Session(osmo.services.engine) as session:
        return list(session.exec(select(ExternalApiLog)).all())


async def test_a_write_is_in_the_log_while_it_is_sent_and_a_read_only_after(
    osmo: Osmo, crm
) -> None:
    _, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    seen: list[list[tuple[str, str, int | None]]] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append([(r.method, r.state, r.status) for r in log_rows(osmo)])
        return httpx.Response(201 if request.method == "POST" else 200, json={"id": "1"})

    services = osmo.services
    runtime = ConnectorRuntime(
        services.registry,
        services.connections,
        DatabaseApiLogSink(services.engine),
        transport=httpx.MockTransport(app),
    )
    before = len(log_rows(osmo))
    try:
        ctx = runtime.context_for(services.connections.load(connection_id))
        await runtime.request(ctx, "POST", "/api/v1/contacts", json={"properties": {}})
        await runtime.request(ctx, "GET", "/api/v1/contacts/1")
    finally:
        await runtime.aclose()
    assert seen[0][before:] == [("POST", "pending", None)]
    assert seen[1][before:] == [("POST", "completed", 201)]  # the GET is not logged yet
    rows = log_rows(osmo)[before:]
    assert [(r.method, r.state, r.status) for r in rows] == [
        ("POST", "completed", 201),
        ("GET", "completed", 200),
    ]
    assert rows[0].duration_ms > 0 and rows[0].response_body == '{"id":"1"}'


async def test_a_write_the_network_loses_is_logged_failed(osmo_sqlite: Osmo, crm) -> None:
    osmo = osmo_sqlite
    _, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]

    def app(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection reset", request=request)

    services = osmo.services
    runtime = ConnectorRuntime(
        services.registry,
        services.connections,
        DatabaseApiLogSink(services.engine),
        transport=httpx.MockTransport(app),
    )
    before = len(log_rows(osmo))
    try:
        ctx = runtime.context_for(services.connections.load(connection_id))
        with pytest.raises(ConnectorError) as raised:
            await runtime.request(ctx, "DELETE", "/api/v1/contacts/1")
    finally:
        await runtime.aclose()
    assert raised.value.key == "network_error"
    [row] = log_rows(osmo)[before:]
    assert (row.state, row.status, row.error_key) == ("failed", None, "network_error")


async def create(osmo: Osmo, connection_id: str, retried: bool, **fields: Any) -> dict[str, Any]:
    runtime = new_runtime(osmo)
    try:
        stored = await asyncio.to_thread(osmo.services.connections.load, connection_id)
        return await run_method(
            runtime,
            runtime.context_for(stored),
            "contacts",
            "create",
            fields=fields,
            retried=retried,
        )
    finally:
        await runtime.aclose()


async def test_a_retried_create_refused_as_a_conflict_resolves_to_the_existing_record(
    osmo: Osmo, crm
) -> None:
    fake, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    resolved = await create(osmo, connection_id, True, email=SEEDED, firstname="Ada")
    assert resolved["created"] is False and resolved["matched"] is True
    assert resolved["record"]["id"] == "1001"
    assert resolved["record"]["fields"]["email"] == SEEDED
    assert [(r["method"], r["path"], r["status"]) for r in fake.api_requests][-2:] == [
        ("POST", "/api/v1/contacts", 409),
        ("POST", "/api/v1/contacts/search", 200),
    ]
    assert sum(1 for c in fake.contacts.values() if c["properties"]["email"] == SEEDED) == 1


async def test_a_first_attempts_conflict_stays_an_error(osmo_sqlite: Osmo, crm) -> None:
    """A record that was there before the create is no retry's doing: the flow must know."""
    fake, url = crm
    await create_crm_integration(osmo_sqlite, url)
    await connect_oauth2(osmo_sqlite, "acme")
    connection_id = (await only_connection(osmo_sqlite, "acme"))["id"]
    with pytest.raises(ConnectorError) as raised:
        await create(osmo_sqlite, connection_id, False, email=SEEDED)
    assert raised.value.key == "conflict"
    assert fake.api_requests[-1]["path"] == "/api/v1/contacts"  # no match was tried

"""What the event inbox tests share: a fake CRM connector that declares webhooks, a connection
to it, subscriptions, flows with event triggers, and ways to wait for the inbox's work."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select
from temporalio.client import Client

from core.events.messages import spec_hash
from core.events.models import EventSubscription, ExternalEventLogRecord
from core.models import Connection, Integration
from core.settings import Settings
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import (
    CONNECTOR_PATHS,
    CRM_CLIENT,
    DEMO_CONNECTORS,
    Osmo,
    make_settings,
    start_osmo,
)

HOOKS_CONNECTOR = "fake-crm-hooks"
WEBHOOKS = {"eventsPath": "events", "eventIdPath": "id", "eventTypePath": "type"}
CONTACT_CREATED = {
    "type": "webhook",
    "filter": {"field": "event.type", "operator": "is", "value": "contact.created"},
    "recordId": "objectId",
}


def hooks_connector(folder: Path) -> dict[str, Any]:
    """The fake CRM's connector, keyed `fake-crm-hooks`, with webhooks (a batch in `events`,
    ids in `id`, types in `type`) and `contact.created` events of contacts."""
    spec = yaml.safe_load((DEMO_CONNECTORS / "fake_crm" / "connector.yaml").read_text())
    spec.pop("$schema", None)
    spec["key"], spec["name"] = HOOKS_CONNECTOR, "Fake CRM with webhooks"
    spec["webhooks"] = WEBHOOKS
    contacts = next(c for c in spec["dataCollections"] if c["key"] == "contacts")
    contacts["events"] = {"created": CONTACT_CREATED}
    target = folder / HOOKS_CONNECTOR / "connector.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(spec, sort_keys=False))
    return spec


def hooks_settings(sqlite_url: str, folder: Path, **overrides: Any) -> Settings:
    """Test settings whose connectors include `fake-crm-hooks` (written into `folder`)."""
    hooks_connector(folder)
    paths = os.pathsep.join([CONNECTOR_PATHS, str(folder)])
    return make_settings(sqlite_url, connector_paths=paths, **overrides)


async def hooks_connection(osmo: Osmo, crm_url: str, tenant: str = "acme") -> str:
    """`tenant`'s OAuth connection to the fake CRM through the integration `crm` of
    `fake-crm-hooks`."""
    response = await osmo.call(
        "POST",
        "/integrations",
        json={
            "key": "crm",
            "connectorKey": HOOKS_CONNECTOR,
            "clientId": CRM_CLIENT[0],
            "clientSecret": CRM_CLIENT[1],
            "parameters": {"baseUrl": crm_url},
            "authOptions": ["oauth2"],
        },
    )
    assert response.status_code == 201, response.text
    await connect_oauth2(osmo, tenant)
    return str((await only_connection(osmo, tenant))["id"])


def add_subscription(
    osmo: Osmo,
    connection_id: str,
    event_type: str = "connector-event",
    *,
    collection_key: str | None = None,
    connector_event_key: str | None = None,
    source: str = "webhook",
    interval: int | None = None,
) -> str:
    """A subscribed `event_subscriptions` row, as the sync creates it."""
    with Session(osmo.services.engine) as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        integration = session.get(Integration, connection.integration_id)
        assert integration is not None
        row = EventSubscription(
            customer_id=connection.customer_id,
            connection_id=connection_id,
            integration_key=integration.key,
            spec_hash=spec_hash(event_type, collection_key, {}, connector_event_key),
            event_type=event_type,
            collection_key=collection_key,
            collection_parameters={},
            connector_event_key=connector_event_key,
            source=source,
            pull_interval_seconds=interval,
        )
        session.add(row)
        session.commit()
        return row.id


def connector_event_flow(key: str, event_type: str = "*", filter: Any = None) -> dict[str, Any]:
    """A flow started by connector events, whose second node reads the trigger's event id."""
    config: dict[str, Any] = {"eventType": event_type}
    if filter is not None:
        config["filter"] = filter
    return {
        "key": key,
        "nodes": {
            "trigger": {
                "type": "connector-event-trigger",
                "config": config,
                "links": [{"key": "echo"}],
            },
            "echo": {"type": "transform-data", "config": {"value": {"$var": "input.trigger"}}},
        },
    }


def record_created_flow(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "nodes": {
            "trigger": {
                "type": "data-record-created-trigger",
                "config": {"collectionKey": "contacts"},
                "links": [{"key": "echo"}],
            },
            "echo": {"type": "transform-data", "config": {"value": {"$var": "input.trigger"}}},
        },
    }


async def flow_instance(osmo: Osmo, connection_id: str, key: str, **changes: Any) -> str:
    """The id of the connection's instance of flow `key` (created), with `changes` applied."""
    path = f"/connections/{connection_id}/flows/{key}"
    if changes:
        response = await osmo.call("PATCH", path, json=changes)
    else:
        response = await osmo.call("GET", path)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def log_rows(osmo: Osmo, subscription_id: str) -> list[ExternalEventLogRecord]:
    with Session(osmo.services.engine) as session:
        statement = select(ExternalEventLogRecord).where(
            ExternalEventLogRecord.subscription_id == subscription_id
        )
        return list(session.exec(statement).all())


async def logged(
    osmo: Osmo, subscription_id: str, count: int, timeout: float = 30
) -> dict[str, ExternalEventLogRecord]:
    """The subscription's event log rows by event id, once there are `count` of them (and
    still `count` a moment later: none doubled)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    rows = log_rows(osmo, subscription_id)
    while len(rows) < count and loop.time() < deadline:
        await asyncio.sleep(0.1)
        rows = log_rows(osmo, subscription_id)
    await asyncio.sleep(0.3)
    rows = log_rows(osmo, subscription_id)
    assert len(rows) == count, [(r.event_id, r.status) for r in rows]
    return {row.event_id: row for row in rows}


async def runs_of(client: Client, instance_id: str, expected: int, timeout: float = 20) -> int:
    """How many flow runs of the flow instance Temporal's visibility lists (waiting up to
    `timeout` for `expected` of them, as visibility lags a little)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    query = f"FlowInstanceId = '{instance_id}'"
    count = (await client.count_workflows(query)).count
    while count < expected and loop.time() < deadline:
        await asyncio.sleep(0.2)
        count = (await client.count_workflows(query)).count
    return count


async def hooks_osmo(sqlite_url: str, folder: Path) -> AsyncIterator[Osmo]:
    """Osmo on loopback over SQLite, knowing `fake-crm-hooks`."""
    async for running in start_osmo(hooks_settings(sqlite_url, folder)):
        yield running

"""The event inbox's activities: webhook deliveries read into events, and `launch_events`
idempotent (a retried launch neither logs nor starts twice), with the connection's queue
respected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.events import EventActivities
from connectors.registry import ConnectorRegistry
from connectors.runtime.webhook_events import content_id, delivery_events
from connectors.spec import ConnectorSpec
from core.blobs import with_converter
from core.events.messages import (
    ExternalEvent,
    WebhookDelivery,
    event_flow_run_id,
)
from core.events.models import EventSubscription, ExternalEventLogRecord
from core.stores.run_slots import RunSlots
from tests.conftest import Osmo
from tests.events_fixtures import (
    add_subscription,
    connector_event_flow,
    flow_instance,
    hooks_connection,
    hooks_connector,
    hooks_osmo,
    log_rows,
    runs_of,
)
from tests.workflows.flow_fixtures import define, finished, flow_worker
from workflows.starts import start_event_flow_run


@pytest.fixture
async def osmo(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Osmo]:
    async for running in hooks_osmo(sqlite_url, tmp_path / "connectors"):
        yield running


def delivery(body: Any, headers: dict[str, str] | None = None, **kwargs: Any) -> WebhookDelivery:
    return WebhookDelivery("wh-1", headers or {}, body, "2026-01-01T00:00:00+00:00", **kwargs)


def spec(tmp_path: Path, **changes: Any) -> ConnectorSpec:
    return ConnectorSpec.model_validate({**hooks_connector(tmp_path), **changes})


# -- reading deliveries ------------------------------------------------------------------


def test_connector_events_take_ids_and_types_from_the_event(tmp_path: Path) -> None:
    body = {"events": [{"id": "e1", "type": "deal.won"}, {"id": "e2", "type": "deal.lost"}]}
    every = delivery_events(
        spec(tmp_path), delivery(body), event_type="connector-event", connector_event_key="*"
    )
    assert [(e.id, e.type, e.connector_event_key) for e in every] == [
        ("e1", "connector-event", "deal.won"),
        ("e2", "connector-event", "deal.lost"),
    ]
    assert every[0].payload == {"id": "e1", "type": "deal.won"}
    assert every[0].incoming_webhook_id == "wh-1"
    won = delivery_events(
        spec(tmp_path), delivery(body), event_type="connector-event", connector_event_key="deal.won"
    )
    assert [e.id for e in won] == ["e1"]


def test_record_events_are_picked_by_the_collections_filter(tmp_path: Path) -> None:
    body = {
        "events": [
            {"id": "c1", "type": "contact.created", "objectId": 101},
            {"id": "c2", "type": "contact.deleted", "objectId": 102},
        ]
    }
    created = delivery_events(
        spec(tmp_path), delivery(body), event_type="data-record-created", collection_key="contacts"
    )
    assert [(e.id, e.type, e.record_id) for e in created] == [("c1", "data-record-created", "101")]
    # No webhook declared for updates of contacts: nothing, and no exception.
    assert (
        delivery_events(
            spec(tmp_path),
            delivery(body),
            event_type="data-record-updated",
            collection_key="contacts",
        )
        == []
    )


def test_an_event_without_id_is_known_by_its_content(tmp_path: Path) -> None:
    plain = spec(tmp_path, webhooks={"eventTypePath": "type"})
    body = {"type": "ping", "n": 1}
    first = delivery_events(
        plain, delivery(body), event_type="connector-event", connector_event_key="*"
    )
    again = delivery_events(
        plain,
        delivery(dict(reversed(list(body.items())))),
        event_type="connector-event",
        connector_event_key="*",
    )
    assert [e.id for e in first] == [e.id for e in again] == [content_id(body)]
    # `delivery.events` (an app-level webhook the ingress split) wins over the body.
    routed = delivery_events(
        plain,
        delivery({"ignored": True}, events=[{"type": "a"}, {"type": "b"}]),
        event_type="connector-event",
        connector_event_key="b",
    )
    assert [e.payload for e in routed] == [{"type": "b"}]


def test_unreadable_deliveries_give_no_events(tmp_path: Path) -> None:
    hooks = spec(tmp_path)
    for body in ("not json", None, {"events": "nope"}, {"events": [1, None]}, {"other": 1}):
        found = delivery_events(
            hooks, delivery(body), event_type="data-record-created", collection_key="contacts"
        )
        assert found == []
    unknown = delivery_events(
        hooks, delivery({"events": []}), event_type="data-record-created", collection_key="nope"
    )
    assert unknown == []


# -- launching ---------------------------------------------------------------------------


def activities_for(osmo: Osmo) -> EventActivities:
    settings = osmo.settings
    registry = ConnectorRegistry(settings.extra_connector_paths)
    return EventActivities(osmo.services.engine, settings, registry, start_event_flow_run)


def event(event_id: str, **payload: Any) -> ExternalEvent:
    return ExternalEvent(
        id=event_id,
        type="connector-event",
        payload={"id": event_id, "type": "thing", **payload},
        connector_event_key="thing",
        incoming_webhook_id="wh-1",
    )


async def test_a_retried_launch_starts_nothing_twice_and_logs_once(
    osmo: Osmo, crm, env: WorkflowEnvironment
) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    await define(osmo, connector_event_flow("every"))
    await define(
        osmo,
        connector_event_flow(
            "secret",
            filter={"field": "event.payload.token", "operator": "is", "value": "s3cret-value"},
        ),
    )
    every = await flow_instance(osmo, connection_id, "every")
    await flow_instance(osmo, connection_id, "secret", enabled=False)
    subscription = add_subscription(osmo, connection_id, connector_event_key="*")
    async with flow_worker(osmo, env) as settings:
        activities = activities_for(osmo)
        activities.settings = settings
        client = with_converter(env.client, settings)
        environment = ActivityEnvironment(client=client)
        events = [event("e1", token="s3cret-value"), event("e2")]
        first = await environment.run(activities.launch_events, subscription, events)
        run_ids = [event_flow_run_id(subscription, e.id, every) for e in events]
        assert first == [
            {"eventId": "e1", "status": "launched", "flowRunIds": [run_ids[0]], "errorKey": None},
            {"eventId": "e2", "status": "launched", "flowRunIds": [run_ids[1]], "errorKey": None},
        ]
        run = await finished(osmo, run_ids[0])
        assert run["state"] == "completed", run
        assert run["launchedBy"] == {
            "type": "external-event",
            "subscriptionId": subscription,
            "eventId": "e1",
        }
        assert run["triggerType"] == "connector-event-trigger"
        handle = client.get_workflow_handle(run_ids[0])
        started = (await handle.describe()).run_id
        # The activity retried after its runs started (and, for e1, after its row too).
        with Session(osmo.services.engine) as session:
            row = session.exec(
                select(ExternalEventLogRecord).where(ExternalEventLogRecord.event_id == "e2")
            ).one()
            session.delete(row)
            session.commit()
        again = await environment.run(activities.launch_events, subscription, events)
        assert again == first
        described = await handle.describe()
        assert described.run_id == started  # the completed run was not started again
        assert described.status == WorkflowExecutionStatus.COMPLETED
        rows = log_rows(osmo, subscription)
        assert sorted(r.event_id for r in rows) == ["e1", "e2"]
        assert await runs_of(client, every, 2) == 2
        e1 = next(r for r in rows if r.event_id == "e1")
        assert e1.status == "launched" and e1.incoming_webhook_id == "wh-1"
        assert e1.payload is not None and "s3cret-value" not in e1.payload  # redacted


async def test_events_over_the_connection_queue_are_rejected_and_logged(
    osmo: Osmo, crm, env: WorkflowEnvironment
) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    await define(osmo, connector_event_flow("every"))
    await flow_instance(osmo, connection_id, "every")
    subscription = add_subscription(osmo, connection_id, connector_event_key="*")
    slots = RunSlots(osmo.services.engine)
    for run_id in ("r1", "r2", "w1", "w2"):  # every slot and the whole queue taken
        slots.acquire(connection_id, run_id, limit=2, queue_limit=2)
    environment = ActivityEnvironment(client=env.client)
    result = await environment.run(activities_for(osmo).launch_events, subscription, [event("e1")])
    assert result == [
        {
            "eventId": "e1",
            "status": "rejected",
            "flowRunIds": [],
            "errorKey": "connection_queue_full",
        }
    ]
    (row,) = log_rows(osmo, subscription)
    assert (row.status, row.error_key) == ("rejected", "connection_queue_full")
    assert "2 waiting" in (row.error_message or "")


async def test_an_event_no_enabled_flow_takes_is_logged_no_flows(
    osmo: Osmo, crm, env: WorkflowEnvironment
) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    await define(osmo, connector_event_flow("deals", event_type="deal.won"))
    await define(
        osmo,
        connector_event_flow(
            "big", filter={"field": "event.payload.size", "operator": "is", "value": "big"}
        ),
    )
    await flow_instance(osmo, connection_id, "deals")  # another event type: not this one's
    await flow_instance(osmo, connection_id, "big")
    subscription = add_subscription(osmo, connection_id, connector_event_key="*")
    environment = ActivityEnvironment(client=env.client)
    result = await environment.run(
        activities_for(osmo).launch_events, subscription, [event("e1", size="small")]
    )
    assert [r["status"] for r in result] == ["no-flows"]
    assert [r.status for r in log_rows(osmo, subscription)] == ["no-flows"]


async def test_subscription_info_and_cursor(osmo: Osmo, crm) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    polled = add_subscription(
        osmo,
        connection_id,
        "data-record-updated",
        collection_key="contacts",
        source="pull-latest-records",
        interval=5,
    )
    activities = activities_for(osmo)
    environment = ActivityEnvironment()
    info = await environment.run(activities.subscription_info, polled)
    assert info["source"] == "pull-latest-records"
    assert info["intervalSeconds"] == osmo.settings.min_poll_seconds  # 5 s raised to the minimum
    assert (await environment.run(activities.subscription_info, "nope"))["exists"] is False
    await environment.run(activities.save_cursor, polled, {"since": "2026-01-01T00:00:00Z"})
    with Session(osmo.services.engine) as session:
        row = session.get(EventSubscription, polled)
        assert row is not None and row.cursor == {"since": "2026-01-01T00:00:00Z"}
    again = await environment.run(activities.subscription_info, polled)
    assert again["cursor"] == {"since": "2026-01-01T00:00:00Z"}


async def test_parse_delivery_reads_the_subscriptions_connector(osmo: Osmo, crm) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    created = add_subscription(
        osmo, connection_id, "data-record-created", collection_key="contacts"
    )
    activities = activities_for(osmo)
    environment = ActivityEnvironment()
    body = {
        "events": [
            {"id": "c1", "type": "contact.created", "objectId": "7"},
            {"id": "c2", "type": "contact.deleted", "objectId": "8"},
        ]
    }
    single = await environment.run(activities.parse_delivery, created, delivery(body))
    assert [(e.id, e.record_id) for e in single] == [("c1", "7")]
    batch = await environment.run(
        activities.parse_deliveries, created, [delivery(body), delivery({"events": []})]
    )
    assert batch == single
    assert await environment.run(activities.parse_deliveries, "gone", [delivery(body)]) == []

"""Event rows of one connection (a subscription and one row of each event log), written
straight to the database: generated route tests need real ids for the event routes."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core.events.messages import spec_hash
from core.events.models import (
    AppEventLog,
    EventSubscription,
    ExternalEventLogRecord,
    ExternalEventPull,
    IncomingWebhook,
)
from core.models import Connection, Integration
from tests.conftest import Osmo


def seed_events(osmo: Osmo, connection_id: str) -> tuple[str, dict[str, str]]:
    """The subscription id, and a log row id per log route (`incoming-webhooks`...)."""
    with Session(osmo.services.engine, expire_on_commit=False) as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        integration = session.get(Integration, connection.integration_id)
        assert integration is not None
        customer_id = connection.customer_id
        subscription = EventSubscription(
            customer_id=customer_id,
            connection_id=connection_id,
            integration_key=integration.key,
            spec_hash=spec_hash("data-record-created", "contacts", {}, None),
            event_type="data-record-created",
            collection_key="contacts",
            source="pull-latest-records",
            state="unsubscribed",
        )
        session.add(subscription)
        session.commit()
        owner: dict[str, Any] = {"customer_id": customer_id, "connection_id": connection_id}
        rows: dict[str, Any] = {
            "incoming-webhooks": IncomingWebhook(
                **owner,
                subscription_id=subscription.id,
                status="delivered",
                method="POST",
                path=f"/webhooks/subscriptions/{subscription.id}",
            ),
            "external-event-log-records": ExternalEventLogRecord(
                **owner,
                subscription_id=subscription.id,
                event_id="e-1",
                event_type="data-record-created",
                status="no-flows",
            ),
            "external-event-pulls": ExternalEventPull(
                **owner, subscription_id=subscription.id, status="completed"
            ),
            "app-events": AppEventLog(customer_id=customer_id, type_key="order-paid"),
        }
        for row in rows.values():
            session.add(row)
        session.commit()
        return subscription.id, {route: row.id for route, row in rows.items()}

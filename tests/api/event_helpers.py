"""Connections and subscriptions for the event route tests, written straight to the database
(GitHub and Stripe connections without an OAuth dance), and signed webhook requests shaped
after the vendors' documented schemes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from core.blobs import with_converter
from core.events.messages import inbox_workflow_id, spec_hash
from core.events.models import EventSubscription
from core.models import Connection, Customer, Integration
from tests.conftest import Osmo

GITHUB_SECRET = "It's a Secret to Everybody"
STRIPE_SECRET = "whsec_test_0123456789"


def use_temporal(osmo: Osmo, client: Client) -> str:
    """Points the API at `client` on a fresh task queue (no worker: signals are only kept)."""
    osmo.services.temporal_client = with_converter(client, osmo.settings)
    osmo.services.settings.task_queue = f"events-{uuid.uuid4()}"
    return osmo.services.settings.task_queue


def integration(osmo: Osmo, key: str, connector_key: str, **parameters: Any) -> str:
    encrypt = osmo.services.encryptor.encrypt
    with Session(osmo.services.engine, expire_on_commit=False) as session:
        row = Integration(
            key=key,
            name=key,
            connector_key=connector_key,
            client_id=f"{key}-client",
            client_secret_encrypted=encrypt(f"{key}-client-secret"),
            auth_options=[],
            parameters=parameters,
        )
        session.add(row)
        session.commit()
        return row.id


def connection(
    osmo: Osmo, integration_id: str, tenant: str, auth: str, credentials: dict[str, Any]
) -> str:
    with Session(osmo.services.engine, expire_on_commit=False) as session:
        customer = session.exec(select(Customer).where(Customer.tenant_key == tenant)).first()
        if customer is None:
            customer = Customer(tenant_key=tenant)
            session.add(customer)
            session.commit()
        row = Connection(
            customer_id=customer.id,
            integration_id=integration_id,
            auth_option_key=auth,
            credentials_encrypted=osmo.services.encryptor.encrypt_json(credentials),
        )
        session.add(row)
        session.commit()
        return row.id


def subscription(
    osmo: Osmo,
    connection_id: str,
    *,
    secret: str | None = None,
    state: str = "subscribed",
    source: str = "webhook",
    event_key: str = "*",
) -> str:
    with Session(osmo.services.engine, expire_on_commit=False) as session:
        conn = session.get(Connection, connection_id)
        assert conn is not None
        integration_row = session.get(Integration, conn.integration_id)
        assert integration_row is not None
        row = EventSubscription(
            customer_id=conn.customer_id,
            connection_id=connection_id,
            integration_key=integration_row.key,
            spec_hash=spec_hash("connector-event", None, {}, f"{event_key}-{uuid.uuid4()}"),
            event_type="connector-event",
            connector_event_key=event_key,
            source=source,
            state=state,
            webhook_secret_encrypted=(
                osmo.services.encryptor.encrypt(secret) if secret is not None else None
            ),
        )
        session.add(row)
        session.commit()
        return row.id


def github_signed(body: bytes, secret: str = GITHUB_SECRET) -> dict[str, str]:
    """GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }


def stripe_signed(
    body: bytes, secret: str = STRIPE_SECRET, at: float | None = None
) -> dict[str, str]:
    """Stripe's `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`."""
    timestamp = str(int(at if at is not None else time.time()))
    signed = timestamp.encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"}


def body_of(value: Any) -> bytes:
    return json.dumps(value).encode()


async def delivered_signals(osmo: Osmo, subscription_id: str) -> list[Any]:
    """The payloads of the `delivery` signals the subscription's inbox received (decoded
    with the API's converter: payloads are encrypted)."""
    client = osmo.services.temporal_client
    assert client is not None
    handle = client.get_workflow_handle(inbox_workflow_id(subscription_id))
    converter = client.data_converter
    found = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            attributes = event.workflow_execution_signaled_event_attributes
            if attributes.signal_name == "delivery":
                [delivery] = await converter.decode(attributes.input.payloads)
                found.append(delivery)
    return found


async def inbox_exists(client: Client, subscription_id: str) -> bool:
    try:
        await client.get_workflow_handle(inbox_workflow_id(subscription_id)).describe()
    except Exception:
        return False
    return True

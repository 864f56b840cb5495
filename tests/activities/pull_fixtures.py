"""What the polling tests share: a connection to the fake deals app and subscription rows."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.events.messages import spec_hash
from core.events.models import EventSubscription, ExternalEventPull
from tests.conftest import Osmo
from tests.fakes.deals import TOKEN


async def deals_connection(osmo: Osmo, url: str, tenant: str = "acme") -> str:
    """The id of `tenant`'s API-token connection to the fake deals app at `url`."""
    created = await osmo.call(
        "POST",
        "/integrations",
        json={"key": "deals", "connectorKey": "fake-deals", "parameters": {"baseUrl": url}},
    )
    assert created.status_code == 201, created.text
    connected = await osmo.call(
        "POST",
        "/connections",
        tenant=tenant,
        json={"integrationKey": "deals", "inputs": {"apiToken": TOKEN}},
    )
    assert connected.status_code == 201, connected.text
    return str(connected.json()["id"])


def subscribe(
    osmo: Osmo, connection_id: str, event_type: str, source: str, collection: str = "deals"
) -> str:
    """A subscription row as the event sync would write it; returns its id."""
    customer_id = osmo.services.connections.load(connection_id).customer_id
    row = EventSubscription(
        customer_id=customer_id,
        connection_id=connection_id,
        integration_key="deals",
        spec_hash=spec_hash(event_type, collection, {}, None),
        event_type=event_type,
        collection_key=collection,
        source=source,
    )
    with Session(osmo.services.engine) as session:
        session.add(row)
        session.commit()
        return row.id


def pulls_of(engine: Engine, subscription_id: str) -> list[ExternalEventPull]:
    """The subscription's `external_event_pulls` rows, oldest first."""
    with Session(engine) as session:
        query = select(ExternalEventPull).where(
            ExternalEventPull.subscription_id == subscription_id
        )
        return sorted(session.exec(query).all(), key=lambda row: row.created_at)

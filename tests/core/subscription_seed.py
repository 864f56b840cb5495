"""Rows the event subscription tests start from: a customer's connection to one connector and
its flow instances (connection-level `flows` elements), written straight to the database."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.connections import forget_connection
from core.crypto import Encryptor
from core.db import create_db_engine, migrate
from core.elements.models import Element, scope_of
from core.events.models import EventSubscription
from core.models import Connection, Customer, Integration
from core.settings import Settings


def database(settings: Settings) -> tuple[Engine, Encryptor]:
    engine = create_db_engine(settings.database_url)
    migrate(engine)
    return engine, Encryptor.from_setting(settings.encryption_keys)


def seed_connection(
    engine: Engine,
    encryptor: Encryptor,
    connector_key: str,
    auth_option_key: str,
    inputs: dict[str, Any],
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    parameters: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    tenant: str = "acme",
) -> str:
    """A connected connection of `tenant` to a new integration of `connector_key`; its id."""
    with Session(engine) as session:
        customer = session.exec(select(Customer).where(Customer.tenant_key == tenant)).first()
        if customer is None:
            customer = Customer(tenant_key=tenant)
            session.add(customer)
            session.flush()
        integration = Integration(
            key=f"{connector_key}-{uuid.uuid4().hex[:8]}",
            name=connector_key,
            connector_key=connector_key,
            client_id=client_id,
            client_secret_encrypted=encryptor.encrypt(client_secret) if client_secret else None,
            auth_options=[auth_option_key],
            parameters=dict(parameters or {}),
        )
        session.add(integration)
        session.flush()
        connection = Connection(
            customer_id=customer.id,
            integration_id=integration.id,
            auth_option_key=auth_option_key,
            inputs_encrypted=encryptor.encrypt_json(inputs),
            credentials_encrypted=encryptor.encrypt_json(credentials or {}),
        )
        session.add(connection)
        session.commit()
        return connection.id


def trigger_flow(
    trigger_type: str, config: dict[str, Any], enabled: bool = True, **extra_nodes: Any
) -> dict[str, Any]:
    """A flow definition whose trigger node is `trigger_type` with `config`."""
    return {
        "name": "Flow",
        "enabled": enabled,
        "nodes": {"trigger": {"type": trigger_type, "config": config}, **extra_nodes},
    }


def put_flow(engine: Engine, connection_id: str, key: str, definition: dict[str, Any]) -> str:
    """Creates or replaces the connection's flow instance `key`; its id."""
    with Session(engine) as session:
        scope = scope_of(None, connection_id, None)
        element = session.exec(
            select(Element).where(
                Element.kind == "flows", Element.key == key, Element.scope == scope
            )
        ).first()
        if element is None:
            connection = session.get(Connection, connection_id)
            assert connection is not None
            element = Element(
                kind="flows",
                key=key,
                scope=scope,
                connection_id=connection_id,
                integration_id=connection.integration_id,
                definition=definition,
            )
        else:
            element.definition = definition
            element.revision += 1
        session.add(element)
        session.commit()
        return element.id


def put_data_source(
    engine: Engine, connection_id: str, key: str, definition: dict[str, Any]
) -> None:
    with Session(engine) as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        session.add(
            Element(
                kind="data-sources",
                key=key,
                scope=scope_of(None, connection_id, None),
                connection_id=connection_id,
                integration_id=connection.integration_id,
                definition=definition,
            )
        )
        session.commit()


def delete_connection(engine: Engine, connection_id: str) -> None:
    """Deletes the connection as the API does (core/connections.py)."""
    with Session(engine) as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        forget_connection(session, connection)


def rows(engine: Engine, connection_id: str) -> list[EventSubscription]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(EventSubscription)
                .where(EventSubscription.connection_id == connection_id)
                .order_by(EventSubscription.created_at)  # type: ignore[arg-type]
            ).all()
        )

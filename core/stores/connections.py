"""Connections and their secrets: every read decrypts, every write encrypts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.crypto import Encryptor
from core.errors import not_found
from core.models import (
    Connection,
    ConnectionLock,
    ConnectionState,
    Customer,
    Integration,
    RequestBudget,
    utcnow,
)


@dataclass
class StoredConnection:
    """A connection with its integration, decrypted: what the connector runtime needs."""

    id: str
    customer_id: str
    tenant_key: str
    integration_id: str
    integration_key: str
    connector_key: str
    auth_option_key: str
    state: str
    client_id: str | None
    client_secret: str | None
    integration_parameters: dict[str, Any]
    scopes: list[str]
    inputs: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)
    credentials_version: int = 0
    token_expires_at: datetime | None = None


@dataclass(frozen=True)
class CredentialsSnapshot:
    credentials: dict[str, Any]
    version: int
    expires_at: datetime | None
    state: str


def _aware(value: datetime | None) -> datetime | None:
    """SQLite drops tz info; every timestamp Osmo writes is UTC."""
    if value is not None and value.tzinfo is None:
        from datetime import UTC

        return value.replace(tzinfo=UTC)
    return value


class ConnectionStore:
    """Reads and writes connection secrets; safe to share across threads."""

    def __init__(self, engine: Engine, encryptor: Encryptor) -> None:
        self.engine = engine
        self.encryptor = encryptor

    def _decrypt(self, value: str | None) -> dict[str, Any]:
        return self.encryptor.decrypt_json(value) if value else {}

    def load(self, connection_id: str) -> StoredConnection:
        with Session(self.engine) as session:
            connection = session.get(Connection, connection_id)
            if connection is None:
                raise not_found("connection", connection_id)
            integration = session.get(Integration, connection.integration_id)
            customer = session.get(Customer, connection.customer_id)
            assert integration is not None and customer is not None
            return StoredConnection(
                id=connection.id,
                customer_id=connection.customer_id,
                tenant_key=customer.tenant_key,
                integration_id=integration.id,
                integration_key=integration.key,
                connector_key=integration.connector_key,
                auth_option_key=connection.auth_option_key,
                state=connection.state,
                client_id=integration.client_id,
                client_secret=(
                    self.encryptor.decrypt(integration.client_secret_encrypted)
                    if integration.client_secret_encrypted
                    else None
                ),
                integration_parameters=dict(integration.parameters),
                scopes=list(integration.scopes),
                inputs=self._decrypt(connection.inputs_encrypted),
                credentials=self._decrypt(connection.credentials_encrypted),
                credentials_version=connection.credentials_version,
                token_expires_at=_aware(connection.token_expires_at),
            )

    def load_credentials(self, connection_id: str) -> CredentialsSnapshot:
        with Session(self.engine) as session:
            connection = session.get(Connection, connection_id)
            if connection is None:
                raise not_found("connection", connection_id)
            return CredentialsSnapshot(
                credentials=self._decrypt(connection.credentials_encrypted),
                version=connection.credentials_version,
                expires_at=_aware(connection.token_expires_at),
                state=connection.state,
            )

    def save_credentials(
        self, connection_id: str, credentials: dict[str, Any], expires_at: datetime | None
    ) -> int:
        """Stores refreshed credentials, marks the connection connected; returns the version."""
        with Session(self.engine) as session:
            connection = session.get(Connection, connection_id)
            if connection is None:
                raise not_found("connection", connection_id)
            connection.credentials_encrypted = self.encryptor.encrypt_json(credentials)
            connection.token_expires_at = expires_at
            connection.credentials_version += 1
            connection.state = ConnectionState.connected
            connection.disconnect_reason = None
            connection.error_message = None
            connection.updated_at = utcnow()
            session.add(connection)
            session.commit()
            return connection.credentials_version

    def mark_state(
        self,
        connection_id: str,
        state: ConnectionState,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(Connection)
                .where(Connection.id == connection_id)  # type: ignore[arg-type]
                .values(
                    state=state,
                    disconnect_reason=reason,
                    error_message=message,
                    updated_at=utcnow(),
                )
            )
            session.commit()

    def try_lock(self, connection_id: str, holder: str, ttl_seconds: float) -> bool:
        """Takes the connection's refresh lease if it is free or expired."""
        now = utcnow()
        with Session(self.engine) as session:
            session.execute(
                delete(ConnectionLock).where(
                    ConnectionLock.connection_id == connection_id,  # type: ignore[arg-type]
                    ConnectionLock.expires_at < now,  # type: ignore[arg-type]
                )
            )
            session.add(
                ConnectionLock(
                    connection_id=connection_id,
                    holder=holder,
                    expires_at=now + timedelta(seconds=ttl_seconds),
                )
            )
            try:
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
                return False

    def take_budget(self, connection_id: str, window: int, limit: int) -> bool:
        """Counts one request in `window` unless `limit` is reached (atomic across processes)."""
        with Session(self.engine) as session:
            for statement in (
                update(RequestBudget)
                .where(
                    RequestBudget.connection_id == connection_id,  # type: ignore[arg-type]
                    RequestBudget.window == window,  # type: ignore[arg-type]
                    RequestBudget.count < limit,  # type: ignore[arg-type]
                )
                .values(count=RequestBudget.count + 1),
                update(RequestBudget)
                .where(
                    RequestBudget.connection_id == connection_id,  # type: ignore[arg-type]
                    RequestBudget.window < window,  # type: ignore[arg-type]
                )
                .values(window=window, count=1),
            ):
                if session.execute(statement).rowcount == 1:  # type: ignore[attr-defined]
                    session.commit()
                    return True
            session.add(RequestBudget(connection_id=connection_id, window=window, count=1))
            try:
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
                return False

    def unlock(self, connection_id: str, holder: str) -> None:
        with Session(self.engine) as session:
            session.execute(
                delete(ConnectionLock).where(
                    ConnectionLock.connection_id == connection_id,  # type: ignore[arg-type]
                    ConnectionLock.holder == holder,  # type: ignore[arg-type]
                )
            )
            session.commit()

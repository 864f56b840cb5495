"""Database tables. Secrets live only in `*_encrypted` columns (see core/crypto.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from core.timestamps import UtcDateTime


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(index: bool = False) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), index=index))


class ConnectionState(StrEnum):
    connected = "connected"
    disconnected = "disconnected"
    error = "error"


class Customer(SQLModel, table=True):
    """A tenant of the product, known by the product's own id (`tenantKey`)."""

    __tablename__ = "customers"

    id: str = Field(default_factory=new_id, primary_key=True)
    tenant_key: str = Field(sa_column_kwargs={"unique": True}, index=True, max_length=255)
    name: str | None = Field(default=None, max_length=255)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Integration(SQLModel, table=True):
    """The workspace's use of one connector, with the product's OAuth app credentials."""

    __tablename__ = "integrations"

    id: str = Field(default_factory=new_id, primary_key=True)
    key: str = Field(sa_column_kwargs={"unique": True}, index=True, max_length=100)
    name: str = Field(max_length=255)
    connector_key: str = Field(max_length=100)
    client_id: str | None = Field(default=None, max_length=1000)
    client_secret_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    auth_options: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Connection(SQLModel, table=True):
    """One customer's authenticated link to one integration."""

    __tablename__ = "connections"

    id: str = Field(default_factory=new_id, primary_key=True)
    customer_id: str = Field(foreign_key="customers.id", index=True)
    integration_id: str = Field(foreign_key="integrations.id", index=True)
    auth_option_key: str = Field(max_length=100)
    name: str | None = Field(default=None, max_length=255)
    state: ConnectionState = Field(default=ConnectionState.connected, max_length=20)
    disconnect_reason: str | None = Field(default=None, max_length=100)
    error_message: str | None = Field(default=None, sa_column=Column(Text))
    credentials_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    inputs_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    token_expires_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    credentials_version: int = Field(default=0)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class OAuthState(SQLModel, table=True):
    """A single-use authorization attempt started by the connect page."""

    __tablename__ = "oauth_states"

    id: str = Field(default_factory=new_id, primary_key=True)
    customer_id: str = Field(foreign_key="customers.id")
    integration_id: str = Field(foreign_key="integrations.id")
    connection_id: str | None = Field(default=None)
    auth_option_key: str = Field(max_length=100)
    redirect_uri: str | None = Field(default=None, sa_column=Column(Text))
    secret_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    # SHA-256 of the connect page's browser cookie: the callback must come from that browser.
    browser_hash: str | None = Field(default=None, max_length=64)
    connect_session_id: str | None = Field(default=None)


class ConnectSession(SQLModel, table=True):
    """A short-lived, single-use link to the connect page, created by the product's backend.

    Only the SHA-256 of the session token is stored: the database cannot hand out a link.
    """

    __tablename__ = "connect_sessions"

    id: str = Field(default_factory=new_id, primary_key=True)
    token_hash: str = Field(sa_column_kwargs={"unique": True}, index=True, max_length=64)
    customer_id: str = Field(foreign_key="customers.id", index=True)
    integration_id: str = Field(foreign_key="integrations.id")
    connection_id: str | None = Field(default=None)
    auth_option_key: str | None = Field(default=None, max_length=100)
    redirect_uri: str | None = Field(default=None, sa_column=Column(Text))
    allow_multiple: bool = Field(default=False)
    browser_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class ConnectionLock(SQLModel, table=True):
    """A lease that makes credential refresh single-flight across processes."""

    __tablename__ = "connection_locks"

    connection_id: str = Field(primary_key=True)
    holder: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class RequestBudget(SQLModel, table=True):
    """Requests made in the current window per connection (proactive rate limiting)."""

    __tablename__ = "request_budgets"

    connection_id: str = Field(primary_key=True)
    window: int = Field(default=0, sa_type=BigInteger)
    count: int = Field(default=0)


class ConnectionRunQueue(SQLModel, table=True):
    """A connection's flow run limit (docs/limits.md): the row every slot change locks first,
    so the changes of one connection happen one after another on every database."""

    __tablename__ = "connection_run_queues"

    connection_id: str = Field(primary_key=True)
    run_limit: int = Field(default=10)
    queue_limit: int = Field(default=10_000)
    waiting: int = Field(default=0)
    """Runs queued (`run_slots` rows in state `waiting`), kept with them."""
    rejected: int = Field(default=0, sa_type=BigInteger)
    """Runs refused because the queue was full, ever."""
    next_seq: int = Field(default=0, sa_type=BigInteger)
    """Bumped by every change: the order of the queue."""
    checked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    """When the slots were last checked for runs that closed without giving theirs back."""


class RunSlot(SQLModel, table=True):
    """A flow run holding one of its connection's slots (`running`) or queued for one
    (`waiting`). Deleted when the run gives it back."""

    __tablename__ = "run_slots"
    __table_args__ = (Index("ix_run_slots_connection_state_seq", "connection_id", "state", "seq"),)

    run_id: str = Field(primary_key=True, max_length=255)
    """The `FlowRun` workflow id."""
    connection_id: str = Field(max_length=64)
    state: str = Field(max_length=16)
    seq: int = Field(sa_type=BigInteger)
    flow: str | None = Field(default=None, max_length=255)
    """The flow instance whose `maxParallelRuns` caps this run (None: no cap)."""
    flow_limit: int | None = Field(default=None)
    since: datetime = _ts()
    """When it was queued, or granted."""


class ApiCallState(StrEnum):
    """Where an external call stands: `pending` while sent (forever, if the process died
    before the answer), `completed` with the app's answer, `failed` with none (network)."""

    pending = "pending"
    completed = "completed"
    failed = "failed"


class ExternalApiLog(SQLModel, table=True):
    """One request Osmo made to an external app (redacted and truncated)."""

    __tablename__ = "external_api_logs"
    __table_args__ = (Index("ix_external_api_logs_created_id", "created_at", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = _ts(index=True)
    customer_id: str | None = Field(default=None, index=True)
    connection_id: str | None = Field(default=None, index=True)
    integration_key: str | None = Field(default=None, max_length=100)
    method: str = Field(max_length=10)
    url: str = Field(sa_column=Column(Text, nullable=False))
    status: int | None = Field(default=None, index=True)
    success: bool = Field(default=False)
    duration_ms: float = Field(default=0.0)
    request_size: int = Field(default=0)
    response_size: int = Field(default=0)
    request_headers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    request_body: str | None = Field(default=None, sa_column=Column(Text))
    response_body: str | None = Field(default=None, sa_column=Column(Text))
    error_key: str | None = Field(default=None, max_length=100)
    error_message: str | None = Field(default=None, sa_column=Column(Text))
    # A string, not a database enum: a new state needs no type migration.
    state: str = Field(
        default=ApiCallState.completed.value,
        max_length=20,
        sa_column_kwargs={"server_default": ApiCallState.completed.value},
    )


class ConnectionAttempt(SQLModel, table=True):
    """One run of the connect page's flow, successful or not."""

    __tablename__ = "connection_attempts"
    id: str = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = _ts(index=True)
    customer_id: str | None = Field(default=None, index=True)
    integration_key: str | None = Field(default=None, max_length=100)
    connection_id: str | None = Field(default=None)
    auth_option_key: str | None = Field(default=None, max_length=100)
    success: bool = Field(default=False)
    error_key: str | None = Field(default=None, max_length=100)
    error_message: str | None = Field(default=None, sa_column=Column(Text))

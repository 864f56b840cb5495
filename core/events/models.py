"""Tables of event subscriptions and of the logs of what came in (docs/events.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import new_id, utcnow
from core.timestamps import UtcDateTime


def _ts(index: bool = False) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), index=index))


def _json(nullable: bool = True) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SubscriptionState(StrEnum):
    subscribed = "subscribed"
    unsubscribed = "unsubscribed"
    error = "error"


class EventSubscription(SQLModel, table=True):
    """One connection's subscription to one kind of event from its app.

    Per connection x data collection (with its parameters) x record event type, or per
    connection x connector event. `spec_hash` identifies what is subscribed to, so enabling a
    second flow instance with the same trigger reuses the subscription, and disabling and
    re-enabling finds the row (and its cursor) again.
    """

    __tablename__ = "event_subscriptions"
    __table_args__ = (
        UniqueConstraint("connection_id", "spec_hash", name="uq_event_subscriptions_spec"),
        Index("ix_event_subscriptions_created_id", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    customer_id: str = Field(index=True)
    connection_id: str = Field(index=True)
    integration_key: str = Field(max_length=100, index=True)
    spec_hash: str = Field(max_length=64)
    # `data-record-created` | `data-record-updated` | `data-record-deleted` | `connector-event`
    event_type: str = Field(max_length=40)
    collection_key: str | None = Field(default=None, max_length=100)
    collection_parameters: dict[str, Any] = _json(nullable=False)
    connector_event_key: str | None = Field(default=None, max_length=100)
    # How events arrive: `webhook` | `pull-latest-records` | `full-scan`.
    source: str = Field(max_length=30)
    pull_interval_seconds: int | None = Field(default=None)
    state: str = Field(default=SubscriptionState.subscribed.value, max_length=20, index=True)
    error_key: str | None = Field(default=None, max_length=100)
    error_message: str | None = Field(default=None, sa_column=Column(Text))
    # Where polling stopped (`pull-latest-records`), or the reference of the last complete
    # snapshot (`full-scan`). Kept when the subscription is unsubscribed: re-enabling a flow
    # resumes from it; only `reset` clears it.
    cursor: Any = _json()
    # The webhook registered with the app: `{id, url, expiresAt, ...}` (no secrets).
    webhook: dict[str, Any] | None = _json()
    # The secret the app signs this subscription's webhooks with (core/crypto.py).
    webhook_secret_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    # Created through `POST /connections/{id}/external-event-subscriptions` (or subscribed
    # by hand): the sync keeps it even when no enabled flow instance needs it, until it is
    # unsubscribed.
    explicit: bool = Field(default=False)


class IncomingWebhook(SQLModel, table=True):
    """One HTTP request received at a webhook URL (headers and body redacted)."""

    __tablename__ = "incoming_webhooks"
    __table_args__ = (Index("ix_incoming_webhooks_created_id", "created_at", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = _ts()
    customer_id: str | None = Field(default=None, index=True)
    connection_id: str | None = Field(default=None, index=True)
    integration_key: str | None = Field(default=None, max_length=100, index=True)
    subscription_id: str | None = Field(default=None, index=True)
    # `delivered` | `rejected` (signature) | `unrouted` | `handshake` | `failed`
    status: str = Field(max_length=20, index=True)
    method: str = Field(max_length=10)
    path: str = Field(sa_column=Column(Text, nullable=False))
    headers: dict[str, Any] = _json(nullable=False)
    body: str | None = Field(default=None, sa_column=Column(Text))
    body_size: int = Field(default=0)
    response_status: int = Field(default=200)
    error_message: str | None = Field(default=None, sa_column=Column(Text))
    # Inboxes the delivery was handed to.
    subscription_ids: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class ExternalEventLogRecord(SQLModel, table=True):
    """One event an inbox took in, and what it did with it."""

    __tablename__ = "external_event_log_records"
    __table_args__ = (
        Index("ix_external_event_log_records_created_id", "created_at", "id"),
        UniqueConstraint("subscription_id", "event_id", name="uq_external_event_log_event"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = _ts()
    customer_id: str = Field(index=True)
    connection_id: str = Field(index=True)
    subscription_id: str = Field(index=True)
    event_id: str = Field(max_length=255)
    event_type: str = Field(max_length=40)
    record_id: str | None = Field(default=None, max_length=255)
    # `launched` | `no-flows` (no enabled instance's filter matched) | `rejected` (queue full)
    # | `failed`
    status: str = Field(max_length=20, index=True)
    launched_flow_run_ids: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    incoming_webhook_id: str | None = Field(default=None)
    pull_id: str | None = Field(default=None)
    payload: str | None = Field(default=None, sa_column=Column(Text))
    error_key: str | None = Field(default=None, max_length=100)
    error_message: str | None = Field(default=None, sa_column=Column(Text))


class ExternalEventPull(SQLModel, table=True):
    """One poll (`pull-latest-records`) or full scan of a subscription."""

    __tablename__ = "external_event_pulls"
    __table_args__ = (Index("ix_external_event_pulls_created_id", "created_at", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = _ts()
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    customer_id: str = Field(index=True)
    connection_id: str = Field(index=True)
    subscription_id: str = Field(index=True)
    full_scan: bool = Field(default=False)
    # `running` | `completed` | `failed`
    status: str = Field(max_length=20, index=True)
    event_count: int = Field(default=0)
    page_count: int = Field(default=0)
    error_key: str | None = Field(default=None, max_length=100)
    error_message: str | None = Field(default=None, sa_column=Column(Text))


class AppEventLog(SQLModel, table=True):
    """One app event the product sent, and the flow runs it launched."""

    __tablename__ = "app_events"
    __table_args__ = (Index("ix_app_events_created_id", "created_at", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = _ts()
    customer_id: str = Field(index=True)
    type_key: str = Field(max_length=100, index=True)
    payload: str | None = Field(default=None, sa_column=Column(Text))
    launched_flow_run_ids: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    resumed_flow_run_ids: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )

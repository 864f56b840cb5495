"""Bodies of the event routes: webhook ingress, subscriptions, event logs and app events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from api.models import ApiModel, PublicModel


class WebhookAccepted(PublicModel):
    """What the ingress did with a webhook request."""

    id: str = Field(description="The incoming webhook log row (`GET /incoming-webhooks/{id}`).")
    status: Literal["delivered", "unrouted"] = Field(
        description="`delivered`: handed durably to the inboxes in `subscriptionIds`; "
        "`unrouted`: no subscription takes it (logged with its redacted body)."
    )
    subscription_ids: list[str] = Field(default_factory=list)


class EventSubscriptionPublic(PublicModel):
    id: str
    created_at: datetime
    updated_at: datetime
    customer_id: str
    connection_id: str
    integration_key: str
    event_type: str = Field(
        description="`data-record-created|updated|deleted` or `connector-event`."
    )
    collection_key: str | None
    collection_parameters: dict[str, Any]
    connector_event_key: str | None
    source: str = Field(
        description="How events arrive: `webhook`, `pull-latest-records`, `full-scan`."
    )
    pull_interval_seconds: int | None
    state: str = Field(description="`subscribed`, `unsubscribed` or `error` (+ errorKey).")
    error_key: str | None
    error_message: str | None
    cursor: Any = Field(
        None,
        description="Where polling stopped, or the reference of the last complete snapshot; "
        "kept across unsubscribe/subscribe, cleared only by `reset`.",
    )
    webhook: dict[str, Any] | None = Field(
        None, description="The webhook registered with the app (`{id, url, expiresAt}`)."
    )
    webhook_url: str | None = Field(
        None,
        description="Where the app delivers this subscription's webhooks (to set up by hand "
        "where the connector cannot register them, or for app-level webhooks the "
        "integration's URL); null for polling.",
    )
    explicit: bool = Field(
        False,
        description="Created through the API: kept even when no enabled flow needs it, until "
        "unsubscribed.",
    )


class EventSubscriptionCreate(ApiModel):
    """`{eventType, collectionKey, collectionParameters}` for record events, or
    `{eventType: "connector-event", connectorEventKey}`."""

    event_type: Literal[
        "data-record-created", "data-record-updated", "data-record-deleted", "connector-event"
    ]
    collection_key: str | None = Field(None, max_length=100)
    collection_parameters: dict[str, Any] = Field(default_factory=dict)
    connector_event_key: str | None = Field(
        None, max_length=100, description="The app's event type, or `*` for every event."
    )


class PullRequest(ApiModel):
    full_scan: bool = Field(False, description="Scan the whole collection (full-scan sources).")


class SubscriptionSignalled(PublicModel):
    id: str
    state: str
    signal: str = Field(description="What the subscription's inbox was sent (`pull`, `stop`).")


class IncomingWebhookPublic(PublicModel):
    id: str
    created_at: datetime
    customer_id: str | None
    connection_id: str | None
    integration_key: str | None
    subscription_id: str | None
    status: str = Field(
        description="`delivered`, `rejected` (signature), `unrouted`, `handshake`, `failed`."
    )
    method: str
    path: str
    headers: dict[str, Any]
    body: str | None = Field(description="Redacted and truncated.")
    body_size: int
    response_status: int
    error_message: str | None
    subscription_ids: list[str]


class ExternalEventLogRecordPublic(PublicModel):
    id: str
    created_at: datetime
    customer_id: str
    connection_id: str
    subscription_id: str
    event_id: str
    event_type: str
    record_id: str | None
    status: str = Field(description="`launched`, `no-flows`, `rejected` (queue full), `failed`.")
    launched_flow_run_ids: list[str]
    incoming_webhook_id: str | None
    pull_id: str | None
    payload: str | None
    error_key: str | None
    error_message: str | None


class ExternalEventPullPublic(PublicModel):
    id: str
    created_at: datetime
    finished_at: datetime | None
    customer_id: str
    connection_id: str
    subscription_id: str
    full_scan: bool
    status: str = Field(description="`running`, `completed`, `failed`.")
    event_count: int
    page_count: int
    error_key: str | None
    error_message: str | None


class AppEventPublic(PublicModel):
    id: str
    created_at: datetime
    customer_id: str
    type_key: str
    payload: str | None
    launched_flow_run_ids: list[str]
    resumed_flow_run_ids: list[str]


class AppEventResult(PublicModel):
    id: str = Field(description="The app event log row (`GET /app-events/{id}`).")
    launched_flow_run_ids: list[str]
    resumed_flow_run_ids: list[str]

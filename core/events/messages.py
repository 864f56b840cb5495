"""What moves between the webhook ingress, event inboxes, pulls and flow runs.

These are the payloads of signals, activities and workflow inputs, so field names and order are
part of recorded workflow histories: change them only by adding fields with defaults.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

RECORD_EVENT_TYPES = ("data-record-created", "data-record-updated", "data-record-deleted")
CONNECTOR_EVENT = "connector-event"

TRIGGER_EVENT_TYPES = {
    "data-record-created-trigger": "data-record-created",
    "data-record-updated-trigger": "data-record-updated",
    "data-record-deleted-trigger": "data-record-deleted",
    "connector-event-trigger": CONNECTOR_EVENT,
}
"""Trigger node types delivered by an event subscription, and the event type each takes."""


def inbox_workflow_id(subscription_id: str) -> str:
    """The `EventInbox` of a subscription (one per subscription, deterministic)."""
    return f"event-inbox-{subscription_id}"


def event_sync_workflow_id(connection_id: str) -> str:
    """The `EventSync` workflow that brings a connection's subscriptions and schedules in line
    with its enabled flow instances."""
    return f"event-sync-{connection_id}"


def schedule_id(flow_instance_id: str) -> str:
    """The Temporal Schedule of a flow instance's `schedule-trigger`."""
    return f"flow-schedule-{flow_instance_id}"


def event_flow_run_id(subscription_id: str, event_id: str, flow_instance_id: str) -> str:
    """The id of the flow run one event starts for one flow instance: deterministic, so a
    retried launch finds the run it started instead of starting a second one."""
    digest = hashlib.sha256(
        f"{subscription_id}\x00{event_id}\x00{flow_instance_id}".encode()
    ).hexdigest()
    return f"flow-run-event-{digest[:40]}"


def spec_hash(
    event_type: str,
    collection_key: str | None,
    parameters: dict[str, Any] | None,
    connector_event_key: str | None,
) -> str:
    """Identifies what a subscription subscribes to, within its connection."""
    canonical = json.dumps(
        [event_type, collection_key, parameters or {}, connector_event_key],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook request as the ingress hands it to an inbox (signal `delivery`).

    The ingress has verified the signature and logged the request (`incoming_webhook_id`);
    the body is what was received, decoded as JSON when it is JSON (else the text).
    """

    incoming_webhook_id: str
    headers: dict[str, str]
    body: Any
    received_at: str
    """ISO 8601, UTC."""
    events: list[Any] | None = None
    """App-level webhooks (`webhooks.scope: app`): the events of the request routed to this
    inbox's connection (the ingress split and routed them); None: all of `body`."""


@dataclass(frozen=True)
class ExternalEvent:
    """One event, whatever delivered it (a webhook, a poll, a full scan)."""

    id: str
    """Unique per subscription: the app's event or delivery id, or for polled changes
    `<recordId>:<updated time>` (created/updated) and `<recordId>:deleted:<scan id>`."""
    type: str
    """`data-record-created|updated|deleted` or `connector-event`."""
    record_id: str | None = None
    record: Any = None
    """The record as the collection reads it (`{id, name, fields, ...}`), when known."""
    payload: Any = None
    """What the app sent for this event (the webhook event), when it sent one."""
    connector_event_key: str | None = None
    incoming_webhook_id: str | None = None
    pull_id: str | None = None


@dataclass(frozen=True)
class LaunchedBy:
    """What started a flow run (kept in `FlowRunInput.launched_by`, shown by the API)."""

    type: str
    """`api` | `external-event` | `app-event` | `schedule`."""
    subscription_id: str | None = None
    event_id: str | None = None
    app_event_id: str | None = None
    schedule_id: str | None = None


@dataclass
class EventInboxInput:
    """Input of `EventInbox`; continue-as-new carries everything it holds."""

    subscription_id: str
    connection_id: str
    seen: list[str] = field(default_factory=list)
    """Event ids taken in, oldest first (the dedup window)."""
    pending: list[Any] = field(default_factory=list)
    """Deliveries and events taken in and not yet fully handled."""
    cursor: Any = None
    """Polling cursor / last snapshot reference (mirrored in the subscription row)."""
    next_pull_at: str | None = None
    """ISO 8601 time of the next poll (polling subscriptions)."""
    stopping: bool = False
    history_limit: int | None = None
    """Continue as new past this many history events (None: the inbox's default)."""
    dedup_window: int | None = None
    """Event ids remembered (None: `OSMO_EVENT_DEDUP_WINDOW`)."""


@dataclass(frozen=True)
class PullInput:
    """Input of the `pull_events` activity (activities/event_pulls.py)."""

    subscription_id: str
    full_scan: bool = False
    cursor: Any = None
    """The inbox's cursor (None: first pull; a first `pull-latest-records` starts from now
    and emits nothing, a first full scan records the snapshot and emits nothing)."""


@dataclass(frozen=True)
class PullOutput:
    events: list[ExternalEvent]
    cursor: Any
    """The cursor to store once `events` are recorded."""
    complete: bool
    """Whether every page was read (a full scan emits deletes only then)."""
    pull_id: str

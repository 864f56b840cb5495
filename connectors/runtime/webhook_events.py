"""Turns one webhook delivery into the events of one subscription (docs/events.md).

events = `delivery.events` (app-level webhooks: the ingress split and routed them), else the
array at the connector's `webhooks.eventsPath`, else the body itself. Event id: the event's
`eventIdPath`, else the delivery's `eventIdHeader`, else the sha256 of the event's canonical
JSON (a redelivered event is then the same event). Event type: `eventTypePath`, else
`eventTypeHeader`.

Record subscriptions keep the events the collection's `events.<created|updated|deleted>`
webhook source picks (its `filter`, conditions over `event`) and locate the record id with its
`recordId`; connector-event subscriptions keep the events of their type (or every event for
`*`). An event that cannot be read is left out and logged, never raised: a delivery that
raised would be retried forever.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from connectors.runtime.mapping import locate
from connectors.spec import ConnectorSpec
from connectors.spec.collections import WebhookEvents
from core.events.messages import CONNECTOR_EVENT, ExternalEvent, WebhookDelivery
from core.formulas import matches_filter

logger = logging.getLogger("osmo.events")

_RECORD_EVENT_SOURCE = {
    "data-record-created": "created",
    "data-record-updated": "updated",
    "data-record-deleted": "deleted",
}


def _header(headers: Mapping[str, str], name: str | None) -> str | None:
    if not name:
        return None
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _split_events(spec: ConnectorSpec, delivery: WebhookDelivery) -> list[Any]:
    """The events of a delivery (private twin of the ingress's split: the ingress hands
    app-level deliveries over already split, in `delivery.events`)."""
    if delivery.events is not None:
        return list(delivery.events)
    path = spec.webhooks.events_path if spec.webhooks else None
    if path:
        found = locate(delivery.body, path)
        if found is None:
            return []
        return list(found) if isinstance(found, list) else [found]
    return [delivery.body]


def content_id(event: Any) -> str:
    """An event's id when the app gives none: the hash of its canonical JSON."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _event_id(
    spec: ConnectorSpec, delivery: WebhookDelivery, event: Any, index: int, count: int
) -> str:
    webhooks = spec.webhooks
    if webhooks is not None and webhooks.event_id_path:
        found = _text(locate(event, webhooks.event_id_path))
        if found:
            return found
    header = _header(delivery.headers, getattr(webhooks, "event_id_header", None))
    if header:
        # One delivery id for a batch of events: each event is one of its parts.
        return header if count == 1 else f"{header}:{index}"
    return content_id(event)


def _event_type(spec: ConnectorSpec, delivery: WebhookDelivery, event: Any) -> str | None:
    webhooks = spec.webhooks
    if webhooks is not None and webhooks.event_type_path:
        found = _text(locate(event, webhooks.event_type_path))
        if found:
            return found
    return _header(delivery.headers, getattr(webhooks, "event_type_header", None))


def delivery_events(
    spec: ConnectorSpec,
    delivery: WebhookDelivery,
    *,
    event_type: str,
    collection_key: str | None = None,
    connector_event_key: str | None = None,
) -> list[ExternalEvent]:
    """The events of `delivery` for a subscription to `event_type` (`data-record-*` over
    `collection_key`, or `connector-event` of `connector_event_key`)."""
    try:
        events = _split_events(spec, delivery)
    except Exception:
        logger.warning("webhook %s: events not found in the body", delivery.incoming_webhook_id)
        return []
    source: WebhookEvents | None = None
    if event_type != CONNECTOR_EVENT:
        collection = spec.collection(collection_key) if collection_key else None
        declared = (
            getattr(collection.events, _RECORD_EVENT_SOURCE.get(event_type, ""), None)
            if collection is not None
            else None
        )
        if not isinstance(declared, WebhookEvents):
            logger.warning(
                "webhook %s: collection %r declares no webhook for %s",
                delivery.incoming_webhook_id,
                collection_key,
                event_type,
            )
            return []
        source = declared
    found: list[ExternalEvent] = []
    for index, event in enumerate(events):
        try:
            parsed = _parse(
                spec, delivery, event, index, len(events), event_type, source, connector_event_key
            )
        except Exception as exc:  # one unreadable event does not cost the others
            logger.warning(
                "webhook %s: event %d left out: %s", delivery.incoming_webhook_id, index, exc
            )
            continue
        if parsed is not None:
            found.append(parsed)
    return found


def _parse(
    spec: ConnectorSpec,
    delivery: WebhookDelivery,
    event: Any,
    index: int,
    count: int,
    event_type: str,
    source: WebhookEvents | None,
    connector_event_key: str | None,
) -> ExternalEvent | None:
    event_id = _event_id(spec, delivery, event, index, count)
    type_name = _event_type(spec, delivery, event)
    if source is None:  # a connector event
        if connector_event_key not in (None, "*") and type_name != connector_event_key:
            return None
        return ExternalEvent(
            id=event_id,
            type=CONNECTOR_EVENT,
            payload=event,
            connector_event_key=type_name,
            incoming_webhook_id=delivery.incoming_webhook_id,
        )
    if source.filter is not None and not matches_filter(source.filter, {"event": event}):
        return None
    record_id = _text(locate(event, source.record_id))
    return ExternalEvent(
        id=event_id,
        type=event_type,
        record_id=record_id,
        payload=event,
        incoming_webhook_id=delivery.incoming_webhook_id,
    )

"""Turns one webhook delivery into the events of one subscription (docs/events.md).

events = `delivery.events` (app-level webhooks: the ingress split and routed them), else
`webhooks.split_events` (the array at `eventsPath`, or the body). Event id and type:
`webhooks.event_id` / `event_type` (`eventIdPath`, else the `eventIdHeader` of a request that
carried one event, else the SHA-256 of the event's canonical JSON; `eventTypePath`, else
`eventTypeHeader`).

Record subscriptions keep the events the collection's `events.<created|updated|deleted>`
webhook source picks (its `filter`, conditions over `event`) and locate the record id with its
`recordId`; connector-event subscriptions keep the events of their type (or every event for
`*`). An event that cannot be read is left out and logged, never raised: a delivery that
raised would be retried forever.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.runtime import webhooks
from connectors.runtime.mapping import locate
from connectors.runtime.webhooks import content_id
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


def _events(spec: ConnectorSpec, delivery: WebhookDelivery) -> list[Any]:
    """The events of a delivery: as the ingress split and routed them (app-level webhooks),
    else `split_events`."""
    if delivery.events is not None:
        return list(delivery.events)
    if spec.webhooks is None:
        return [delivery.body]
    return webhooks.split_events(spec.webhooks, delivery.body)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _event_id(spec: ConnectorSpec, delivery: WebhookDelivery, event: Any, count: int) -> str:
    """`event_id`; the request's id header only names an event when it carried one (several
    events the ingress split out of one request would share it)."""
    if spec.webhooks is None:
        return content_id(event)
    return webhooks.event_id(spec.webhooks, event, delivery.headers if count == 1 else None)


def _event_type(spec: ConnectorSpec, delivery: WebhookDelivery, event: Any) -> str | None:
    if spec.webhooks is None:
        return None
    return webhooks.event_type(spec.webhooks, event, delivery.headers)


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
        events = _events(spec, delivery)
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
                spec, delivery, event, len(events), event_type, source, connector_event_key
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
    count: int,
    subscribed_type: str,
    source: WebhookEvents | None,
    connector_event_key: str | None,
) -> ExternalEvent | None:
    found_id = _event_id(spec, delivery, event, count)
    type_name = _event_type(spec, delivery, event)
    if source is None:  # a connector event
        if connector_event_key not in (None, "*") and type_name != connector_event_key:
            return None
        return ExternalEvent(
            id=found_id,
            type=CONNECTOR_EVENT,
            payload=event,
            connector_event_key=type_name,
            incoming_webhook_id=delivery.incoming_webhook_id,
        )
    if source.filter is not None and not matches_filter(source.filter, {"event": event}):
        return None
    record_id = _text(locate(event, source.record_id))
    return ExternalEvent(
        id=found_id,
        type=subscribed_type,
        record_id=record_id,
        payload=event,
        incoming_webhook_id=delivery.incoming_webhook_id,
    )

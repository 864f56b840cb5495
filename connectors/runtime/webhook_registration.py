"""Registering, refreshing and removing a subscription's webhook with the app.

The requests are the collection's `events.<type>` `subscribe` / `refresh` / `unsubscribe`
mappings (connectors/spec/collections.py `WebhookEvents`), sent through the connector runtime
like any collection method: the connection's credentials and refresh, its HTTP client, the
external API log, rate limits and normalized errors.

Variables of the requests: `parameters` (the subscription's collection parameters) and
`webhook` (`url`, `secret`, and once registered `id`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.runtime.bodies import response_body
from connectors.runtime.components import load_components
from connectors.runtime.context import ConnectionContext
from connectors.runtime.errors import ConnectorError
from connectors.runtime.mapping import locate, render_mapping
from connectors.spec import ConnectorSpec, HttpMapping
from connectors.spec.collections import FullScan, PullLatestRecords, WebhookEvents

if TYPE_CHECKING:
    from connectors.runtime.client import ConnectorRuntime

RECORD_EVENT_NAMES = {
    "data-record-created": "created",
    "data-record-updated": "updated",
    "data-record-deleted": "deleted",
}

EventSourceSpec = WebhookEvents | PullLatestRecords | FullScan


@dataclass(frozen=True)
class Registration:
    """A webhook registered with the app (no secret: that is kept encrypted apart)."""

    id: str | None
    url: str
    expires_at: str | None = None
    """ISO 8601, UTC, when the app expires the registration."""
    secret: str | None = None
    """The signing secret when the app chose it (`secretPath`), else None."""

    def public(self) -> dict[str, Any]:
        """What the subscription row keeps in `webhook`."""
        return {"id": self.id, "url": self.url, "expiresAt": self.expires_at}


def event_source(
    connector: ConnectorSpec, event_type: str, collection_key: str | None
) -> EventSourceSpec | None:
    """How the app delivers `event_type` of the collection (its `events.<type>` entry), or
    for connector events (no collection) a webhook without registration; None when the
    connector declares no source."""
    if collection_key is None:
        return WebhookEvents(type="webhook") if connector.webhooks is not None else None
    collection = connector.collection(collection_key)
    name = RECORD_EVENT_NAMES.get(event_type)
    if collection is None or name is None:
        return None
    source: EventSourceSpec | None = getattr(collection.events, name)
    return source


def _expiry(spec: WebhookEvents, body: Any, now: datetime) -> str | None:
    if spec.expiry_path:
        value = locate(body, spec.expiry_path)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC).isoformat()
        if isinstance(value, str) and value:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
            if parsed is not None:
                return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()
    if spec.expires_in_seconds:
        return (now + timedelta(seconds=spec.expires_in_seconds)).isoformat()
    return None


async def _send(
    runtime: ConnectorRuntime,
    ctx: ConnectionContext,
    mapping: HttpMapping,
    variables: dict[str, Any],
) -> Any:
    request = render_mapping(mapping, variables)
    request = load_components(ctx.connector.components).prepare_request(request, variables)
    response = await runtime.request(ctx, request.method, request.path, **request.kwargs())
    return response_body(response)


async def register(
    runtime: ConnectorRuntime,
    ctx: ConnectionContext,
    spec: WebhookEvents,
    parameters: dict[str, Any],
    url: str,
    secret: str,
) -> Registration:
    """Registers a webhook to `url` with the app (`spec.subscribe`).

    Raises:
        ConnectorError: the app refused or could not be reached (normalized by the runtime).
        ValueError: `spec` has no `subscribe` request.
    """
    if spec.subscribe is None:
        raise ValueError("this event source registers nothing with the app")
    variables = {"parameters": parameters, "webhook": {"url": url, "secret": secret}}
    body = await _send(runtime, ctx, spec.subscribe, variables)
    registered_id = locate(body, spec.id_path)
    returned_secret = locate(body, spec.secret_path) if spec.secret_path else None
    return Registration(
        id=None if registered_id is None else str(registered_id),
        url=url,
        expires_at=_expiry(spec, body, datetime.now(UTC)),
        secret=returned_secret if isinstance(returned_secret, str) and returned_secret else None,
    )


async def refresh(
    runtime: ConnectorRuntime,
    ctx: ConnectionContext,
    spec: WebhookEvents,
    parameters: dict[str, Any],
    webhook: dict[str, Any],
) -> Registration:
    """Extends a registration the app expires (`spec.refresh`); the same registration with
    its new expiry.

    Raises:
        ConnectorError: the app refused (a `not_found`: the registration is gone, register
            again) or could not be reached.
        ValueError: `spec` has no `refresh` request.
    """
    if spec.refresh is None:
        raise ValueError("this event source refreshes nothing with the app")
    variables = {"parameters": parameters, "webhook": dict(webhook)}
    body = await _send(runtime, ctx, spec.refresh, variables)
    return Registration(
        id=webhook.get("id"),
        url=str(webhook.get("url") or ""),
        expires_at=_expiry(spec, body, datetime.now(UTC)),
    )


async def unregister(
    runtime: ConnectorRuntime,
    ctx: ConnectionContext,
    spec: WebhookEvents,
    parameters: dict[str, Any],
    webhook: dict[str, Any],
) -> bool:
    """Removes a registration (`spec.unsubscribe`); True when the app removed it, False
    when it was gone already (a 404) or there is nothing to send.

    Raises:
        ConnectorError: any other refusal, or the app could not be reached.
    """
    if spec.unsubscribe is None or not webhook.get("id"):
        return False
    variables = {"parameters": parameters, "webhook": dict(webhook)}
    try:
        await _send(runtime, ctx, spec.unsubscribe, variables)
    except ConnectorError as exc:
        if exc.key == "not_found" or exc.upstream_status == 410:
            return False
        raise
    return True

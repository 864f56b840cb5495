"""Webhook ingress: where external apps send their webhooks (no bearer token: the app signs).

`POST /webhooks/subscriptions/{subscriptionId}`: a webhook Osmo registered for one
subscription. `POST /webhooks/integrations/{integrationKey}`: an app-level webhook (one URL for
the whole app), split into events and routed to connections by the connector's `routing`.

Each request: body read once (over `OSMO_WEBHOOK_BODY_LIMIT` → 413), the app's handshake
answered, the signature checked (401 `invalid_signature`, nothing delivered), a row in
`incoming_webhooks` (headers and body redacted), then each target inbox gets the delivery
(signal-with-start); the answer is 200 only once Temporal has accepted every one, 503 when
Temporal is unavailable (the app retries).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update
from sqlmodel import Session, col, select
from temporalio.service import RPCError

from api.middleware.body_limit import RequestTooLarge
from api.models.errors import ErrorBody, errors
from api.models.events import WebhookAccepted
from api.services import Services
from connectors.runtime.redaction import Redactor, secret_values
from connectors.runtime.webhooks import (
    HandshakeReply,
    WebhookVerificationError,
    handshake,
    route_event,
    split_events,
    verify_request,
)
from connectors.spec import WebhookSpec
from core.errors import OsmoError
from core.events.messages import WebhookDelivery
from core.events.models import EventSubscription, IncomingWebhook, SubscriptionState
from core.events.subscriptions import webhook_base
from core.models import Connection, Integration
from workflows.event_inbox import deliver

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

WEBHOOK_SOURCE = "webhook"
INGRESS_ERRORS: dict[int | str, dict[str, Any]] = {
    **errors(401, 404, 503),
    413: {"model": ErrorBody, "description": "The body is over `OSMO_WEBHOOK_BODY_LIMIT`."},
}
ROUTING_CACHE_SECONDS = 10.0


# --- Request handling ------------------------------------------------------------------------


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, read once; 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def decoded(body: bytes) -> Any:
    """The body as JSON when it is JSON, else its text."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body.decode(errors="replace")


def public_url(services: Services, request: Request) -> str:
    """The URL the app called, as it saw it (what URL-covering signatures sign)."""
    settings = services.settings
    base = webhook_base(settings.webhook_public_url, settings.public_url)
    query = request.url.query
    return f"{base}{request.url.path}{'?' + query if query else ''}"


@dataclass
class Received:
    """One request as the log keeps it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    content_type: str
    received_at: str

    @classmethod
    async def read(cls, request: Request, limit: int) -> Received:
        return cls(
            method=request.method,
            path=request.url.path,
            headers=dict(request.headers.items()),
            body=await read_body(request, limit),
            content_type=request.headers.get("content-type", ""),
            received_at=datetime.now(UTC).isoformat(),
        )


@dataclass
class LogRow:
    status: str
    response_status: int
    customer_id: str | None = None
    connection_id: str | None = None
    integration_key: str | None = None
    subscription_id: str | None = None
    error_message: str | None = None
    subscription_ids: list[str] = field(default_factory=list)


def log_entry(
    services: Services, received: Received, redactor: Redactor, row: LogRow
) -> IncomingWebhook:
    """The incoming webhook row (headers and body redacted, the body truncated)."""
    return IncomingWebhook(
        customer_id=row.customer_id,
        connection_id=row.connection_id,
        integration_key=row.integration_key,
        subscription_id=row.subscription_id,
        status=row.status,
        method=received.method,
        path=received.path,
        headers=redactor.headers(received.headers.items()),
        body=redactor.body(received.body, received.content_type, services.settings.log_body_limit),
        body_size=len(received.body),
        response_status=row.response_status,
        error_message=row.error_message,
        subscription_ids=row.subscription_ids,
    )


async def write_log(
    services: Services, received: Received, redactor: Redactor, row: LogRow
) -> IncomingWebhook:
    """Writes the row; returns once it is committed, together with the rows of the other
    requests of the moment (group commit, core/batch_writer.py)."""
    entry = log_entry(services, received, redactor, row)
    await services.webhook_logs.add(entry)
    return entry


def mark_failed(services: Services, log_id: str, message: str) -> None:
    with Session(services.engine) as session:
        session.exec(
            update(IncomingWebhook)  # type: ignore[call-overload]
            .where(col(IncomingWebhook.id) == log_id)
            .values(status="failed", response_status=503, error_message=message)
        )
        session.commit()


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as the inbox gets them (workflow history): secret-named ones masked."""
    return Redactor().headers(headers.items())


def handshake_response(reply: HandshakeReply) -> Response:
    return Response(reply.body, status_code=reply.status, headers=reply.headers)


def temporal_down(exc: Exception) -> OsmoError:
    return OsmoError(
        "unavailable",
        "temporal_unavailable",
        "Temporal did not accept the delivery; send it again later",
        {"retryAfter": 5},
        status=503,
    )


async def hand_over(
    services: Services,
    entry: IncomingWebhook,
    deliveries: Iterable[tuple[str, str, WebhookDelivery]],
) -> None:
    """Writes the log row `entry` and, meanwhile, `deliver()`s to every (subscription,
    connection, delivery); returns once both are done, else marks the row `failed` and raises
    503 when Temporal did not accept them all."""
    logged = asyncio.ensure_future(services.webhook_logs.add(entry))
    try:
        client = await services.temporal()
        queue = services.settings.task_queue
        await asyncio.gather(
            *(deliver(client, queue, sid, cid, delivery) for sid, cid, delivery in deliveries)
        )
    except (OsmoError, RPCError, RuntimeError) as exc:
        log.warning("webhook %s: delivery to Temporal failed: %s", entry.id, exc)
        await logged
        await run_in_threadpool(mark_failed, services, entry.id, str(exc))
        raise temporal_down(exc) from exc
    await logged


# --- Per-subscription webhooks ------------------------------------------------------------------


@dataclass
class SubscriptionTarget:
    subscription: EventSubscription | None
    spec: WebhookSpec | None
    context: dict[str, Any]
    redactor: Redactor


def load_subscription(services: Services, subscription_id: str) -> SubscriptionTarget:
    """The subscription, its connector's webhook spec and its signature context."""
    with Session(services.engine, expire_on_commit=False) as session:
        subscription = session.get(EventSubscription, subscription_id)
        session.commit()
    if subscription is None:
        return SubscriptionTarget(None, None, {}, Redactor())
    try:
        stored = services.connections.load(subscription.connection_id)
        context = services.runtime.context_for(stored)
    except OsmoError:  # its connection is gone: nothing takes the delivery
        return SubscriptionTarget(subscription, None, {}, Redactor())
    secret = (
        services.encryptor.decrypt(subscription.webhook_secret_encrypted)
        if subscription.webhook_secret_encrypted
        else None
    )
    template = context.template_context()
    template["integration"] = {**template["integration"], "clientSecret": stored.client_secret}
    template["webhook"] = {**(subscription.webhook or {}), "secret": secret}
    redactor = Redactor(
        secret_values(stored.credentials, stored.inputs, stored.client_secret, secret)
    )
    return SubscriptionTarget(subscription, context.connector.webhooks, template, redactor)


def store_handshake_secret(services: Services, subscription_id: str, secret: str) -> None:
    with Session(services.engine) as session:
        subscription = session.get(EventSubscription, subscription_id)
        if subscription is not None:
            subscription.webhook_secret_encrypted = services.encryptor.encrypt(secret)
            session.add(subscription)
        session.commit()


async def rejected(
    services: Services,
    received: Received,
    redactor: Redactor,
    owner: dict[str, Any],
    exc: WebhookVerificationError,
) -> NoReturn:
    """Logs the request `rejected` and answers 401 `invalid_signature`."""
    row = LogRow("rejected", 401, error_message=str(exc), **owner)
    await write_log(services, received, redactor, row)
    raise OsmoError("auth", "invalid_signature", str(exc), status=401) from exc


async def verified(
    services: Services,
    received: Received,
    spec: WebhookSpec,
    url: str,
    context: dict[str, Any],
    redactor: Redactor,
    owner: dict[str, Any],
) -> None:
    """Checks the request's signature as the connector says; `rejected` when it fails."""
    try:
        verify_request(
            spec,
            method=received.method,
            url=url,
            headers=received.headers,
            body=received.body,
            context=context,
        )
    except WebhookVerificationError as exc:
        await rejected(services, received, redactor, owner, exc)


@router.post(
    "/subscriptions/{subscription_id}",
    response_model=WebhookAccepted,
    responses=INGRESS_ERRORS,
)
async def receive_subscription_webhook(
    subscription_id: str, request: Request
) -> WebhookAccepted | Response:
    """A webhook the app sends for one subscription Osmo registered. 200 once the
    subscription's inbox has it; 401 on a bad signature; 404 for a subscription that is not
    `subscribed`; 503 when Temporal is unavailable (send again)."""
    services: Services = request.app.state.services
    received = await Received.read(request, services.settings.webhook_body_limit)
    target = await run_in_threadpool(load_subscription, services, subscription_id)
    subscription, spec = target.subscription, target.spec
    url = public_url(services, request)
    owner: dict[str, Any] = {}
    if subscription is not None:
        owner = {
            "customer_id": subscription.customer_id,
            "connection_id": subscription.connection_id,
            "integration_key": subscription.integration_key,
            "subscription_id": subscription.id,
        }
    try:
        # A handshake may come while the subscription is being registered (Asana sends it
        # during the registering request, before the sync marks the row `subscribed`): any
        # existing row answers it (a signed one is verified first). Deliveries need a
        # `subscribed` row.
        reply = None
        if subscription is not None and spec is not None:
            reply = handshake(
                spec,
                method=received.method,
                headers=received.headers,
                body=received.body,
                url=url,
                context=target.context,
            )
        if reply is None and (
            subscription is None
            or spec is None
            or subscription.state != SubscriptionState.subscribed.value
        ):
            row = LogRow(
                "unrouted", 404, error_message="no subscribed subscription at this URL", **owner
            )
            await write_log(services, received, target.redactor, row)
            raise OsmoError(
                "not_found",
                "event_subscription_not_found",
                f"No subscribed event subscription {subscription_id!r}",
                status=404,
            )
        assert subscription is not None and spec is not None
        if reply is not None:
            if reply.secret:
                await run_in_threadpool(
                    store_handshake_secret, services, subscription.id, reply.secret
                )
            row = LogRow("handshake", reply.status, **owner)
            await write_log(services, received, target.redactor, row)
            return handshake_response(reply)
    except WebhookVerificationError as exc:  # a signed handshake
        await rejected(services, received, target.redactor, owner, exc)
    await verified(services, received, spec, url, target.context, target.redactor, owner)
    row = LogRow("delivered", 200, subscription_ids=[subscription.id], **owner)
    entry = log_entry(services, received, target.redactor, row)
    delivery = WebhookDelivery(
        incoming_webhook_id=entry.id,
        headers=safe_headers(received.headers),
        body=decoded(received.body),
        received_at=received.received_at,
    )
    await hand_over(services, entry, [(subscription.id, subscription.connection_id, delivery)])
    return WebhookAccepted(id=entry.id, status="delivered", subscription_ids=[subscription.id])


# --- App-level webhooks ------------------------------------------------------------------------


@dataclass
class AppTarget:
    integration: Integration | None
    spec: WebhookSpec | None
    context: dict[str, Any]
    redactor: Redactor


@dataclass
class Routing:
    """An integration's connections as `route_event` takes them, kept briefly."""

    at: float
    connections: list[tuple[str, dict[str, Any]]]
    customers: dict[str, str]  # connection id → customer id


_routing_cache: dict[str, Routing] = {}


def load_integration(services: Services, integration_key: str) -> AppTarget:
    with Session(services.engine, expire_on_commit=False) as session:
        integration = session.exec(
            select(Integration).where(Integration.key == integration_key)
        ).first()
        session.commit()
    if integration is None:
        return AppTarget(None, None, {}, Redactor())
    connector = services.registry.get(integration.connector_key)
    client_secret = (
        services.encryptor.decrypt(integration.client_secret_encrypted)
        if integration.client_secret_encrypted
        else None
    )
    context = {
        "integration": {
            "clientId": integration.client_id,
            "clientSecret": client_secret,
            "parameters": dict(integration.parameters),
        },
        "inputs": {},
        "credentials": {},
        "connection": {"id": None},
    }
    redactor = Redactor(secret_values(client_secret, integration.parameters))
    spec = connector.webhooks if connector is not None else None
    return AppTarget(integration, spec, context, redactor)


def routing_for(services: Services, integration: Integration) -> Routing:
    """The integration's connections with their template contexts, one query and cached for
    `ROUTING_CACHE_SECONDS` (a burst of webhooks does not decrypt them per event)."""
    cached = _routing_cache.get(integration.id)
    now = time.monotonic()
    if cached is not None and now - cached.at < ROUTING_CACHE_SECONDS:
        return cached
    decrypt = services.encryptor.decrypt_json
    with Session(services.engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(Connection).where(Connection.integration_id == integration.id)
        ).all()
        session.commit()
    connections = []
    customers = {}
    for row in rows:
        context = {
            "inputs": decrypt(row.inputs_encrypted) if row.inputs_encrypted else {},
            "credentials": decrypt(row.credentials_encrypted) if row.credentials_encrypted else {},
            "integration": {
                "clientId": integration.client_id,
                "parameters": integration.parameters,
            },
            "connection": {"id": row.id},
        }
        connections.append((row.id, context))
        customers[row.id] = row.customer_id
    routing = Routing(now, connections, customers)
    _routing_cache[integration.id] = routing
    return routing


def webhook_subscriptions(services: Services, connection_ids: list[str]) -> dict[str, list[str]]:
    """The `subscribed` webhook-sourced subscriptions of each connection."""
    if not connection_ids:
        return {}
    with Session(services.engine) as session:
        rows = session.exec(
            select(EventSubscription.id, EventSubscription.connection_id).where(
                col(EventSubscription.connection_id).in_(connection_ids),
                EventSubscription.state == SubscriptionState.subscribed.value,
                EventSubscription.source == WEBHOOK_SOURCE,
            )
        ).all()
        session.commit()
    found: dict[str, list[str]] = {}
    for subscription_id, connection_id in rows:
        found.setdefault(connection_id, []).append(subscription_id)
    return found


def route_all(
    services: Services, integration: Integration, spec: WebhookSpec, events: list[Any]
) -> tuple[dict[str, list[Any]], dict[str, list[str]], dict[str, str]]:
    """Events per connection, subscriptions per connection, customers per connection."""
    routing = routing_for(services, integration)
    per_connection: dict[str, list[Any]] = {}
    if spec.routing is not None:
        for event in events:
            connection_id = route_event(spec.routing, event, routing.connections)
            if connection_id is not None:
                per_connection.setdefault(connection_id, []).append(event)
    elif len(routing.connections) == 1:  # nothing to route by: the only connection
        per_connection[routing.connections[0][0]] = list(events)
    subscriptions = webhook_subscriptions(services, list(per_connection))
    return per_connection, subscriptions, routing.customers


@router.post(
    "/integrations/{integration_key}",
    response_model=WebhookAccepted,
    responses={
        **INGRESS_ERRORS,
        202: {
            "model": WebhookAccepted,
            "description": "No subscription takes these events (logged `unrouted`).",
        },
    },
)
async def receive_integration_webhook(
    integration_key: str, request: Request, response: Response
) -> WebhookAccepted | Response:
    """An app-level webhook: its events are routed to connections by the connector's
    `routing`, and each connection's subscribed webhook subscriptions get that connection's
    events. 200 once every inbox has its delivery; 202 `unrouted` when no subscription takes
    any event (logged with the redacted body)."""
    services: Services = request.app.state.services
    received = await Received.read(request, services.settings.webhook_body_limit)
    target = await run_in_threadpool(load_integration, services, integration_key)
    integration, spec = target.integration, target.spec
    if integration is None or spec is None:
        row = LogRow(
            "unrouted",
            404,
            integration_key=integration.key if integration else None,
            error_message="no integration with webhooks at this URL",
        )
        await write_log(services, received, target.redactor, row)
        raise OsmoError(
            "not_found",
            "webhook_integration_not_found",
            f"No integration {integration_key!r} receiving webhooks",
            status=404,
        )
    url = public_url(services, request)
    owner: dict[str, Any] = {"integration_key": integration.key}
    try:
        reply = handshake(
            spec,
            method=received.method,
            headers=received.headers,
            body=received.body,
            url=url,
            context=target.context,
        )
        if reply is not None:
            row = LogRow("handshake", reply.status, integration_key=integration.key)
            await write_log(services, received, target.redactor, row)
            return handshake_response(reply)
    except WebhookVerificationError as exc:  # a signed handshake
        await rejected(services, received, target.redactor, owner, exc)
    await verified(services, received, spec, url, target.context, target.redactor, owner)
    body = decoded(received.body)
    events = split_events(spec, body)
    per_connection, subscriptions, customers = await run_in_threadpool(
        route_all, services, integration, spec, events
    )
    headers = safe_headers(received.headers)
    targets = [
        (subscription_id, connection_id)
        for connection_id in per_connection
        for subscription_id in subscriptions.get(connection_id, [])
    ]
    if not targets:
        row = LogRow(
            "unrouted",
            202,
            integration_key=integration.key,
            error_message="no subscribed connection takes these events",
        )
        entry = await write_log(services, received, target.redactor, row)
        response.status_code = 202
        return WebhookAccepted(id=entry.id, status="unrouted")
    connection_ids = sorted({connection_id for _, connection_id in targets})
    owners = {customers.get(c) for c in connection_ids}
    row = LogRow(
        "delivered",
        200,
        integration_key=integration.key,
        customer_id=next(iter(owners)) if len(owners) == 1 else None,
        connection_id=connection_ids[0] if len(connection_ids) == 1 else None,
        subscription_id=targets[0][0] if len(targets) == 1 else None,
        subscription_ids=[subscription_id for subscription_id, _ in targets],
    )
    entry = log_entry(services, received, target.redactor, row)
    deliveries = [
        (
            subscription_id,
            connection_id,
            WebhookDelivery(
                incoming_webhook_id=entry.id,
                headers=headers,
                body=body,
                received_at=received.received_at,
                events=per_connection[connection_id],
            ),
        )
        for subscription_id, connection_id in targets
    ]
    await hand_over(services, entry, deliveries)
    return WebhookAccepted(id=entry.id, status="delivered", subscription_ids=row.subscription_ids)

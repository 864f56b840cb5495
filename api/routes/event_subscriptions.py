"""External event subscriptions: what each connection listens to in its app.

The event sync (workflows/event_sync.py) creates and removes subscriptions as flow instances
with event triggers are enabled and disabled. A subscription created here (`explicit`) is kept
even when no flow needs it, until it is unsubscribed.

- `POST …/{id}/subscribe`: subscribe again (the sync registers the webhook / starts the inbox).
- `POST …/{id}/unsubscribe`: the inbox is stopped, the row marked `unsubscribed` (its cursor is
  kept); the sync unregisters the webhook. A flow instance that still needs it subscribes it
  again on the next sync.
- `POST …/{id}/resubscribe`: unsubscribe, then subscribe (registers the webhook anew).
- `POST …/{id}/pull-events`: poll now (`{fullScan: true}`: a full scan).
- `POST …/{id}/reset`: forget the cursor (polling then starts from now; a full scan takes a new
  snapshot without emitting events). Only while `unsubscribed`, so no inbox holds the old one:
  unsubscribe, reset, subscribe.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Caller, CallerDep, ConnectionDep, ServicesDep, SessionDep, get_connection
from api.event_hooks import request_syncs
from api.models.errors import errors
from api.models.events import (
    EventSubscriptionCreate,
    EventSubscriptionPublic,
    PullRequest,
    SubscriptionSignalled,
)
from api.pagination import Page, paginate
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit
from api.services import Services
from connectors.spec import ConnectorSpec
from core.errors import OsmoError, conflict, not_found, validation_error
from core.events.messages import (
    CONNECTOR_EVENT,
    EventInboxInput,
    inbox_workflow_id,
    spec_hash,
)
from core.events.models import EventSubscription, SubscriptionState
from core.events.subscriptions import ingress_url, webhook_base
from core.models import Connection, Integration, utcnow
from workflows.event_inbox import EventInboxWorkflow

router = APIRouter(tags=["event-subscriptions"])

PATH = "/external-event-subscriptions"


def _subscription(session: Session, caller: Caller, subscription_id: str) -> EventSubscription:
    row = session.get(EventSubscription, subscription_id)
    session.commit()
    if row is None or not caller.can_see(row.customer_id):
        raise not_found("event_subscription", subscription_id)
    return row


def _webhook_scope(services: Services, session: Session, integration_key: str) -> str | None:
    """`connection` or `app` (the connector's webhooks), None if it declares none."""
    statement = select(Integration).where(Integration.key == integration_key)
    integration = session.exec(statement).first()
    spec = services.registry.get(integration.connector_key) if integration else None
    return spec.webhooks.scope if spec is not None and spec.webhooks is not None else None


def _public(
    services: Services,
    session: Session,
    row: EventSubscription,
    scopes: dict[str, str | None] | None = None,
) -> EventSubscriptionPublic:
    public = EventSubscriptionPublic.model_validate(row)
    if row.source == "webhook":
        scopes = {} if scopes is None else scopes
        if row.integration_key not in scopes:
            scopes[row.integration_key] = _webhook_scope(services, session, row.integration_key)
        settings = services.settings
        base = webhook_base(settings.webhook_public_url, settings.public_url)
        public.webhook_url = ingress_url(base, row, scopes[row.integration_key])
    return public


@router.get(PATH, response_model=Page[EventSubscriptionPublic], responses=errors(400))
def list_event_subscriptions(
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    connection_id: Annotated[Key | None, Query(alias="connectionId")] = None,
    integration_key: Annotated[Key | None, Query(alias="integrationKey")] = None,
    state: SubscriptionState | None = None,
    event_type: Annotated[Key | None, Query(alias="eventType")] = None,
    collection_key: Annotated[Key | None, Query(alias="collectionKey")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[EventSubscriptionPublic]:
    """Oldest first. A customer sees only the subscriptions of their connections."""
    statement = select(EventSubscription)
    if not caller.is_admin:
        statement = statement.where(EventSubscription.customer_id == caller.customer_id)
    for column, value in (
        (EventSubscription.connection_id, connection_id),
        (EventSubscription.integration_key, integration_key),
        (EventSubscription.state, state.value if state else None),
        (EventSubscription.event_type, event_type),
        (EventSubscription.collection_key, collection_key),
    ):
        if value is not None:
            statement = statement.where(col(column) == value)
    rows, next_cursor = paginate(session, statement, EventSubscription, cursor=cursor, limit=limit)
    scopes: dict[str, str | None] = {}
    items = [_public(services, session, r, scopes) for r in rows]
    return Page(items=items, cursor=next_cursor)


@router.get(
    f"{PATH}/{{subscription_id}}", response_model=EventSubscriptionPublic, responses=errors(404)
)
def read_event_subscription(
    caller: CallerDep, services: ServicesDep, session: SessionDep, subscription_id: str
) -> EventSubscriptionPublic:
    return _public(services, session, _subscription(session, caller, subscription_id))


def _source(connector: ConnectorSpec, body: EventSubscriptionCreate) -> tuple[str, int | None]:
    """How the subscription's events arrive, checked against the connector (422 with paths)."""
    if body.event_type == CONNECTOR_EVENT:
        problems = []
        if not body.connector_event_key:
            problems.append(
                {"path": "body.connectorEventKey", "message": "required for connector-event"}
            )
        if connector.webhooks is None:
            problems.append(
                {"path": "body.eventType", "message": f"{connector.key} declares no webhooks"}
            )
        if problems:
            raise validation_error(problems)
        return "webhook", None
    if not body.collection_key:
        raise validation_error(
            [{"path": "body.collectionKey", "message": f"required for {body.event_type}"}]
        )
    collection = connector.collection(body.collection_key)
    if collection is None:
        raise validation_error(
            [
                {
                    "path": "body.collectionKey",
                    "message": f"{connector.key} has no collection {body.collection_key!r}",
                }
            ]
        )
    name = body.event_type.removeprefix("data-record-")
    source = getattr(collection.events, name)
    if source is None:
        raise validation_error(
            [
                {
                    "path": "body.eventType",
                    "message": f"collection {collection.key!r} declares no {name} events",
                }
            ]
        )
    return source.type, getattr(source, "interval_seconds", None)


def _create(
    services: Services, session: Session, connection: Connection, body: EventSubscriptionCreate
) -> EventSubscription:
    integration = session.get(Integration, connection.integration_id)
    assert integration is not None
    connector = services.registry.get(integration.connector_key)
    if connector is None:
        raise OsmoError("bad_request", "connector_not_found", integration.connector_key)
    source, interval = _source(connector, body)
    is_record = body.event_type != CONNECTOR_EVENT
    collection_key = body.collection_key if is_record else None
    parameters = body.collection_parameters if is_record else {}
    event_key = None if is_record else body.connector_event_key
    digest = spec_hash(body.event_type, collection_key, parameters, event_key)
    row = session.exec(
        select(EventSubscription).where(
            EventSubscription.connection_id == connection.id,
            EventSubscription.spec_hash == digest,
        )
    ).first()
    if row is None:
        row = EventSubscription(
            customer_id=connection.customer_id,
            connection_id=connection.id,
            integration_key=integration.key,
            spec_hash=digest,
            event_type=body.event_type,
            collection_key=collection_key,
            collection_parameters=parameters,
            connector_event_key=event_key,
            source=source,
            pull_interval_seconds=interval,
        )
    row.explicit = True
    row.state = SubscriptionState.subscribed.value
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return row


@router.post(
    f"/connections/{{connection_id}}{PATH}",
    status_code=201,
    response_model=EventSubscriptionPublic,
    responses=errors(400, 404),
)
async def create_event_subscription(
    body: EventSubscriptionCreate,
    services: ServicesDep,
    session: SessionDep,
    connection: ConnectionDep,
) -> EventSubscriptionPublic:
    """Subscribes the connection to `{eventType, collectionKey, collectionParameters}` (record
    events) or `{eventType: "connector-event", connectorEventKey}`; an existing subscription to
    the same thing is returned (and subscribed again). Kept until unsubscribed, whatever the
    flows need. The event sync registers the webhook / starts the polling."""
    row = await run_in_threadpool(_create, services, session, connection, body)
    await request_syncs(services, [row.connection_id])
    return await run_in_threadpool(_public, services, session, row)


def _set_state(
    session: Session, caller: Caller, subscription_id: str, state: str, explicit: bool | None
) -> EventSubscription:
    row = session.get(EventSubscription, subscription_id)
    if row is None or not caller.can_see(row.customer_id):
        session.commit()
        raise not_found("event_subscription", subscription_id)
    get_connection(session, caller, row.connection_id)  # a deleted connection: 404
    row = session.get(EventSubscription, subscription_id)
    assert row is not None
    row.state = state
    if state == SubscriptionState.subscribed.value:
        row.error_key = row.error_message = None
    if explicit is not None:
        row.explicit = explicit
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return row


async def _stop_inbox(client: Client, subscription_id: str) -> None:
    """Signals `stop` to the subscription's inbox, if one is running."""
    try:
        await client.get_workflow_handle(inbox_workflow_id(subscription_id)).signal("stop")
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:  # no inbox running: nothing to stop
            raise


def _temporal_down(exc: Exception) -> OsmoError:
    return OsmoError(
        "unavailable", "temporal_unavailable", f"Temporal is not reachable: {exc}", status=503
    )


@router.post(
    f"{PATH}/{{subscription_id}}/subscribe",
    response_model=EventSubscriptionPublic,
    responses=errors(404),
)
async def subscribe(
    caller: CallerDep, services: ServicesDep, session: SessionDep, subscription_id: str
) -> EventSubscriptionPublic:
    """Marks the subscription `subscribed` (and explicit) and asks the event sync to register
    its webhook / start its inbox."""
    row = await run_in_threadpool(
        _set_state, session, caller, subscription_id, SubscriptionState.subscribed.value, True
    )
    await request_syncs(services, [row.connection_id])
    return await run_in_threadpool(_public, services, session, row)


async def _unsubscribe(
    caller: Caller, services: Services, session: Session, subscription_id: str
) -> EventSubscription:
    await run_in_threadpool(_subscription, session, caller, subscription_id)  # 404 first
    try:
        await _stop_inbox(await services.temporal(), subscription_id)
    except RPCError as exc:
        raise _temporal_down(exc) from exc
    return await run_in_threadpool(
        _set_state, session, caller, subscription_id, SubscriptionState.unsubscribed.value, False
    )


@router.post(
    f"{PATH}/{{subscription_id}}/unsubscribe",
    response_model=EventSubscriptionPublic,
    responses=errors(404, 503),
)
async def unsubscribe(
    caller: CallerDep, services: ServicesDep, session: SessionDep, subscription_id: str
) -> EventSubscriptionPublic:
    """Stops the inbox and marks the subscription `unsubscribed` (the cursor is kept); the
    event sync unregisters the webhook. A flow that still needs it subscribes it again."""
    row = await _unsubscribe(caller, services, session, subscription_id)
    await request_syncs(services, [row.connection_id])
    return await run_in_threadpool(_public, services, session, row)


@router.post(
    f"{PATH}/{{subscription_id}}/resubscribe",
    response_model=EventSubscriptionPublic,
    responses=errors(404, 503),
)
async def resubscribe(
    caller: CallerDep, services: ServicesDep, session: SessionDep, subscription_id: str
) -> EventSubscriptionPublic:
    """Unsubscribe, then subscribe: the inbox stops, and the event sync registers anew."""
    await _unsubscribe(caller, services, session, subscription_id)
    row = await run_in_threadpool(
        _set_state, session, caller, subscription_id, SubscriptionState.subscribed.value, True
    )
    await request_syncs(services, [row.connection_id])
    return await run_in_threadpool(_public, services, session, row)


@router.post(
    f"{PATH}/{{subscription_id}}/pull-events",
    response_model=SubscriptionSignalled,
    responses=errors(404, 409, 503),
)
async def pull_events(
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    subscription_id: str,
    body: PullRequest | None = Body(None),
) -> SubscriptionSignalled:
    """Polls now (`{fullScan: true}`: scans the whole collection): the `pull` signal to the
    subscription's inbox, started if it is not running."""
    row = await run_in_threadpool(_subscription, session, caller, subscription_id)
    if row.state != SubscriptionState.subscribed.value:
        raise conflict(
            "subscription_not_subscribed",
            f"Subscription {subscription_id!r} is {row.state}; subscribe it first",
            state=row.state,
        )
    request: dict[str, Any] = {"fullScan": bool(body and body.full_scan)}
    try:
        client = await services.temporal()
        await client.start_workflow(
            EventInboxWorkflow.run,
            EventInboxInput(
                subscription_id=row.id, connection_id=row.connection_id, cursor=row.cursor
            ),
            id=inbox_workflow_id(row.id),
            task_queue=services.settings.task_queue,
            start_signal="pull",
            start_signal_args=[request],
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Events of subscription {row.id}",
        )
    except RPCError as exc:
        raise _temporal_down(exc) from exc
    return SubscriptionSignalled(id=row.id, state=row.state, signal="pull")


def _reset(session: Session, caller: Caller, subscription_id: str) -> EventSubscription:
    row = session.get(EventSubscription, subscription_id)
    if row is None or not caller.can_see(row.customer_id):
        session.commit()
        raise not_found("event_subscription", subscription_id)
    if row.state == SubscriptionState.subscribed.value:
        session.commit()
        raise conflict(
            "subscription_subscribed",
            "Unsubscribe first: the running inbox holds the cursor (unsubscribe, reset, subscribe)",
            state=row.state,
        )
    row.cursor = None
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return row


@router.post(
    f"{PATH}/{{subscription_id}}/reset",
    response_model=EventSubscriptionPublic,
    responses=errors(404, 409),
)
def reset_subscription_cursor(
    caller: CallerDep, services: ServicesDep, session: SessionDep, subscription_id: str
) -> EventSubscriptionPublic:
    """Forgets the cursor, so the next subscribe polls from now (or takes a new snapshot
    without emitting events). Only while unsubscribed (409 otherwise)."""
    return _public(services, session, _reset(session, caller, subscription_id))

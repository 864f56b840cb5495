"""Logs of what came in: incoming webhooks, external events, pulls, app events.

Newest first, cursor pagination like `GET /external-api-logs`; a customer sees only their own
rows (an incoming webhook not routed to a customer is visible to admins only).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import Session, SQLModel, col, select

from api.deps import Caller, CallerDep, SessionDep
from api.models.errors import errors
from api.models.events import (
    AppEventPublic,
    ExternalEventLogRecordPublic,
    ExternalEventPullPublic,
    IncomingWebhookPublic,
)
from api.pagination import Page, paginate
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit, UtcDatetime
from core.errors import not_found
from core.events.models import (
    AppEventLog,
    ExternalEventLogRecord,
    ExternalEventPull,
    IncomingWebhook,
)

router = APIRouter(tags=["logs"])

ConnectionFilter = Annotated[Key | None, Query(alias="connectionId")]
SubscriptionFilter = Annotated[Key | None, Query(alias="subscriptionId")]
CustomerFilter = Annotated[Key | None, Query(alias="customerId")]
StatusFilter = Annotated[Key | None, Query(description="Exact status.")]


def _listed(
    session: Session,
    caller: Caller,
    model: type[SQLModel],
    filters: dict[str, Any],
    since: Any,
    until: Any,
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    statement = select(model)
    owner = col(model.customer_id)  # type: ignore[attr-defined]
    if not caller.is_admin:
        statement = statement.where(owner == caller.customer_id)
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(col(getattr(model, name)) == value)
    created = col(model.created_at)  # type: ignore[attr-defined]
    if since:
        statement = statement.where(created >= since)
    if until:
        statement = statement.where(created < until)
    return paginate(session, statement, model, cursor=cursor, limit=limit, newest_first=True)


def _one(session: Session, caller: Caller, model: type[SQLModel], what: str, row_id: str) -> Any:
    row = session.get(model, row_id)
    session.commit()
    if row is None or not caller.can_see(row.customer_id):  # type: ignore[attr-defined]
        raise not_found(what, row_id)
    return row


@router.get("/incoming-webhooks", response_model=Page[IncomingWebhookPublic], responses=errors(400))
def list_incoming_webhooks(
    caller: CallerDep,
    session: SessionDep,
    connection_id: ConnectionFilter = None,
    subscription_id: SubscriptionFilter = None,
    customer_id: CustomerFilter = None,
    integration_key: Annotated[Key | None, Query(alias="integrationKey")] = None,
    status: StatusFilter = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[IncomingWebhookPublic]:
    """Every request received at a webhook URL: `delivered`, `rejected` (signature),
    `unrouted`, `handshake`, `failed` (Temporal did not take it; the app was told 503)."""
    filters = {
        "connection_id": connection_id,
        "subscription_id": subscription_id,
        "customer_id": customer_id if caller.is_admin else None,
        "integration_key": integration_key,
        "status": status,
    }
    rows, next_cursor = _listed(
        session, caller, IncomingWebhook, filters, since, until, cursor, limit
    )
    return Page(items=[IncomingWebhookPublic.model_validate(r) for r in rows], cursor=next_cursor)


@router.get(
    "/incoming-webhooks/{log_id}", response_model=IncomingWebhookPublic, responses=errors(404)
)
def read_incoming_webhook(caller: CallerDep, session: SessionDep, log_id: str) -> Any:
    return _one(session, caller, IncomingWebhook, "incoming_webhook", log_id)


@router.get(
    "/external-event-log-records",
    response_model=Page[ExternalEventLogRecordPublic],
    responses=errors(400),
)
def list_external_event_log_records(
    caller: CallerDep,
    session: SessionDep,
    connection_id: ConnectionFilter = None,
    subscription_id: SubscriptionFilter = None,
    customer_id: CustomerFilter = None,
    event_id: Annotated[str | None, Query(alias="eventId", max_length=255)] = None,
    status: StatusFilter = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ExternalEventLogRecordPublic]:
    """Every event an inbox took in: `launched` (with the flow run ids), `no-flows`,
    `rejected` (the connection's queue was full), `failed`."""
    filters = {
        "connection_id": connection_id,
        "subscription_id": subscription_id,
        "customer_id": customer_id if caller.is_admin else None,
        "event_id": event_id,
        "status": status,
    }
    rows, next_cursor = _listed(
        session, caller, ExternalEventLogRecord, filters, since, until, cursor, limit
    )
    return Page(
        items=[ExternalEventLogRecordPublic.model_validate(r) for r in rows], cursor=next_cursor
    )


@router.get(
    "/external-event-log-records/{log_id}",
    response_model=ExternalEventLogRecordPublic,
    responses=errors(404),
)
def read_external_event_log_record(caller: CallerDep, session: SessionDep, log_id: str) -> Any:
    return _one(session, caller, ExternalEventLogRecord, "external_event_log_record", log_id)


@router.get(
    "/external-event-pulls", response_model=Page[ExternalEventPullPublic], responses=errors(400)
)
def list_external_event_pulls(
    caller: CallerDep,
    session: SessionDep,
    connection_id: ConnectionFilter = None,
    subscription_id: SubscriptionFilter = None,
    customer_id: CustomerFilter = None,
    status: StatusFilter = None,
    full_scan: Annotated[bool | None, Query(alias="fullScan")] = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ExternalEventPullPublic]:
    """Every poll and full scan: start, end, status, how many events it found."""
    filters = {
        "connection_id": connection_id,
        "subscription_id": subscription_id,
        "customer_id": customer_id if caller.is_admin else None,
        "status": status,
        "full_scan": full_scan,
    }
    rows, next_cursor = _listed(
        session, caller, ExternalEventPull, filters, since, until, cursor, limit
    )
    return Page(items=[ExternalEventPullPublic.model_validate(r) for r in rows], cursor=next_cursor)


@router.get(
    "/external-event-pulls/{log_id}", response_model=ExternalEventPullPublic, responses=errors(404)
)
def read_external_event_pull(caller: CallerDep, session: SessionDep, log_id: str) -> Any:
    return _one(session, caller, ExternalEventPull, "external_event_pull", log_id)


@router.get("/app-events", response_model=Page[AppEventPublic], responses=errors(400))
def list_app_events(
    caller: CallerDep,
    session: SessionDep,
    customer_id: CustomerFilter = None,
    type_key: Annotated[Key | None, Query(alias="typeKey")] = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[AppEventPublic]:
    """Every app event the product sent, with the flow runs it launched and resumed."""
    filters = {"customer_id": customer_id if caller.is_admin else None, "type_key": type_key}
    rows, next_cursor = _listed(session, caller, AppEventLog, filters, since, until, cursor, limit)
    return Page(items=[AppEventPublic.model_validate(r) for r in rows], cursor=next_cursor)


@router.get("/app-events/{log_id}", response_model=AppEventPublic, responses=errors(404))
def read_app_event(caller: CallerDep, session: SessionDep, log_id: str) -> Any:
    return _one(session, caller, AppEventLog, "app_event", log_id)

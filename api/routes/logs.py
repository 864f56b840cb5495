"""Logs of what crossed the boundary: external API requests and connection attempts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import select

from api.deps import CallerDep, SessionDep
from api.models.errors import errors
from api.models.logs import ConnectionAttemptPublic, ExternalApiLogPublic
from api.pagination import Page, paginate
from api.params import DEFAULT_LIMIT, Cursor, HttpStatus, Key, Limit, UtcDatetime
from core.errors import not_found
from core.models import ApiCallState, ConnectionAttempt, ExternalApiLog

router = APIRouter(tags=["logs"])


@router.get("/external-api-logs", response_model=Page[ExternalApiLogPublic], responses=errors(400))
def list_external_api_logs(
    caller: CallerDep,
    session: SessionDep,
    connection_id: Annotated[Key | None, Query(alias="connectionId")] = None,
    customer_id: Annotated[Key | None, Query(alias="customerId")] = None,
    status: HttpStatus | None = None,
    success: bool | None = None,
    state: ApiCallState | None = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ExternalApiLogPublic]:
    """Newest first. A customer sees only their own logs."""
    statement = select(ExternalApiLog)
    if not caller.is_admin:
        statement = statement.where(ExternalApiLog.customer_id == caller.customer_id)
    elif customer_id:
        statement = statement.where(ExternalApiLog.customer_id == customer_id)
    if connection_id:
        statement = statement.where(ExternalApiLog.connection_id == connection_id)
    if status is not None:
        statement = statement.where(ExternalApiLog.status == status)
    if success is not None:
        statement = statement.where(ExternalApiLog.success == success)
    if state is not None:
        statement = statement.where(ExternalApiLog.state == state.value)
    if since:
        statement = statement.where(ExternalApiLog.created_at >= since)  # type: ignore[operator]
    if until:
        statement = statement.where(ExternalApiLog.created_at < until)  # type: ignore[operator]
    rows, next_cursor = paginate(
        session, statement, ExternalApiLog, cursor=cursor, limit=limit, newest_first=True
    )
    return Page(items=[ExternalApiLogPublic.model_validate(r) for r in rows], cursor=next_cursor)


@router.get(
    "/external-api-logs/{log_id}", response_model=ExternalApiLogPublic, responses=errors(404)
)
def read_external_api_log(caller: CallerDep, session: SessionDep, log_id: str) -> ExternalApiLog:
    log = session.get(ExternalApiLog, log_id)
    if log is None or not caller.can_see(log.customer_id):
        raise not_found("external_api_log", log_id)
    return log


@router.get(
    "/connection-attempts", response_model=Page[ConnectionAttemptPublic], responses=errors(400)
)
def list_connection_attempts(
    caller: CallerDep,
    session: SessionDep,
    integration_key: Annotated[Key | None, Query(alias="integrationKey")] = None,
    success: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ConnectionAttemptPublic]:
    """Newest first: every run of the connect flow, with the provider's error when it failed."""
    statement = select(ConnectionAttempt)
    if not caller.is_admin:
        statement = statement.where(ConnectionAttempt.customer_id == caller.customer_id)
    if integration_key:
        statement = statement.where(ConnectionAttempt.integration_key == integration_key)
    if success is not None:
        statement = statement.where(ConnectionAttempt.success == success)
    rows, next_cursor = paginate(
        session, statement, ConnectionAttempt, cursor=cursor, limit=limit, newest_first=True
    )
    return Page(items=[ConnectionAttemptPublic.model_validate(r) for r in rows], cursor=next_cursor)

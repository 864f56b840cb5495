"""Connections: a customer's authenticated links to integrations."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, select

from api.connecting import establish, input_problems, new_context, resolve
from api.deps import (
    Caller,
    CallerDep,
    ConnectionContextDep,
    ConnectionDep,
    ServicesDep,
    SessionDep,
    connection_context,
    get_integration,
)
from api.event_hooks import request_syncs
from api.models.connections import (
    ConnectionCreate,
    ConnectionPublic,
    ConnectionTestResult,
    ConnectionUpdate,
)
from api.models.errors import errors
from api.pagination import Page, paginate
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit
from api.services import Services
from connectors.runtime import ConnectionContext, ConnectorError
from core.connections import forget_connection
from core.errors import OsmoError, validation_error
from core.models import Connection, ConnectionState, Customer, Integration, utcnow

router = APIRouter(prefix="/connections", tags=["connections"])


def to_public(
    services: Services, session: Session, connection: Connection, secrets: bool = False
) -> ConnectionPublic:
    integration = session.get(Integration, connection.integration_id)
    assert integration is not None
    public = ConnectionPublic.model_validate(
        {**connection.model_dump(), "integration_key": integration.key}
    )
    if secrets:
        decrypt = services.encryptor.decrypt_json
        public.inputs = decrypt(connection.inputs_encrypted) if connection.inputs_encrypted else {}
        public.credentials = (
            decrypt(connection.credentials_encrypted) if connection.credentials_encrypted else {}
        )
    return public


@router.get("", response_model=Page[ConnectionPublic], responses=errors(404))
def list_connections(
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    integration_key: Annotated[Key | None, Query(alias="integrationKey")] = None,
    customer_id: Annotated[Key | None, Query(alias="customerId")] = None,
    state: ConnectionState | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ConnectionPublic]:
    statement = select(Connection)
    if not caller.is_admin:
        statement = statement.where(Connection.customer_id == caller.customer_id)
    elif customer_id:
        statement = statement.where(Connection.customer_id == customer_id)
    if integration_key:
        integration = get_integration(session, integration_key)
        statement = statement.where(Connection.integration_id == integration.id)
    if state:
        statement = statement.where(Connection.state == state)
    rows, next_cursor = paginate(session, statement, Connection, cursor=cursor, limit=limit)
    return Page(items=[to_public(services, session, r) for r in rows], cursor=next_cursor)


def _new_context(
    services: Services, session: Session, caller: Caller, body: ConnectionCreate
) -> tuple[ConnectionContext, Integration]:
    """The context of the connection `body` asks for, checked before anything is stored."""
    customer_id = caller.customer_id
    admin_fields = body.customer_id is not None or body.credentials is not None
    if admin_fields and not caller.is_admin:
        raise OsmoError("auth", "forbidden", "customerId and credentials need an admin", status=403)
    if body.customer_id is not None:
        customer = session.get(Customer, body.customer_id)
        if customer is None:
            raise validation_error([{"path": "customerId", "message": "unknown customer"}])
        customer_id = customer.id
    if customer_id is None:
        raise validation_error([{"path": "customerId", "message": "admins must name a customer"}])
    integration = get_integration(session, body.integration_key)
    connector, option = resolve(services, integration, body.auth_option_key)
    problems = input_problems(option, body.inputs)
    if problems:
        raise validation_error(problems)
    if option.type in ("oauth2", "oauth1") and body.credentials is None:
        raise OsmoError(
            "bad_request",
            "use_connect_page",
            f"{option.type} connections are made through GET /connect",
            {"path": "authOptionKey"},
        )
    ctx = new_context(
        services, integration, connector, option, customer_id, body.inputs, body.credentials
    )
    return ctx, integration


@router.post("", response_model=ConnectionPublic, status_code=201, responses=errors(400, 502))
async def create_connection(
    caller: CallerDep, services: ServicesDep, session: SessionDep, body: ConnectionCreate
) -> ConnectionPublic:
    """Creates a connection from inputs (API keys, custom fields) or imported credentials.

    The connector's test request must pass; otherwise nothing is stored.
    """
    ctx, integration = await run_in_threadpool(_new_context, services, session, caller, body)
    connection = await establish(services, session, ctx, integration, name=body.name)
    return await run_in_threadpool(to_public, services, session, connection)


@router.get("/{connection_id}", response_model=ConnectionPublic, responses=errors(404))
def read_connection(
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    connection: ConnectionDep,
    include_secrets: bool = Query(False, alias="includeSecrets"),
) -> ConnectionPublic:
    if include_secrets and not caller.is_admin:
        raise OsmoError("auth", "forbidden", "includeSecrets needs an admin token", status=403)
    return to_public(services, session, connection, secrets=include_secrets)


@router.patch("/{connection_id}", response_model=ConnectionPublic, responses=errors(404))
def update_connection(
    services: ServicesDep, session: SessionDep, connection: ConnectionDep, body: ConnectionUpdate
) -> ConnectionPublic:
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(connection, field, value)
    connection.updated_at = utcnow()
    session.add(connection)
    session.commit()
    return to_public(services, session, connection)


@router.delete("/{connection_id}", status_code=204, responses=errors(404))
async def delete_connection(
    services: ServicesDep, session: SessionDep, connection: ConnectionDep
) -> Response:
    """Deletes the connection after revoking its credentials at the provider (best effort)."""
    if connection.state == ConnectionState.connected:
        # The provider may already have dropped the token; deletion proceeds regardless.
        with contextlib.suppress(ConnectorError, OsmoError):
            await services.runtime.revoke(await connection_context(services, connection.id))
    await run_in_threadpool(forget_connection, session, connection)
    await request_syncs(services, [connection.id])  # its subscriptions and schedules go
    return Response(status_code=204)


@router.post("/{connection_id}/test", response_model=ConnectionTestResult, responses=errors(404))
async def test_connection(
    services: ServicesDep, session: SessionDep, connection: ConnectionDep, ctx: ConnectionContextDep
) -> ConnectionTestResult:
    """Runs the connector's test request; a failure puts the connection in `error`."""
    try:
        await services.runtime.test(ctx)
    except OsmoError as exc:  # connector errors, and e.g. credentials missing after disconnect
        return await run_in_threadpool(_test_failed, services, session, connection, exc)
    if connection.state != ConnectionState.connected:
        await run_in_threadpool(
            services.connections.mark_state, connection.id, ConnectionState.connected
        )
    return ConnectionTestResult(success=True, state=ConnectionState.connected)


def _test_failed(
    services: Services, session: Session, connection: Connection, error: OsmoError
) -> ConnectionTestResult:
    """Puts the connection in `error` (unless it is disconnected) and says why."""
    session.refresh(connection)
    if connection.state != ConnectionState.disconnected:
        services.connections.mark_state(
            connection.id, ConnectionState.error, error.key, error.message
        )
    session.refresh(connection)
    return ConnectionTestResult(success=False, state=connection.state, error=error.to_dict())


@router.post(
    "/{connection_id}/refresh-credentials",
    response_model=ConnectionPublic,
    responses=errors(400, 404, 502),
)
async def refresh_credentials(
    services: ServicesDep, session: SessionDep, connection: ConnectionDep, ctx: ConnectionContextDep
) -> ConnectionPublic:
    """Forces a token refresh now (OAuth2 and client-credentials connections)."""
    if not services.runtime.can_refresh(ctx):
        raise OsmoError(
            "bad_request",
            "refresh_not_supported",
            f"Auth option {ctx.auth.key!r} has no refreshable credentials",
        )
    await services.runtime.refresh(ctx)
    await run_in_threadpool(session.refresh, connection)
    return await run_in_threadpool(to_public, services, session, connection)


@router.post("/{connection_id}/disconnect", response_model=ConnectionPublic, responses=errors(404))
async def disconnect(
    services: ServicesDep, session: SessionDep, connection: ConnectionDep, ctx: ConnectionContextDep
) -> ConnectionPublic:
    """Revokes the credentials at the provider (where possible) and forgets them.

    The connection keeps its id: reconnecting through the connect page restores it.
    """
    revoked = False
    try:
        revoked = await services.runtime.revoke(ctx)
    except (ConnectorError, OsmoError):
        revoked = False
    return await run_in_threadpool(_forget_credentials, services, session, connection, revoked)


def _forget_credentials(
    services: Services, session: Session, connection: Connection, revoked: bool
) -> ConnectionPublic:
    connection.credentials_encrypted = None
    connection.token_expires_at = None
    connection.state = ConnectionState.disconnected
    connection.disconnect_reason = "disconnected_by_user"
    connection.error_message = None if revoked else "Credentials were not revoked at the provider"
    connection.updated_at = utcnow()
    session.add(connection)
    session.commit()
    return to_public(services, session, connection)

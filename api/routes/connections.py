"""Connections: a customer's authenticated links to integrations."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import Session, select

from api.connecting import establish, input_problems, new_context, resolve
from api.deps import Caller, CallerDep, ServicesDep, SessionDep
from api.models.connections import (
    ConnectionCreate,
    ConnectionPublic,
    ConnectionTestResult,
    ConnectionUpdate,
)
from api.pagination import Page, paginate
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit
from api.routes.integrations import get_integration
from api.services import Services
from connectors.runtime import ConnectorError
from core import data_links
from core.elements.store import ElementStore
from core.errors import OsmoError, not_found, validation_error
from core.models import Connection, ConnectionState, Customer, Integration, utcnow

router = APIRouter(prefix="/connections", tags=["connections"])


def get_connection(session: Session, caller: Caller, connection_id: str) -> Connection:
    """The connection, or 404 when it does not exist or belongs to another customer."""
    connection = session.get(Connection, connection_id)
    session.commit()  # release the pooled connection before the caller awaits external I/O
    if connection is None or not caller.can_see(connection.customer_id):
        raise not_found("connection", connection_id)
    return connection


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


@router.get("", response_model=Page[ConnectionPublic])
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


@router.post("", response_model=ConnectionPublic, status_code=201)
async def create_connection(
    caller: CallerDep, services: ServicesDep, session: SessionDep, body: ConnectionCreate
) -> ConnectionPublic:
    """Creates a connection from inputs (API keys, custom fields) or imported credentials.

    The connector's test request must pass; otherwise nothing is stored.
    """
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
    connection = await establish(services, session, ctx, integration, name=body.name)
    return to_public(services, session, connection)


@router.get("/{connection_id}", response_model=ConnectionPublic)
def read_connection(
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    connection_id: str,
    include_secrets: bool = Query(False, alias="includeSecrets"),
) -> ConnectionPublic:
    connection = get_connection(session, caller, connection_id)
    if include_secrets and not caller.is_admin:
        raise OsmoError("auth", "forbidden", "includeSecrets needs an admin token", status=403)
    return to_public(services, session, connection, secrets=include_secrets)


@router.patch("/{connection_id}", response_model=ConnectionPublic)
def update_connection(
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    connection_id: str,
    body: ConnectionUpdate,
) -> ConnectionPublic:
    connection = get_connection(session, caller, connection_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(connection, field, value)
    connection.updated_at = utcnow()
    session.add(connection)
    session.commit()
    return to_public(services, session, connection)


@router.delete("/{connection_id}", status_code=204)
async def delete_connection(
    caller: CallerDep, services: ServicesDep, session: SessionDep, connection_id: str
) -> Response:
    """Deletes the connection after revoking its credentials at the provider (best effort)."""
    connection = get_connection(session, caller, connection_id)
    if connection.state == ConnectionState.connected:
        # The provider may already have dropped the token; deletion proceeds regardless.
        with contextlib.suppress(ConnectorError, OsmoError):
            await services.runtime.revoke(
                services.runtime.context_for(services.connections.load(connection.id))
            )
    forget_connection(session, connection)
    return Response(status_code=204)


def forget_connection(session: Session, connection: Connection) -> None:
    """Deletes the connection with its element instances and data links."""
    ElementStore(session).delete_for_connection(connection.id)
    data_links.delete_for_connection(session, connection.id)
    session.delete(connection)
    session.commit()


@router.post("/{connection_id}/test", response_model=ConnectionTestResult)
async def test_connection(
    caller: CallerDep, services: ServicesDep, session: SessionDep, connection_id: str
) -> ConnectionTestResult:
    """Runs the connector's test request; a failure puts the connection in `error`."""
    connection = get_connection(session, caller, connection_id)
    ctx = services.runtime.context_for(services.connections.load(connection.id))
    try:
        await services.runtime.test(ctx)
    except OsmoError as exc:  # connector errors, and e.g. credentials missing after disconnect
        session.refresh(connection)
        if connection.state != ConnectionState.disconnected:
            services.connections.mark_state(
                connection.id, ConnectionState.error, exc.key, exc.message
            )
        session.refresh(connection)
        return ConnectionTestResult(success=False, state=connection.state, error=exc.to_dict())
    if connection.state != ConnectionState.connected:
        services.connections.mark_state(connection.id, ConnectionState.connected)
    return ConnectionTestResult(success=True, state=ConnectionState.connected)


@router.post("/{connection_id}/refresh-credentials", response_model=ConnectionPublic)
async def refresh_credentials(
    caller: CallerDep, services: ServicesDep, session: SessionDep, connection_id: str
) -> ConnectionPublic:
    """Forces a token refresh now (OAuth2 and client-credentials connections)."""
    connection = get_connection(session, caller, connection_id)
    ctx = services.runtime.context_for(services.connections.load(connection.id))
    if not services.runtime.can_refresh(ctx):
        raise OsmoError(
            "bad_request",
            "refresh_not_supported",
            f"Auth option {ctx.auth.key!r} has no refreshable credentials",
        )
    await services.runtime.refresh(ctx)
    session.refresh(connection)
    return to_public(services, session, connection)


@router.post("/{connection_id}/disconnect", response_model=ConnectionPublic)
async def disconnect(
    caller: CallerDep, services: ServicesDep, session: SessionDep, connection_id: str
) -> ConnectionPublic:
    """Revokes the credentials at the provider (where possible) and forgets them.

    The connection keeps its id: reconnecting through the connect page restores it.
    """
    connection = get_connection(session, caller, connection_id)
    ctx = services.runtime.context_for(services.connections.load(connection.id))
    revoked = False
    try:
        revoked = await services.runtime.revoke(ctx)
    except (ConnectorError, OsmoError):
        revoked = False
    connection.credentials_encrypted = None
    connection.token_expires_at = None
    connection.state = ConnectionState.disconnected
    connection.disconnect_reason = "disconnected_by_user"
    connection.error_message = None if revoked else "Credentials were not revoked at the provider"
    connection.updated_at = utcnow()
    session.add(connection)
    session.commit()
    return to_public(services, session, connection)

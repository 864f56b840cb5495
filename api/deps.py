"""Request dependencies: services, database session, who is calling, and what they name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session, select

from api.known_customers import claims_key
from api.services import Services
from connectors.runtime import ConnectionContext
from core.errors import OsmoError, not_found
from core.models import Connection, Customer, Integration
from core.stores.customers import upsert_customer
from core.tokens import TokenClaims, verify_token


async def get_services(request: Request) -> Services:
    # `async def` for a plain lookup: a sync dependency would cost a threadpool hop per request.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[Session]:
    """The request's session. Opening one touches no database (a connection is checked out by
    the first query, in a worker thread); closing one that still holds a connection gives it
    back in a worker thread too, so neither blocks the event loop nor costs a hop otherwise."""
    session = Session(services.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):  # a client gone away still frees the connection
                await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: an admin, a customer, or both."""

    claims: TokenClaims
    customer: Customer | None

    @property
    def is_admin(self) -> bool:
        return self.claims.is_admin

    @property
    def customer_id(self) -> str | None:
        return self.customer.id if self.customer else None

    def can_see(self, customer_id: str | None) -> bool:
        return self.is_admin or (customer_id is not None and customer_id == self.customer_id)


def authenticate(token: str, services: Services, session: Session) -> Caller:
    settings = services.settings
    claims = verify_token(token, settings.workspace_secret, settings.workspace_key)
    customer = None
    if claims.tenant_key:
        customer = upsert_customer(session, claims.tenant_key, claims.name, claims.fields)
    return Caller(claims, customer)


def _upserted(services: Services, claims: TokenClaims) -> Customer:
    """The token's customer, created or updated from its claims (in a worker thread)."""
    assert claims.tenant_key is not None
    with Session(services.engine, expire_on_commit=False) as session:
        customer = upsert_customer(session, claims.tenant_key, claims.name, claims.fields)
        session.commit()  # ends the read transaction: the connection goes back to the pool
    services.known_customers.put(
        claims_key(claims.tenant_key, claims.name, claims.fields), customer
    )
    return customer


async def get_caller(request: Request, services: ServicesDep) -> Caller:
    """The caller of the request's bearer token. A customer the process has seen with the
    same claims lately comes from memory (`KnownCustomers`); others are upserted off the loop."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OsmoError(
            "auth", "not_authenticated", "Send `Authorization: Bearer <token>`", status=401
        )
    settings = services.settings
    claims = verify_token(token.strip(), settings.workspace_secret, settings.workspace_key)
    customer = None
    if claims.tenant_key:
        known = claims_key(claims.tenant_key, claims.name, claims.fields)
        customer = services.known_customers.get(known) or await run_in_threadpool(
            _upserted, services, claims
        )
    caller = Caller(claims, customer)
    if not caller.is_admin and caller.customer is None:
        raise OsmoError(
            "auth",
            "forbidden",
            "This token has neither a tenantKey nor isAdmin, so it can do nothing",
            status=403,
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


async def require_admin(caller: CallerDep) -> Caller:
    if not caller.is_admin:
        raise OsmoError("auth", "forbidden", "This route needs an admin token", status=403)
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


def get_connection(session: Session, caller: Caller, connection_id: str) -> Connection:
    """The connection, or 404 when it does not exist or belongs to another customer."""
    connection = session.get(Connection, connection_id)
    session.commit()  # release the pooled connection before the caller awaits external I/O
    if connection is None or not caller.can_see(connection.customer_id):
        raise not_found("connection", connection_id)
    return connection


def get_integration(session: Session, key: str) -> Integration:
    """The integration by key (or id), or 404."""
    integration = session.exec(select(Integration).where(Integration.key == key)).first()
    if integration is None:
        integration = session.get(Integration, key)
    if integration is None:
        raise not_found("integration", key)
    return integration


# Sync dependencies: FastAPI runs them in its threadpool, so their database reads never block
# the event loop of the async routes that use them.
def path_connection(session: SessionDep, caller: CallerDep, connection_id: str) -> Connection:
    return get_connection(session, caller, connection_id)


ConnectionDep = Annotated[Connection, Depends(path_connection)]
"""The connection named by the `{connection_id}` path parameter, visible to the caller."""


def path_integration(session: SessionDep, integration_key: str) -> Integration:
    return get_integration(session, integration_key)


IntegrationDep = Annotated[Integration, Depends(path_integration)]
"""The integration named by the `{integration_key}` path parameter."""


async def connection_context(services: Services, connection_id: str) -> ConnectionContext:
    """The runtime context (connector, credentials) of a connection, loaded off the event loop."""
    stored = await run_in_threadpool(services.connections.load, connection_id)
    return services.runtime.context_for(stored)


def _caller_context(
    services: Services, session: Session, caller: Caller, connection_id: str
) -> ConnectionContext:
    connection = get_connection(session, caller, connection_id)
    return services.runtime.context_for(services.connections.load(connection.id))


async def caller_connection_context(
    services: Services, session: Session, caller: Caller, connection_id: str
) -> ConnectionContext:
    """The runtime context of a connection the caller may use (404 otherwise): the check and
    the load in one worker-thread hop, the pooled connection given back before it returns."""
    return await run_in_threadpool(_caller_context, services, session, caller, connection_id)


async def path_connection_context(
    services: ServicesDep, connection: ConnectionDep
) -> ConnectionContext:
    return await connection_context(services, connection.id)


ConnectionContextDep = Annotated[ConnectionContext, Depends(path_connection_context)]
"""The runtime context of the `{connection_id}` connection, for calls to its external app."""

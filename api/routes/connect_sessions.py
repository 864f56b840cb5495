"""Connect sessions: how the product sends a customer to the connect page.

The product's backend creates a session with the customer's token and opens the returned
`url` in the customer's browser; the page URL carries only the session's opaque token.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.connect_pages import redirect_allowed
from api.connecting import resolve
from api.deps import CallerDep, ServicesDep, SessionDep, get_integration
from api.models.connect_sessions import ConnectSessionCreate, ConnectSessionPublic
from core.errors import OsmoError, not_found, validation_error
from core.models import Connection
from core.stores.connect_sessions import create_session

router = APIRouter(prefix="/connect-sessions", tags=["connect"])


@router.post("", status_code=201, response_model=ConnectSessionPublic)
def create_connect_session(
    body: ConnectSessionCreate, caller: CallerDep, services: ServicesDep, session: SessionDep
) -> ConnectSessionPublic:
    """Creates a single-use link to the connect page for the calling customer.

    The link expires after `OSMO_CONNECT_SESSION_TTL_SECONDS`, belongs to the first browser
    that opens it, and is used up once a connection is made through it or the provider's
    answer ends the attempt.
    """
    customer_id = caller.customer_id
    if customer_id is None:
        raise OsmoError("auth", "forbidden", "A connect session needs a customer token", status=403)
    integration = get_integration(session, body.integration_key)
    if body.connection_id:
        connection = session.get(Connection, body.connection_id)
        if (
            connection is None
            or connection.customer_id != customer_id
            or connection.integration_id != integration.id
        ):
            raise not_found("connection", body.connection_id)
    if not redirect_allowed(services.settings, body.redirect_uri):
        raise validation_error([{"path": "redirectUri", "message": "is not an allowed origin"}])
    if body.auth_option_key is not None:
        resolve(services, integration, body.auth_option_key)
    row, token = create_session(
        session,
        ttl_seconds=services.settings.connect_session_ttl_seconds,
        customer_id=customer_id,
        integration_id=integration.id,
        connection_id=body.connection_id,
        auth_option_key=body.auth_option_key,
        redirect_uri=body.redirect_uri,
        allow_multiple=body.allow_multiple_connections,
    )
    url = f"{services.settings.public_url.rstrip('/')}/connect?session={token}"
    return ConnectSessionPublic(token=token, url=url, expires_at=row.expires_at)

"""`ANY /connections/{id}/proxy/{path}`: a raw request through the connection's API client."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import CallerDep, ServicesDep, SessionDep, connection_context, get_connection
from api.proxying import proxy_request

router = APIRouter(tags=["proxy"])


@router.api_route(
    "/connections/{connection_id}/proxy/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    summary="Proxy a request to the external app",
)
async def proxy(
    connection_id: str,
    path: str,
    request: Request,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    """Sends the request to the app's base URL with the connection's auth (refreshing on 401)
    and returns the upstream status, headers (minus hop-by-hop) and body as they came."""
    connection = get_connection(session, caller, connection_id)
    ctx = await connection_context(services, connection.id)
    return await proxy_request(services, ctx, path, request)

"""`ANY /connections/{id}/proxy/{path}`: a raw request through the connection's API client."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import CallerDep, ServicesDep, SessionDep, caller_connection_context
from api.proxying import proxy_request

router = APIRouter(tags=["proxy"])


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
    ctx = await caller_connection_context(services, session, caller, connection_id)
    return await proxy_request(services, ctx, path, request)


# One route per method, each with its own operation id (one route for five methods would give
# the OpenAPI five operations under one id).
for _method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
    router.add_api_route(
        "/connections/{connection_id}/proxy/{path:path}",
        proxy,
        methods=[_method],
        name=f"proxy_{_method.lower()}",
        operation_id=f"proxy-{_method.lower()}",
        summary=f"Proxy a {_method} request to the external app",
    )

"""`ANY /connections/{id}/proxy/{path}`: a raw request through the connection's API client."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import CallerDep, ServicesDep, SessionDep, connection_context, get_connection
from core.errors import OsmoError

router = APIRouter(tags=["proxy"])

# RFC 7230 §6.1 hop-by-hop headers, plus ones httpx recomputes.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-encoding",
    "host",
}
CALLER_ONLY = {"authorization", "cookie"}


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
    if "://" in path or path.startswith("/"):
        raise OsmoError("bad_request", "invalid_proxy_path", "Proxy paths are relative to the API")
    ctx = await connection_context(services, connection.id)
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in HOP_BY_HOP | CALLER_ONLY
    }
    upstream = await services.runtime.request(
        ctx,
        request.method,
        path,
        params=list(request.query_params.multi_items()) or None,
        headers=headers,
        content=await request.body() or None,
        raise_for_status=False,
    )
    out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
    return Response(upstream.content, status_code=upstream.status_code, headers=out_headers)

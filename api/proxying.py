"""A raw request through a connection's API client, answered as the app answered it.

Shared by the proxy route and the request passthrough Membrane's SDK calls
(`POST /connections/{id}/api/{path}`).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.services import Services
from connectors.runtime import ConnectionContext
from core.errors import OsmoError

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


async def proxy_request(
    services: Services, ctx: ConnectionContext, path: str, request: Request
) -> Response:
    """Sends the request to the app's base URL with the connection's auth (refreshing on 401)
    and returns the upstream status, headers (minus hop-by-hop) and body as they came."""
    if "://" in path or path.startswith("/"):
        raise OsmoError("bad_request", "invalid_proxy_path", "Proxy paths are relative to the API")
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

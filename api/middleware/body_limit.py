"""Request body size limits, enforced before and while the body is read.

A declared `Content-Length` over the limit is refused before anything is read; a body without
one (chunked) is counted as it streams and refused as soon as it passes the limit, so a huge
upload never sits in memory.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.elements.kinds import KINDS

_WRITES = {"POST", "PUT", "PATCH"}


class RequestTooLarge(HTTPException):
    """413: the body passed `limit` bytes (raised from inside the app while it reads)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes")
        self.limit = limit


def too_large_body(limit: int) -> dict[str, object]:
    """The error body of a 413."""
    return {
        "type": "bad_request",
        "key": "request_too_large",
        "message": f"The request body is larger than {limit} bytes",
        "data": {"limit": limit},
    }


def is_element_write(method: str, path: str) -> bool:
    """Writes of integrations and elements, whose bodies every later read returns whole."""
    if method not in _WRITES:
        return False
    parts = [p for p in path.split("/") if p]
    if not parts:
        return False
    if parts[0] == "integrations" or parts[0] in KINDS:
        return True
    return parts[0] == "connections" and len(parts) >= 3 and parts[2] in KINDS


class BodyLimitMiddleware:
    """Answers 413 `request_too_large` to bodies over the limit `limit_for(method, path)` gives.

    Args:
        app: The wrapped ASGI app.
        limit_for: Byte limit for a method and path; 0 means no limit.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        if not limit:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = JSONResponse(too_large_body(limit), status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route's body read: FastAPI re-raises HTTP exceptions
                    # and the app's error handler answers 413.
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)

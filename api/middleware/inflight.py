"""Back-pressure on start routes: a bounded number in flight, the rest told to come back.

Each start (a flow run, an action run, a proxy call) holds a worker thread for its database
work and then waits on Temporal or an external app. Without a bound, a burst of starts queues
without end inside the process (threads, pool checkouts, Temporal calls) and every other route,
`/health` included, waits behind it. With one, a start over the limit waits a short moment for
a slot and otherwise gets 503 `api_busy` with `Retry-After` at once: the caller retries later,
and what is admitted keeps its latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

RETRY_AFTER_SECONDS = 1
_PASSTHROUGH = {"proxy", "api"}  # /connections/{id}/proxy/... and Membrane's /api/... passthrough


def is_start(method: str, path: str) -> bool:
    """Whether the request starts work that waits on Temporal or an external app."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "connections" and parts[2] in _PASSTHROUGH:
        return True
    if method != "POST" or not parts:
        return False
    return parts[-1] in ("run", "rerun") or parts == ["flow-runs"]


def busy_body(limit: int) -> dict[str, object]:
    """The error body of a start refused because `limit` starts are in flight."""
    return {
        "type": "unavailable",
        "key": "api_busy",
        "message": (
            f"This API process is working on {limit} starts already; "
            f"retry in {RETRY_AFTER_SECONDS} s"
        ),
        "data": {"retryAfter": RETRY_AFTER_SECONDS, "limit": limit},
    }


class InflightLimitMiddleware:
    """At most `limit` start requests at once; others wait up to `wait` seconds for a slot,
    then get 503 `api_busy` with `Retry-After`.

    Args:
        app: The wrapped ASGI app.
        limit: Starts handled at once by this process.
        wait: Seconds a start over the limit waits for a slot (0: refused at once).
        is_limited: Which requests count, by method and path (default: `is_start`).
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        wait: float,
        is_limited: Callable[[str, str], bool] = is_start,
    ) -> None:
        self.app = app
        self.limit = limit
        self.wait = wait
        self.is_limited = is_limited
        self._slots: asyncio.Semaphore | None = None

    @property
    def slots(self) -> asyncio.Semaphore:
        # Made on first use, inside the server's event loop.
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.is_limited(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        if not await self._acquire():
            response = JSONResponse(
                busy_body(self.limit),
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()

    async def _acquire(self) -> bool:
        slots = self.slots
        if not slots.locked():
            await slots.acquire()  # a free slot: returns at once
            return True
        if self.wait <= 0:
            return False
        try:
            await asyncio.wait_for(slots.acquire(), self.wait)
        except TimeoutError:
            return False
        return True

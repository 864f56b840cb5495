"""Replay harness for connector tests: vendor-shaped responses through `httpx.MockTransport`.

replay = Replay()
replay.on("GET", "/crm/v3/objects/contacts", json_response({...}), json_response({...}))
async with harness(replay, "hubspot", credentials={"access_token": "t"}) as (runtime, ctx):
    result = await run_method(runtime, ctx, "contacts", "list")
assert replay.requests[0].url.params["limit"] == "100"
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx

from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectionContext, ConnectorRuntime, MemoryApiLogSink
from core.models import utcnow
from core.stores.connections import CredentialsSnapshot

Responder = httpx.Response | Callable[[httpx.Request], httpx.Response]


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class Replay:
    """Answers requests by method and path (regex), in the order responses were queued."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], deque[Responder]]] = []
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *responses: Responder) -> Replay:
        """Queues responses for `method path` (`path` is a regex matched against the URL path)."""
        self.routes.append((method.upper(), re.compile(f"^{path}$"), deque(responses)))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for method, pattern, queue in self.routes:
            if method == request.method and pattern.match(request.url.path) and queue:
                responder = queue.popleft() if len(queue) > 1 else queue[0]
                return responder(request) if callable(responder) else responder
        return httpx.Response(599, json={"error": f"no replay for {request.method} {request.url}"})

    def body(self, index: int = -1) -> Any:
        """The JSON (or form) body of a recorded request."""
        request = self.requests[index]
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return dict(httpx.QueryParams(request.content.decode()))
        return json.loads(request.content) if request.content else None


class MemoryCredentialStore:
    """The runtime's credential store, in memory (one connection)."""

    def __init__(self, credentials: dict[str, Any], expires_at: datetime | None) -> None:
        self.credentials = credentials
        self.expires_at = expires_at
        self.version = 1
        self.state = "connected"
        self.reason: str | None = None
        self.locks: set[str] = set()
        self.budget: dict[str, tuple[int, int]] = {}

    def load_credentials(self, connection_id: str) -> CredentialsSnapshot:
        return CredentialsSnapshot(
            dict(self.credentials), self.version, self.expires_at, self.state
        )

    def save_credentials(
        self, connection_id: str, credentials: dict[str, Any], expires_at: datetime | None
    ) -> int:
        self.credentials, self.expires_at = credentials, expires_at
        self.version += 1
        return self.version

    def mark_state(
        self, connection_id: str, state: Any, reason: str | None = None, message: str | None = None
    ) -> None:
        self.state, self.reason = str(state), reason

    def try_lock(self, connection_id: str, holder: str, ttl_seconds: float) -> bool:
        if connection_id in self.locks:
            return False
        self.locks.add(connection_id)
        return True

    def unlock(self, connection_id: str, holder: str) -> None:
        self.locks.discard(connection_id)

    def take_budget(self, connection_id: str, window: int, limit: int) -> bool:
        current, count = self.budget.get(connection_id, (window, 0))
        count = count if current == window else 0
        if count >= limit:
            return False
        self.budget[connection_id] = (window, count + 1)
        return True


@lru_cache(maxsize=32)
def _registry(factory: Callable[[], ConnectorRegistry]) -> ConnectorRegistry:
    """Connectors parsed once per factory (tests may swap `ConnectorRegistry` for their own)."""
    return factory()


def builtin_registry() -> ConnectorRegistry:
    return _registry(ConnectorRegistry)


@asynccontextmanager
async def harness(
    replay: Callable[[httpx.Request], httpx.Response],
    connector_key: str,
    *,
    auth_key: str | None = None,
    credentials: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    client: tuple[str, str] = ("client-id", "client-secret"),
    expires_in: int | None = 3600,
) -> AsyncIterator[tuple[ConnectorRuntime, ConnectionContext]]:
    """A runtime whose HTTP goes to `replay` (any request handler), and a connected context."""
    registry = _registry(ConnectorRegistry)
    connector = registry.get(connector_key)
    assert connector is not None, f"unknown connector {connector_key}"
    auth = connector.auth_option(auth_key)
    assert auth is not None, f"{connector_key} has no auth option {auth_key}"
    expires_at = utcnow() + timedelta(seconds=expires_in) if expires_in else None
    store = MemoryCredentialStore(dict(credentials or {}), expires_at)
    runtime = ConnectorRuntime(
        registry,
        store,
        MemoryApiLogSink(),
        transport=httpx.MockTransport(replay),
        refresh_margin=60,
    )
    ctx = ConnectionContext(
        connector=connector,
        auth=auth,
        customer_id="customer-1",
        integration_key=connector_key,
        client_id=client[0],
        client_secret=client[1],
        integration_parameters=dict(parameters or {}),
        scopes=[],
        inputs=dict(inputs or {}),
        credentials=dict(credentials or {}),
        credentials_version=1,
        token_expires_at=expires_at,
        connection_id="connection-1",
    )
    try:
        yield runtime, ctx
    finally:
        await runtime.aclose()

"""Activities that call external apps through the connector runtime.

Credentials never pass through workflow history: activities load them by connection id.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from connectors.runtime import ConnectorError, ConnectorRuntime
from core.stores.connections import ConnectionStore


@dataclass(frozen=True)
class ApiRequestInput:
    connection_id: str
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None


@dataclass(frozen=True)
class ApiRequestOutput:
    status: int
    headers: dict[str, str]
    body: Any


def to_application_error(error: ConnectorError) -> ApplicationError:
    """Normalized connector errors decide Temporal retries: 4xx stop, 429/503 wait as told."""
    delay = timedelta(seconds=error.retry_after) if error.retry_after is not None else None
    return ApplicationError(
        error.message,
        error.to_dict(),
        type=error.key,
        non_retryable=not error.retryable,
        next_retry_delay=delay,
    )


class ConnectorActivities:
    """Activities bound to one worker's connector runtime and connection store."""

    def __init__(self, runtime: ConnectorRuntime, connections: ConnectionStore) -> None:
        self.runtime = runtime
        self.connections = connections

    @activity.defn(name="api_request")
    async def api_request(self, input: ApiRequestInput) -> ApiRequestOutput:
        """A raw request to the connection's API (the `api-request-to-external-app` node)."""
        stored = await asyncio.to_thread(self.connections.load, input.connection_id)
        ctx = self.runtime.context_for(stored)
        try:
            response = await self.runtime.request(
                ctx,
                input.method,
                input.path,
                params=input.query or None,
                headers=input.headers or None,
                json=input.json,
            )
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        return ApiRequestOutput(response.status_code, dict(response.headers), body)

    @activity.defn(name="test_connection")
    async def test_connection(self, connection_id: str) -> bool:
        """Runs the connector's test request for the connection."""
        stored = await asyncio.to_thread(self.connections.load, connection_id)
        try:
            await self.runtime.test(self.runtime.context_for(stored))
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        return True

"""Activities that call external apps through the connector runtime.

Credentials never pass through workflow history: activities load them by connection id.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.connection_cache import ConnectionCache
from activities.heartbeat import heartbeating
from connectors.runtime import ConnectorError, ConnectorRuntime
from connectors.runtime.bodies import response_body
from connectors.runtime.collections import run_method
from connectors.runtime.context import ConnectionContext
from connectors.runtime.operations import run_operation
from connectors.runtime.redaction import Redactor, is_secret_name, secret_values
from core.errors import OsmoError
from core.stores.connections import ConnectionStore, StoredConnection


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


@dataclass(frozen=True)
class RunOperationInput:
    connection_id: str
    operation_key: str
    input: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CollectionMethodInput:
    connection_id: str
    collection: str
    method: str
    parameters: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    fields: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    cursor: str | None = None
    idempotency_key: str | None = None


def to_application_error(error: OsmoError) -> ApplicationError:
    """Normalized errors decide Temporal retries: 4xx stop, 429/503 wait as told, 5xx retry.

    A 4xx is an expected outcome (the app refused the request, a record exists, a key is
    unknown), not a fault of the worker: it is marked benign, so the SDK logs it at DEBUG
    instead of a WARNING with a traceback, and leaves it out of its failure metrics. The
    failure itself is kept on the node run and in the external API logs.
    """
    retryable = isinstance(error, ConnectorError) and error.retryable
    retry_after = error.retry_after if isinstance(error, ConnectorError) else None
    return ApplicationError(
        error.message,
        error.to_dict(),
        type=error.key,
        non_retryable=not retryable,
        next_retry_delay=timedelta(seconds=retry_after) if retry_after is not None else None,
        category=ApplicationErrorCategory.BENIGN
        if 400 <= error.status < 500
        else ApplicationErrorCategory.UNSPECIFIED,
    )


MIN_SECRET_LENGTH = 8
"""Shorter values are masked in logs but not in outputs, where they would mangle data."""


def output_redactor(ctx: ConnectionContext) -> Redactor:
    """Masks the connection's secrets in what an activity returns into workflow history.

    Narrower than the log redactor (`ctx.redactor()`, every string of the credentials and
    inputs): outputs are data the flow goes on using, so only secret values are masked —
    secret-named credentials (not `token_type: Bearer`), inputs the auth option's schema marks
    `isSensitive` or names like a secret, and the client secret. A subdomain input stays.
    """
    sensitive = {
        name
        for name, prop in ((ctx.auth.input_schema or {}).get("properties") or {}).items()
        if isinstance(prop, dict) and prop.get("isSensitive")
    }
    values = [
        value
        for name, value in ctx.credentials.items()
        if is_secret_name(name) and not name.lower().endswith("type")
    ]
    values += [v for k, v in ctx.inputs.items() if k in sensitive or is_secret_name(k)]
    values.append(ctx.client_secret)
    secrets = secret_values(values)
    return Redactor(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)


class _Uncached:
    """`ConnectionCache`'s interface, loading every time."""

    def __init__(self, connections: ConnectionStore) -> None:
        self.connections = connections

    async def load(self, connection_id: str) -> StoredConnection:
        return await asyncio.to_thread(self.connections.load, connection_id)


class ConnectorActivities:
    """Activities bound to one worker's connector runtime and connection store."""

    def __init__(
        self, runtime: ConnectorRuntime, connections: ConnectionStore, *, cache: bool = True
    ) -> None:
        """`cache=False` loads every connection from `connections` on each call (a store
        without a database behind it, in tests, has no rows for the cache to check)."""
        self.runtime = runtime
        self.connections = connections
        # Decrypts a connection again only when its rows changed (activities/connection_cache.py).
        self.cache: ConnectionCache | _Uncached = (
            ConnectionCache(connections) if cache else _Uncached(connections)
        )

    @activity.defn(name="api_request")
    @heartbeating
    async def api_request(self, input: ApiRequestInput) -> ApiRequestOutput:
        """A raw request to the connection's API (the `api-request-to-external-app` node).

        `input.path` comes from element config a customer may customize: the runtime takes it
        literally and keeps it under the connector's base URL (`url_outside_api` otherwise).
        """
        stored = await self.cache.load(input.connection_id)
        try:
            ctx = self.runtime.context_for(stored)
            response = await self.runtime.request(
                ctx,
                input.method,
                input.path,
                params=input.query or None,
                headers=input.headers or None,
                json=input.json,
            )
            # By content type: JSON parsed, text as text, bytes as {contentType, base64}.
            body = response_body(response)
        except OsmoError as exc:
            raise to_application_error(exc) from exc
        # Secret-named headers (Set-Cookie...) and the connection's secrets stay out of history,
        # also where the app echoes a credential in its body.
        headers = ctx.redactor().headers(response.headers.items())
        return ApiRequestOutput(response.status_code, headers, output_redactor(ctx).value(body))

    @activity.defn(name="run_operation")
    @heartbeating
    async def run_operation(self, input: RunOperationInput) -> Any:
        """Runs a connector operation for the connection."""
        stored = await self.cache.load(input.connection_id)
        ctx = self.runtime.context_for(stored)
        try:
            output = await run_operation(
                self.runtime, ctx, input.operation_key, input.input, input.idempotency_key
            )
        except OsmoError as exc:
            raise to_application_error(exc) from exc
        return output_redactor(ctx).value(output)  # into history: no echoed credential

    @activity.defn(name="collection_method")
    @heartbeating
    async def collection_method(self, input: CollectionMethodInput) -> dict[str, Any]:
        """Runs one data collection method (list a page, find, create, update, delete...)."""
        stored = await self.cache.load(input.connection_id)
        ctx = self.runtime.context_for(stored)
        try:
            result = await run_method(
                self.runtime,
                ctx,
                input.collection,
                input.method,
                parameters=input.parameters,
                id=input.id,
                fields=input.fields,
                query=input.query,
                cursor=input.cursor,
                idempotency_key=input.idempotency_key,
                # An attempt before this one may have created the record and died unanswered.
                retried=activity.info().attempt > 1,
            )
        except OsmoError as exc:
            raise to_application_error(exc) from exc
        redacted: dict[str, Any] = output_redactor(ctx).value(result)
        return redacted

    @activity.defn(name="test_connection")
    @heartbeating
    async def test_connection(self, connection_id: str) -> bool:
        """Runs the connector's test request for the connection."""
        stored = await self.cache.load(connection_id)
        try:
            await self.runtime.test(self.runtime.context_for(stored))
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        return True

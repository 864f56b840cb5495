"""Turns httpx requests and responses into redacted `ApiCall` log entries."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol

import httpx

from connectors.runtime.context import ApiCall, ApiLogSink, ConnectionContext
from connectors.runtime.redaction import Redactor
from core.models import ApiCallState

START = "osmo_started_at"


class CallOwner(Protocol):
    """Whom a logged call belongs to, and which secrets it may carry: a connection, or a flow
    run making its own request."""

    @property
    def customer_id(self) -> str | None: ...

    @property
    def connection_id(self) -> str | None: ...

    @property
    def integration_key(self) -> str | None: ...

    def redactor(self) -> Redactor: ...


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Requests that change nothing: logged once, when they end. Others are logged `pending`
before they are sent (`logs_pending`), so a write that reached the app is in the log even
if the process dies before the answer."""


def logs_pending(request: httpx.Request) -> bool:
    return request.method.upper() not in SAFE_METHODS


def describe(
    ctx: CallOwner,
    request: httpx.Request,
    response: httpx.Response | None,
    body_limit: int,
    *,
    duration_ms: float,
    error_key: str | None = None,
    error_message: str | None = None,
) -> ApiCall:
    """The log entry of a call that has ended (with `response`, or with none and an error)."""
    return ended(
        ctx,
        describe_request(ctx, request, body_limit),
        response,
        body_limit,
        duration_ms=duration_ms,
        error_key=error_key,
        error_message=error_message,
    )


def describe_request(ctx: CallOwner, request: httpx.Request, body_limit: int) -> ApiCall:
    """The `pending` log entry of a request about to be sent."""
    redactor = ctx.redactor()
    request_body = request.content if request.stream is not None else b""
    content_type = request.headers.get("content-type", "")
    return ApiCall(
        method=request.method,
        url=redactor.url(str(request.url)),
        status=None,
        success=False,
        duration_ms=0.0,
        request_size=len(request_body),
        response_size=0,
        request_headers=redactor.headers(request.headers.items()),
        request_body=redactor.body(request_body, content_type, body_limit),
        response_body=None,
        customer_id=ctx.customer_id,
        connection_id=ctx.connection_id,
        integration_key=ctx.integration_key,
        state=ApiCallState.pending,
    )


def ended(
    ctx: CallOwner,
    pending: ApiCall,
    response: httpx.Response | None,
    body_limit: int,
    *,
    duration_ms: float,
    error_key: str | None = None,
    error_message: str | None = None,
) -> ApiCall:
    """`pending` (same id) with how it ended: `completed` with the app's answer, `failed`
    without one."""
    redactor = ctx.redactor()
    response_body: bytes = b""
    if response is not None:
        try:
            response_body = response.content
        except httpx.ResponseNotRead:
            response_body = b""
    return replace(
        pending,
        status=response.status_code if response is not None else None,
        success=response is not None and response.status_code < 400,
        duration_ms=round(duration_ms, 2),
        response_size=len(response_body),
        response_body=(
            redactor.body(response_body, response.headers.get("content-type", ""), body_limit)
            if response is not None
            else None
        ),
        error_key=error_key,
        error_message=redactor.text(error_message) if error_message else None,
        state=ApiCallState.completed if response is not None else ApiCallState.failed,
    )


def logging_hooks(
    ctx: ConnectionContext, sink: ApiLogSink, body_limit: int
) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
    """httpx event hooks that log every request a third-party client (authlib) makes."""

    async def on_request(request: httpx.Request) -> None:
        request.extensions[START] = time.perf_counter()

    async def on_response(response: httpx.Response) -> None:
        await response.aread()
        started = response.request.extensions.get(START, time.perf_counter())
        duration = (time.perf_counter() - started) * 1000
        sink.record(describe(ctx, response.request, response, body_limit, duration_ms=duration))

    return {"request": [on_request], "response": [on_response]}

"""Classifies responses with the connector's own signals before generic status mapping."""

from __future__ import annotations

import time
from typing import Any

import httpx

from connectors.runtime.errors import (
    ConnectorError,
    app_message,
    error_for_status,
    parse_retry_after,
)
from connectors.runtime.mapping import locate
from connectors.spec import ApiClientSpec, RateLimitSpec, ResponseHandler


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _body_text(response: httpx.Response) -> str | None:
    """The body as text, for an app that explains an error in plain text."""
    try:
        return response.content.decode()
    except UnicodeDecodeError:
        return None


def _matches(handler: ResponseHandler, response: httpx.Response, body: Any) -> bool:
    when = handler.when
    if when.status is not None and response.status_code not in when.status:
        return False
    if when.body_path is not None:
        value = locate(body, when.body_path)
        if when.exists is not None and (value is not None) != when.exists:
            return False
        if when.equals is not None and value != when.equals:
            return False
    return True


def retry_after(response: httpx.Response, spec: RateLimitSpec) -> float | None:
    """Seconds to wait, from `Retry-After` or the app's reset header."""
    delay = parse_retry_after(response.headers.get(spec.retry_after_header))
    if delay is not None:
        return delay
    if spec.reset_header and (raw := response.headers.get(spec.reset_header)):
        try:
            value = float(raw)
        except ValueError:
            return None
        if spec.reset_format == "delta-seconds":
            return max(0.0, value)
        seconds = value / 1000 if spec.reset_format == "epoch-ms" else value
        return max(0.0, seconds - time.time())
    return None


def classify(response: httpx.Response, api: ApiClientSpec) -> ConnectorError | None:
    """The normalized error this response means, or None when it is a success."""
    handlers = api.response_handlers
    body = _json(response) if handlers or response.status_code >= 400 else None
    for handler in handlers:
        if _matches(handler, response, body):
            message = locate(body, handler.message_path) if handler.message_path else None
            delay = (
                retry_after(response, api.rate_limit)
                if handler.error == "rate_limit_exceeded"
                else None
            )
            if handler.error == "rate_limit_exceeded" and delay is None:
                delay = api.rate_limit.default_retry_after
            said = app_message(message) if message is not None else None
            return ConnectorError(
                handler.error,
                said or f"The app answered HTTP {response.status_code}",
                upstream_status=response.status_code,
                retry_after=delay,
                data={"appMessage": said} if said else None,
            )
    limits = api.rate_limit
    exhausted = (
        response.status_code in limits.exhausted_statuses
        and limits.remaining_header is not None
        and response.headers.get(limits.remaining_header) == "0"
    )
    if response.status_code in limits.statuses or exhausted:
        return ConnectorError(
            "rate_limit_exceeded",
            f"The app rate-limited the request (HTTP {response.status_code})",
            upstream_status=response.status_code,
            retry_after=retry_after(response, limits) or limits.default_retry_after,
        )
    if response.status_code >= 400:
        return error_for_status(
            response.status_code,
            f"The app answered HTTP {response.status_code}",
            retry_after(response, limits),
            app_message(body, _body_text(response), response.headers.get("content-type", "")),
        )
    return None

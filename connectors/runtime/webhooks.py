"""Verifies incoming webhooks as the connector's `webhooks.signature` describes, and finds
which connection an app-level webhook event belongs to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from connectors.runtime.mapping import locate
from connectors.runtime.templates import render
from connectors.spec import WebhookRouting, WebhookSignature

_DIGESTS = {"hmac-sha256": hashlib.sha256, "hmac-sha1": hashlib.sha1}


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh webhook from the app."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _candidates(spec: WebhookSignature, headers: Mapping[str, str]) -> tuple[list[str], str | None]:
    """Signatures offered by the request, and its timestamp."""
    raw = _header(headers, spec.header)
    if raw is None:
        raise WebhookVerificationError(f"missing {spec.header} header")
    if spec.header_format == "stripe":
        parts = [p.split("=", 1) for p in raw.split(",") if "=" in p]
        timestamp = next((v for k, v in parts if k.strip() == "t"), None)
        return [v for k, v in parts if k.strip() == "v1"], timestamp
    timestamp = _header(headers, spec.timestamp_header) if spec.timestamp_header else None
    value = raw.strip()
    return [value[len(spec.prefix) :] if value.startswith(spec.prefix) else value], timestamp


def _seconds(timestamp: str) -> float:
    """Epoch seconds from a Unix timestamp or an ISO 8601 one (Zendesk)."""
    try:
        return float(timestamp)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise WebhookVerificationError("malformed signature timestamp") from exc


def verify_signature(
    spec: WebhookSignature,
    headers: Mapping[str, str],
    body: bytes,
    context: dict[str, Any],
    *,
    now: float | None = None,
) -> None:
    """Checks the HMAC of a webhook request.

    Args:
        spec: The connector's signature scheme.
        headers: The request headers.
        body: The raw request body, exactly as received.
        context: Template context for the secret (`integration.parameters`, `credentials`...).
        now: Current time (seconds); for tests.

    Raises:
        WebhookVerificationError: Missing, stale or wrong signature.
    """
    signatures, timestamp = _candidates(spec, headers)
    if "{timestamp}" in spec.payload or spec.header_format == "stripe":
        if timestamp is None:
            raise WebhookVerificationError("missing signature timestamp")
        if spec.tolerance_seconds is not None:
            age = abs((now if now is not None else time.time()) - _seconds(timestamp))
            if age > spec.tolerance_seconds:
                raise WebhookVerificationError("signature timestamp is too old")
    payload = spec.payload.replace("{timestamp}", timestamp or "")
    for name, value in headers.items():
        payload = payload.replace(f"{{header:{name}}}", value)
    before, _, after = payload.partition("{body}")
    signed = (
        before.encode() + body + after.encode() if "{body}" in spec.payload else payload.encode()
    )
    secret = render(spec.secret, context).encode()
    if spec.secret_encoding == "base64":
        secret = base64.b64decode(secret)
    digest = hmac.new(secret, signed, _DIGESTS[spec.algorithm]).digest()
    expected = digest.hex() if spec.encoding == "hex" else base64.b64encode(digest).decode()
    if not any(hmac.compare_digest(expected, candidate.strip()) for candidate in signatures):
        raise WebhookVerificationError("signature does not match")


def route_event(
    routing: WebhookRouting, event: Any, connections: Iterable[tuple[str, dict[str, Any]]]
) -> str | None:
    """The id of the connection an app-level event belongs to (or None).

    Args:
        routing: The connector's routing rule.
        event: One parsed event.
        connections: (connection id, template context) of the integration's connections.
    """
    value = locate(event, routing.event_path)
    if value is None:
        return None
    for connection_id, context in connections:
        try:
            if render(routing.connection_value, context) == str(value):
                return connection_id
        except Exception:  # a connection without the value cannot match
            continue
    return None

"""What Linear's YAML cannot say: GraphQL errors, which arrive with HTTP 200 or 400.

Linear answers a failed query with `{"errors": [{"message", "extensions": {"code", "type",
"userPresentableMessage"}}], "data": null}`; rate limits come this way too (HTTP 400, code
`RATELIMITED`), with the reset time in `X-RateLimit-*-Reset` headers (epoch milliseconds).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from connectors.runtime.components import Components
from connectors.runtime.errors import ConnectorError, parse_retry_after

ERROR_KEYS = {
    "AUTHENTICATION_ERROR": "access_token_expired",
    "RATELIMITED": "rate_limit_exceeded",
    "FORBIDDEN": "bad_request",
    "INVALID_INPUT": "bad_request",
    "USER_ERROR": "bad_request",
    "FEATURE_NOT_ACCESSIBLE": "bad_request",
    "USAGE_LIMIT_EXCEEDED": "bad_request",
    "GRAPHQL_ERROR": "bad_request",
    "ENTITY_NOT_FOUND": "not_found",
    "INTERNAL_ERROR": "server_error",
    "LOCK_TIMEOUT": "server_error",
    "NETWORK_ERROR": "server_error",
}
RESET_HEADERS = ("x-ratelimit-requests", "x-ratelimit-complexity", "x-ratelimit-endpoint-requests")
DEFAULT_RETRY_AFTER = 60.0


class LinearComponents(Components):
    """Hooks for Linear's GraphQL API."""

    def check_response(self, response: httpx.Response) -> ConnectorError | None:
        """The error a GraphQL `errors` array means; None for data, or for partial data."""
        try:
            body = response.json()
        except ValueError:
            return None
        errors = body.get("errors") if isinstance(body, dict) else None
        if not errors or not _failed(body.get("data")):
            return None
        first = errors[0] if isinstance(errors[0], dict) else {}
        extensions = first.get("extensions") or {}
        key = _key(extensions, str(first.get("message") or ""), response.status_code)
        message = extensions.get("userPresentableMessage") or first.get("message")
        return ConnectorError(
            key,
            str(message or f"Linear answered HTTP {response.status_code} with errors"),
            upstream_status=response.status_code,
            retry_after=_retry_after(response) if key == "rate_limit_exceeded" else None,
            data={"code": extensions.get("code")},
        )


def _failed(data: Any) -> bool:
    """No data at all, or a root field that resolved to null (the operation failed)."""
    return not isinstance(data, dict) or any(value is None for value in data.values())


def _key(extensions: dict[str, Any], message: str, status: int) -> str:
    if message.startswith("Entity not found"):
        return "not_found"
    code = str(extensions.get("code") or extensions.get("type") or "")
    key = ERROR_KEYS.get(code.upper().replace(" ", "_"))
    if key is not None:
        return key
    return "server_error" if status >= 500 else "bad_request"


def _retry_after(response: httpx.Response) -> float:
    """`Retry-After`, else the latest reset among the exhausted limits (epoch milliseconds)."""
    delay = parse_retry_after(response.headers.get("retry-after"))
    if delay is not None:
        return delay
    resets = []
    for prefix in RESET_HEADERS:
        remaining, reset = (response.headers.get(f"{prefix}-{s}") for s in ("remaining", "reset"))
        if reset and remaining in ("0", None):
            try:
                resets.append(float(reset) / 1000 - time.time())
            except ValueError:
                continue
    return max(0.0, *resets) if resets else DEFAULT_RETRY_AFTER

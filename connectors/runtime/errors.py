"""Normalized connector errors: every HTTP outcome becomes one typed, keyed error."""

from __future__ import annotations

from typing import Any

from core.errors import OsmoError

# key → (HTTP status Osmo answers with, retryable)
ERROR_KEYS: dict[str, tuple[int, bool]] = {
    "access_token_expired": (401, False),
    "connection_is_defunct": (409, False),
    # The connection was disconnected earlier: nothing is sent, its refresh token is not used.
    "connection_disconnected": (409, False),
    # The request would leave the connector's API (another origin, a dot segment in the path).
    "url_outside_api": (400, False),
    "invalid_url": (400, False),
    # A customer-supplied base URL resolves to a loopback, private or link-local address.
    "address_not_allowed": (400, False),
    "rate_limit_exceeded": (429, True),
    "bad_request": (400, False),
    "not_found": (404, False),
    "conflict": (409, False),
    "server_error": (502, True),
    # The app claimed JSON (by its content type) and sent something else; retrying a write
    # after an unreadable answer could repeat it, so it does not retry.
    "invalid_json_response": (502, False),
    "network_error": (502, True),
    "timeout": (504, True),
}


class ConnectorError(OsmoError):
    """An external API call failed; `key` says how, `retryable` whether trying again helps."""

    def __init__(
        self,
        key: str,
        message: str,
        *,
        upstream_status: int | None = None,
        retry_after: float | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        status, retryable = ERROR_KEYS[key]
        details = dict(data or {})
        if upstream_status is not None:
            details["upstreamStatus"] = upstream_status
        if retry_after is not None:
            details["retryAfter"] = retry_after
        super().__init__("connector", key, message, details, status=status)
        self.retryable = retryable
        self.upstream_status = upstream_status
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        from core.models import utcnow

        try:
            return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
        except (TypeError, ValueError):
            return None


def error_for_status(status: int, message: str, retry_after: float | None = None) -> ConnectorError:
    """Maps an HTTP error status to the normalized error."""
    if status == 401:
        key = "access_token_expired"
    elif status == 429:
        key = "rate_limit_exceeded"
    elif status == 404:
        key = "not_found"
    elif status == 409:
        key = "conflict"
    elif status == 503 and retry_after is not None:
        key = "rate_limit_exceeded"
    elif status >= 500:
        key = "server_error"
    else:
        key = "bad_request"
    return ConnectorError(key, message, upstream_status=status, retry_after=retry_after)

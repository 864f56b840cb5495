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


APP_MESSAGE_LIMIT = 500
"""Characters of the app's own message kept in an error (the full body is in the API logs)."""

_ERROR_LISTS = ("errors", "errorMessages", "error_messages")
_TEXT_FIELDS = ("error_message", "errorMessage", "detail", "title")


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _from_json(body: dict[str, Any]) -> str | None:
    """The message in the common vendor shapes of an error body, first found first."""
    found = _text(body.get("message"))
    error = body.get("error")
    if found is None and isinstance(error, dict):  # Stripe, Google: {error: {message}}
        found = _text(error.get("message")) or _text(error.get("description"))
    if found is None:  # OAuth: {error, error_description}
        found = _text(body.get("error_description"))
    if found is None:  # Slack: {ok: false, error: "channel_not_found"}
        found = _text(error)
    for name in _ERROR_LISTS:  # GraphQL, Jira: {errors: [{message}]}, {errorMessages: [...]}
        items = body.get(name)
        if found is None and isinstance(items, list) and items:
            first = items[0]
            found = _text(first.get("message")) if isinstance(first, dict) else _text(first)
    for name in _TEXT_FIELDS:
        if found is None:
            found = _text(body.get(name))
    return found


def app_message(body: Any, text: str | None = None, content_type: str = "") -> str | None:
    """The app's own words for an error, from its response body.

    Args:
        body: The body parsed as JSON (None when it is not JSON).
        text: The body as text, used when it is short plain text (an HTML page is not a message).
        content_type: The response's `Content-Type`.

    Returns:
        `message`, `error.message`, `error_description`, `error`, `errors[0].message` (or
        `errors[0]`), `errorMessages[0]`, `error_message`, `errorMessage`, `detail` or `title`,
        whichever comes first, or the plain-text body; whitespace collapsed and at most
        `APP_MESSAGE_LIMIT` characters. None when the body says nothing usable. Not redacted:
        callers mask the connection's secrets in it before it goes anywhere.
    """
    found: str | None = None
    if isinstance(body, dict):
        found = _from_json(body)
    elif isinstance(body, str):
        found = _text(body)
    elif body is None and text and "html" not in content_type and "xml" not in content_type:
        stripped = text.strip()
        found = stripped if stripped and not stripped.startswith("<") else None
    if found is None:
        return None
    found = " ".join(found.split())
    if len(found) > APP_MESSAGE_LIMIT:
        found = found[:APP_MESSAGE_LIMIT] + "…"
    return found


def error_for_status(
    status: int,
    message: str,
    retry_after: float | None = None,
    app_message: str | None = None,
) -> ConnectorError:
    """Maps an HTTP error status to the normalized error.

    `app_message` (what the app itself said, see `app_message()`) follows `message` after a
    colon and is kept in `data.appMessage`, so a 409 says why the app refused.
    """
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
    if app_message:
        message = f"{message}: {app_message}"
    return ConnectorError(
        key,
        message,
        upstream_status=status,
        retry_after=retry_after,
        data={"appMessage": app_message} if app_message else None,
    )

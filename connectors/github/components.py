"""What GitHub's YAML cannot say: secondary rate limits, and pull requests in issue lists."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.runtime.components import Components
from connectors.runtime.errors import ConnectorError, parse_retry_after

# GitHub asks clients to wait at least a minute after a secondary rate limit without `retry-after`.
SECONDARY_LIMIT_WAIT = 60.0


class GitHubComponents(Components):
    """Hooks for GitHub's REST API."""

    def check_response(self, response: httpx.Response) -> ConnectorError | None:
        """A 403 that is a secondary rate limit (not a missing permission) means "slow down".

        Primary limits (403/429 with `x-ratelimit-remaining: 0`) are declared in YAML. Secondary
        limits come as 403 with `retry-after` or a message naming them, whatever remains.
        """
        if response.status_code != 403:
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is None and "secondary rate limit" not in _message(response).lower():
            return None
        return ConnectorError(
            "rate_limit_exceeded",
            _message(response) or "GitHub secondary rate limit",
            upstream_status=403,
            retry_after=SECONDARY_LIMIT_WAIT if retry_after is None else retry_after,
        )

    def records(self, body: Any, records_path: str | None) -> list[Any] | None:
        """Leaves pull requests out of issue lists (GitHub lists them as issues too)."""
        if records_path is None and isinstance(body, list):
            return [
                item for item in body if not (isinstance(item, dict) and "pull_request" in item)
            ]
        return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message") or "") if isinstance(body, dict) else ""

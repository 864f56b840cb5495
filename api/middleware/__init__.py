"""The API's limits as middleware: starts in flight, body sizes and per-caller request rates."""

from __future__ import annotations

from fastapi import FastAPI

from api.middleware.body_limit import BodyLimitMiddleware, RequestTooLarge, is_element_write
from api.middleware.inflight import InflightLimitMiddleware
from api.middleware.rate_limit import RateLimitMiddleware, TokenBuckets, caller_key
from core.settings import Settings

__all__ = ["RequestTooLarge", "install_limits"]


def install_limits(app: FastAPI, settings: Settings) -> None:
    """Adds the start back-pressure, the body size limit and, unless its rate is 0, the rate
    limit to `app` (innermost first: a request is rate limited, then sized, then queued)."""
    if settings.max_inflight_starts > 0:
        app.add_middleware(
            InflightLimitMiddleware,
            limit=settings.max_inflight_starts,
            wait=settings.start_queue_seconds,
        )

    def limit_for(method: str, path: str) -> int:
        if is_element_write(method, path) and settings.max_element_bytes:
            if settings.max_request_bytes:
                return min(settings.max_element_bytes, settings.max_request_bytes)
            return settings.max_element_bytes
        return settings.max_request_bytes

    app.add_middleware(BodyLimitMiddleware, limit_for=limit_for)
    if settings.rate_limit_per_second > 0:
        buckets = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
        # Added last, so it runs first: a caller over its rate costs no body read.
        app.add_middleware(
            RateLimitMiddleware,
            buckets=buckets,
            key_of=lambda header: caller_key(
                header, settings.workspace_secret, settings.workspace_key
            ),
        )

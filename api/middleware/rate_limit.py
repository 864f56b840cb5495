"""Per-caller API rate limits: a token bucket per customer (or admin token), in this process.

Several API processes each keep their own buckets, so the deployment-wide rate is this rate
times the number of processes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core.errors import OsmoError
from core.tokens import verify_token

_MAX_BUCKETS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets: each key may spend `burst` requests at once, refilled at `rate` per second.

    Args:
        rate: Tokens added per second.
        burst: Size of each bucket.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """Spends one token of `key`'s bucket; returns 0, or the seconds until one is available."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket, so idle callers cost no memory.
        refill = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[key]


def caller_key(authorization: str, secret: str, workspace_key: str) -> str | None:
    """Whose bucket a request spends: `customer:<tenantKey>` or `admin:<name>`; None for
    requests without a valid token (they are refused with 401 before doing any work)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = verify_token(token.strip(), secret, workspace_key)
    except OsmoError:
        return None
    if claims.tenant_key:
        return f"customer:{claims.tenant_key}"
    return f"admin:{claims.name or ''}"


def rate_limited_body(retry_after: int) -> dict[str, object]:
    """The error body of a 429."""
    return {
        "type": "rate_limit",
        "key": "rate_limit_exceeded",
        "message": f"Too many requests; retry in {retry_after} s",
        "data": {"retryAfter": retry_after},
    }


class RateLimitMiddleware:
    """Answers 429 `rate_limit_exceeded` with `Retry-After` once a caller's bucket is empty.

    Args:
        app: The wrapped ASGI app.
        buckets: The buckets to spend from.
        key_of: The bucket key of a request's `Authorization` header, or None for no limit.
    """

    def __init__(
        self, app: ASGIApp, buckets: TokenBuckets, key_of: Callable[[str], str | None]
    ) -> None:
        self.app = app
        self.buckets = buckets
        self.key_of = key_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        key = self.key_of(authorization)
        wait = self.buckets.take(key) if key else 0.0
        if wait:
            retry_after = max(1, math.ceil(wait))
            response = JSONResponse(
                rate_limited_body(retry_after),
                status_code=429,
                headers={"Retry-After": str(retry_after)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

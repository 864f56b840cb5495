"""Fake deals API shaped after Pipedrive's API v2 `GET /api/v2/deals`, for polling tests.

Pipedrive documents (developers.pipedrive.com, "Deals" v2): token auth in the `x-api-token`
header; `GET /api/v2/deals` with `updated_since` (RFC 3339, inclusive), `sort_by`
(`id` | `update_time` | `add_time`), `sort_direction` (`asc` | `desc`), `limit` (max 500) and
`cursor`; answers `{"success": true, "data": [...], "additional_data": {"next_cursor": ...}}`
with `add_time` / `update_time` to the second (`2024-01-01T00:00:00Z`). The cursor is keyset
(the position after the last deal of the page), so a deal updated while pages are read moves
to the end instead of shifting the pages after it. 429 answers carry `Retry-After`.

Times come from `clock` (seconds), which tests set and advance, so several changes can share
one second. Knobs: `fail_pages` (page numbers answered 500 while listed), `arm_rate_limit()`.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

TOKEN = "deals-token-123"
_MAX_LIMIT = 500


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _encode(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _decode(cursor: str) -> list[Any] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        return None
    return value if isinstance(value, list) and len(value) == 4 else None


class FakeDeals:
    """In-memory deals with a settable clock.

    Attributes:
        app: The FastAPI application.
        deals: Deals by id (`id`, `title`, `value`, `add_time`, `update_time`).
        api_requests: One dict per API call (`method`, `path`, `query`, `status`).
        clock: The app's time in seconds since the epoch.
        fail_pages: Page numbers (1-based, counted from the first page of a listing) that
            answer 500 when asked for: every time, or `fail_left` more times when it is set.
    """

    def __init__(self, *, seed: int = 0, clock: float = 1_704_067_200.0) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.deals: dict[int, dict[str, Any]] = {}
        self.api_requests: list[dict[str, Any]] = []
        self.fail_pages: set[int] = set()
        self.fail_left: int | None = None
        self.rate_limited = 0
        self.retry_after = 1
        self._next_id = 1
        for i in range(seed):
            self.create(f"Deal {i + 1}", 100 * (i + 1))
        self.app = FastAPI(title="Fake Deals", docs_url=None, redoc_url=None, openapi_url=None)
        self._install()

    # --- knobs ---------------------------------------------------------------------------

    def tick(self, seconds: float = 1) -> None:
        with self.lock:
            self.clock += seconds

    def create(self, title: str, value: int = 0) -> dict[str, Any]:
        with self.lock:
            now = rfc3339(self.clock)
            deal = {"id": self._next_id, "title": title, "value": value}
            deal.update(add_time=now, update_time=now)
            self.deals[self._next_id] = deal
            self._next_id += 1
            return deal

    def update(self, deal_id: int, **fields: Any) -> dict[str, Any]:
        with self.lock:
            deal = self.deals[deal_id]
            deal.update(fields, update_time=rfc3339(self.clock))
            return deal

    def delete(self, deal_id: int) -> None:
        with self.lock:
            del self.deals[deal_id]

    def arm_rate_limit(self, count: int, retry_after: int = 1) -> None:
        """Answer the next `count` API calls 429 with `Retry-After: retry_after`."""
        with self.lock:
            self.rate_limited, self.retry_after = count, retry_after

    def listings(self) -> list[dict[str, Any]]:
        """The deal list requests received, in order."""
        return [r for r in self.api_requests if r["path"] == "/api/v2/deals"]

    # --- API -----------------------------------------------------------------------------

    def _page(self, query: dict[str, str]) -> Response:
        limit = min(int(query.get("limit") or 100), _MAX_LIMIT)
        sort_by = query.get("sort_by", "id")
        if sort_by not in ("id", "update_time", "add_time"):
            return _error(400, "sort_by must be id, update_time or add_time")
        descending = query.get("sort_direction", "asc") == "desc"
        deals = list(self.deals.values())
        if "updated_since" in query:
            since = _seconds(query["updated_since"])
            if since is None:
                return _error(400, "updated_since must be an RFC 3339 time")
            deals = [d for d in deals if (_seconds(d["update_time"]) or 0) >= since]

        def position(deal: dict[str, Any]) -> tuple[Any, int]:
            return (deal["id"] if sort_by == "id" else deal[sort_by], deal["id"])

        deals.sort(key=position, reverse=descending)
        page_number = 1
        if query.get("cursor"):
            after = _decode(query["cursor"])
            if after is None or after[0] != sort_by:
                return _error(400, "Invalid cursor")
            mark = (after[1], after[2])
            deals = [d for d in deals if (position(d) < mark if descending else position(d) > mark)]
            page_number = int(after[3]) + 1
        page = deals[:limit]
        next_cursor = None
        if len(deals) > limit:
            next_cursor = _encode([sort_by, *position(page[-1]), page_number])
        if page_number in self.fail_pages and (self.fail_left is None or self.fail_left > 0):
            if self.fail_left is not None:
                self.fail_left -= 1
            return _error(500, "Internal server error")
        return JSONResponse(
            {
                "success": True,
                "data": [dict(d) for d in page],
                "additional_data": {"next_cursor": next_cursor},
            }
        )

    def _install(self) -> None:
        app = self.app

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Response:
            entry: dict[str, Any] = {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "status": None,
            }
            refusal: Response | None = None
            with self.lock:
                self.api_requests.append(entry)
                if request.headers.get("x-api-token") != TOKEN:
                    refusal = _error(401, "unauthorized access")
                elif self.rate_limited > 0:
                    self.rate_limited -= 1
                    refusal = _error(429, "Rate limit exceeded")
                    refusal.headers["Retry-After"] = str(self.retry_after)
            response = refusal or await call_next(request)
            entry["status"] = response.status_code
            return response

        @app.get("/v1/users/me")
        async def me() -> Response:
            return JSONResponse({"success": True, "data": {"id": 1, "name": "Agent"}})

        @app.get("/api/v2/deals")
        async def deals(request: Request) -> Response:
            with self.lock:
                return self._page(dict(request.query_params))


def _error(status: int, message: str) -> Response:
    return JSONResponse({"success": False, "error": message}, status_code=status)

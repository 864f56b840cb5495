"""Fake helpdesk shaped after Zendesk's REST API (API-token Basic auth or ``X-Api-Key``).

Run standalone with ``python -m tests.fakes.helpdesk --port 8002`` (agent
``demo@example.com`` with API token ``demo-token``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.web import (
    base_url,
    iso,
    parse_basic_auth,
    record_request,
    run_standalone,
    same,
)

_SEED_EPOCH = 1_704_067_200.0  # 2024-01-01T00:00:00Z
_MAX_PER_PAGE = 100
_STATUSES = ["new", "open", "pending", "solved"]
_PRIORITIES = ["low", "normal", "high", "urgent"]


def _error(status_code: int, error: str, description: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"error": error}
    if description is not None:
        body["description"] = description
    body.update(extra)
    headers = {"WWW-Authenticate": 'Basic realm="Web Password"'} if status_code == 401 else None
    return JSONResponse(body, status_code=status_code, headers=headers)


def _positive_int(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None


class FakeHelpdesk:
    """In-memory Zendesk-like helpdesk.

    Attributes:
        app: The FastAPI application.
        agents: Agent user records by email (each also carries its ``api_token``).
        tickets: Ticket records by id.
        api_requests: One dict per ``/api/...`` call, rejected ones included (same shape as
            ``FakeCRM.api_requests``).
    """

    def __init__(self, *, seed_tickets: int = 25) -> None:
        """Create the fake.

        Args:
            seed_tickets: Number of deterministic tickets to create (ids 1..N).
        """
        self.lock = threading.RLock()
        self.agents: dict[str, dict[str, Any]] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.api_requests: list[dict[str, Any]] = []
        self.rate_limit_remaining = 0
        self.rate_limit_retry_after = 1
        for i in range(seed_tickets):
            ticket = {
                "subject": f"Seeded ticket #{i + 1}",
                "description": f"Customer problem number {i + 1}.",
                "status": _STATUSES[i % len(_STATUSES)],
                "priority": _PRIORITIES[i % len(_PRIORITIES)],
                "requester_id": None,
                "tags": [f"seed{i % 3}"],
            }
            self._store_ticket(ticket, _SEED_EPOCH + 3600 * i)
        self.app = FastAPI(title="Fake Helpdesk", docs_url=None, redoc_url=None, openapi_url=None)
        self._install()

    def add_agent(self, email: str, api_token: str, name: str | None = None) -> dict[str, Any]:
        """Add an agent who can authenticate with ``email/token:api_token`` or ``X-Api-Key``.

        Args:
            email: Agent email (the Basic username is ``<email>/token``).
            api_token: The agent's API token.
            name: Display name; defaults to the email's local part.

        Returns:
            The stored user record.
        """
        with self.lock:
            user = {
                "id": 360_000_000 + len(self.agents) + 1,
                "name": name or email.split("@")[0].title(),
                "email": email,
                "role": "agent",
                "active": True,
                "created_at": iso(_SEED_EPOCH),
                "updated_at": iso(_SEED_EPOCH),
                "api_token": api_token,
            }
            self.agents[email] = user
            return user

    def arm_rate_limit(self, count: int, retry_after: int = 1) -> None:
        """Answer the next ``count`` API calls with 429 and ``Retry-After``.

        Args:
            count: Number of API calls to reject.
            retry_after: Seconds to put in the ``Retry-After`` header.
        """
        with self.lock:
            self.rate_limit_remaining = count
            self.rate_limit_retry_after = retry_after

    def _store_ticket(self, fields: dict[str, Any], ts: float) -> dict[str, Any]:
        ticket_id = max(self.tickets, default=0) + 1
        ticket = {"id": ticket_id, "url": None, "type": None, "external_id": None, **fields}
        ticket.update(id=ticket_id, created_at=iso(ts), updated_at=iso(ts))
        self.tickets[ticket_id] = ticket
        return ticket

    def _authenticate(self, request: Request) -> dict[str, Any] | None:
        api_key = request.headers.get("x-api-key")
        basic = parse_basic_auth(request.headers.get("authorization"))
        for agent in self.agents.values():
            if api_key is not None and same(agent["api_token"], api_key):
                return agent
            if (
                basic is not None
                and basic[0] == f"{agent['email']}/token"
                and same(agent["api_token"], basic[1])
            ):
                return agent
        return None

    def _public(self, request: Request, ticket: dict[str, Any]) -> dict[str, Any]:
        return {**ticket, "url": f"{base_url(request)}/api/v2/tickets/{ticket['id']}.json"}

    def _install(self) -> None:
        app = self.app

        @app.middleware("http")
        async def api_guard(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            if not request.url.path.startswith("/api/"):
                return await call_next(request)
            entry = await record_request(request, self.api_requests)
            with self.lock:
                agent = self._authenticate(request)
                limited = self.rate_limit_remaining > 0
                if limited:
                    self.rate_limit_remaining -= 1
            if limited:
                response = _error(
                    429, "APIRateLimitExceeded", "Number of allowed API requests exceeded"
                )
                response.headers["Retry-After"] = str(self.rate_limit_retry_after)
            elif agent is None:
                response = _error(401, "Couldn't authenticate you")
            else:
                request.state.agent = agent
                response = await call_next(request)
            entry["status"] = response.status_code
            return response

        @app.get("/api/v2/users/me.json")
        async def me(request: Request) -> Response:
            user = {k: v for k, v in request.state.agent.items() if k != "api_token"}
            user["url"] = f"{base_url(request)}/api/v2/users/{user['id']}.json"
            return JSONResponse({"user": user})

        @app.get("/api/v2/tickets.json")
        async def list_tickets(request: Request) -> Response:
            page = _positive_int(request.query_params.get("page", "1"))
            per_page = _positive_int(request.query_params.get("per_page", str(_MAX_PER_PAGE)))
            if page is None or per_page is None:
                return _error(400, "InvalidPaginationParameter", "page/per_page must be >= 1")
            per_page = min(per_page, _MAX_PER_PAGE)
            with self.lock:
                ordered = [self.tickets[k] for k in sorted(self.tickets)]
            chunk = ordered[(page - 1) * per_page : page * per_page]
            root = f"{base_url(request)}/api/v2/tickets.json"
            has_next = page * per_page < len(ordered)
            body = {
                "tickets": [self._public(request, t) for t in chunk],
                "next_page": f"{root}?page={page + 1}&per_page={per_page}" if has_next else None,
                "previous_page": f"{root}?page={page - 1}&per_page={per_page}"
                if page > 1
                else None,
                "count": len(ordered),
            }
            return JSONResponse(body)

        @app.get("/api/v2/tickets/{ticket_id}.json")
        async def get_ticket(ticket_id: int, request: Request) -> Response:
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return _error(404, "RecordNotFound", "Not found")
            return JSONResponse({"ticket": self._public(request, ticket)})

        @app.post("/api/v2/tickets.json")
        async def create_ticket(request: Request) -> Response:
            try:
                payload = await request.json()
            except ValueError:
                return _error(400, "Unprocessable Entity", "Invalid JSON body")
            fields = payload.get("ticket") if isinstance(payload, dict) else None
            comment = fields.get("comment") if isinstance(fields, dict) else None
            text = (
                (comment.get("body") or comment.get("html_body"))
                if isinstance(comment, dict)
                else None
            )
            if not isinstance(fields, dict) or not text:
                details = {"base": [{"description": "Description: cannot be blank"}]}
                return _error(422, "RecordInvalid", "Record validation errors", details=details)
            ticket_fields = {
                "subject": fields.get("subject") or str(text)[:50],
                "description": str(text),
                "status": fields.get("status", "new"),
                "priority": fields.get("priority"),
                "requester_id": fields.get("requester_id", request.state.agent["id"]),
                "tags": list(fields.get("tags", [])),
            }
            if "external_id" in fields:
                ticket_fields["external_id"] = fields["external_id"]
            with self.lock:
                ticket = self._store_ticket(ticket_fields, time.time())
            public = self._public(request, ticket)
            return JSONResponse(
                {"ticket": public}, status_code=201, headers={"Location": public["url"]}
            )


def main(argv: list[str] | None = None) -> None:
    """Run the fake standalone with demo credentials.

    Args:
        argv: Command-line arguments (defaults to ``sys.argv``).
    """
    fake = FakeHelpdesk()
    fake.add_agent("demo@example.com", "demo-token")
    run_standalone(
        fake.app,
        name="fake helpdesk",
        port=8002,
        notes="agent demo@example.com, API token demo-token",
        argv=argv,
    )


if __name__ == "__main__":
    main()

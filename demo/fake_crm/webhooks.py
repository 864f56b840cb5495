"""Webhooks of the fake CRM: subscriptions registered through its API, signed deliveries.

Shaped after how CRMs with per-account webhook APIs behave (HubSpot's v3 subscriptions, Pipedrive's
`POST /v1/webhooks`): a client registers `{url, events, secret}`, the CRM POSTs one JSON event
per change to every subscription of that event type, signed with the subscription's secret, and
redelivers (at least once) until it gets a 2xx.

- Register: `POST /api/v1/webhooks` `{url, events: [contact.created|contact.updated|
  contact.deleted], secret}` → 201 `{id, url, events, createdAt}` (the secret is never answered);
  `GET /api/v1/webhooks`; `DELETE /api/v1/webhooks/{id}` → 204 (404 when unknown).
- Delivery: `POST <url>` with `{eventId, eventType, occurredAt, objectId, object}`, headers
  `X-Crm-Request-Timestamp: <unix seconds>` and `X-Crm-Signature: v1=<hex HMAC-SHA256 of
  "<timestamp>.<body>" keyed with the secret>`. A non-2xx or a network error is retried up to
  `max_attempts` times with exponential backoff; the same `eventId` is sent each time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.fake_crm.api import api_error
from demo.web import iso

if TYPE_CHECKING:
    from demo.fake_crm.app import FakeCRM

EVENT_TYPES = ("contact.created", "contact.updated", "contact.deleted")


@dataclass
class Subscription:
    id: str
    url: str
    events: list[str]
    secret: str
    created_at: str


@dataclass
class Delivery:
    """One event for one subscription, as sent (and resent)."""

    subscription_id: str
    url: str
    body: bytes
    secret: str
    event_id: str
    attempts: list[int | str] = field(default_factory=list)
    """Status code of each attempt, or the network error's name."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        "X-Crm-Request-Timestamp": timestamp,
        "X-Crm-Signature": sign(secret, timestamp, body),
        "User-Agent": "FakeCRM-Webhooks/1.0",
    }


class Webhooks:
    """The CRM's webhook subscriptions and its sender."""

    def __init__(self, crm: FakeCRM, *, max_attempts: int = 5, backoff: float = 0.5) -> None:
        self.crm = crm
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.subscriptions: dict[str, Subscription] = {}
        self.deliveries: list[Delivery] = []
        self.paused = False
        """While True, events are kept (in `held`) instead of sent; `resume()` sends them."""
        self.held: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    # -------------------------------------------------------------- events

    def event(self, event_type: str, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "eventId": uuid.uuid4().hex,
            "eventType": event_type,
            "occurredAt": int(self.crm.clock() * 1000),
            "objectId": record["id"],
            "object": record,
        }

    def deliveries_for(self, event: dict[str, Any]) -> list[Delivery]:
        body = json.dumps(event, separators=(",", ":")).encode()
        return [
            Delivery(sub.id, sub.url, body, sub.secret, event["eventId"])
            for sub in list(self.subscriptions.values())
            if event["eventType"] in sub.events
        ]

    def emit(self, event_type: str, record: dict[str, Any]) -> None:
        """Sends the event to every subscription of its type, in the background."""
        for delivery in self.deliveries_for(self.event(event_type, record)):
            if self.paused:
                self.held.append(delivery)
            else:
                self._spawn(self.send(delivery))

    def resume(self) -> None:
        self.paused = False
        held, self.held = self.held, []
        for delivery in held:
            self._spawn(self.send(delivery))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, delivery: Delivery, *, retry: bool = True) -> int | str:
        """POSTs the delivery (retrying on failure when `retry`); the last attempt's outcome."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=30)
        self.deliveries.append(delivery)
        outcome: int | str = "not-sent"
        for attempt in range(self.max_attempts if retry else 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = await self._client.post(
                    delivery.url,
                    content=delivery.body,
                    headers=signed_headers(delivery.secret, delivery.body, self.crm.clock()),
                )
                outcome = response.status_code
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            delivery.attempts.append(outcome)
            if isinstance(outcome, int) and 200 <= outcome < 300:
                break
        return outcome

    async def burst(
        self,
        subscription_id: str,
        count: int,
        *,
        redeliver: float = 0.1,
        concurrency: int = 10,
        seed: int = 7,
    ) -> dict[str, Any]:
        """Creates `count` contacts and sends their `contact.created` events to one
        subscription, a `redeliver` share of them twice, all in shuffled order, `concurrency`
        at a time (as a CRM working off a backlog does). Answers what was sent."""
        sub = self.subscriptions[subscription_id]
        rng = random.Random(seed)
        deliveries = []
        for i in range(count):
            with self.crm.lock:
                record = self.crm.new_contact(
                    {"email": f"burst-{seed}-{i}@example.com", "firstname": f"Burst{i}"}
                )
            body = json.dumps(self.event("contact.created", record), separators=(",", ":"))
            event_id = json.loads(body)["eventId"]
            deliveries.append(Delivery(sub.id, sub.url, body.encode(), sub.secret, event_id))
        repeated = rng.sample(deliveries, int(count * redeliver))
        queue = deliveries + [
            Delivery(d.subscription_id, d.url, d.body, d.secret, d.event_id) for d in repeated
        ]
        rng.shuffle(queue)
        outcomes: list[int | str] = []
        pending = iter(queue)

        async def worker() -> None:
            for delivery in pending:
                outcomes.append(await self.send(delivery, retry=False))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {
            "events": count,
            "deliveries": len(queue),
            "eventIds": sorted(d.event_id for d in deliveries),
            "statuses": outcomes,
        }

    async def drain(self, timeout: float = 30) -> None:
        """Waits for the background sends to finish."""
        deadline = time.monotonic() + timeout
        while self._tasks and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


def install(app: FastAPI, crm: FakeCRM) -> None:
    """Adds the webhook subscription routes (under `/api/`, so bearer-authenticated)."""
    hooks: Webhooks = crm.webhooks

    def public(sub: Subscription) -> dict[str, Any]:
        return {"id": sub.id, "url": sub.url, "events": sub.events, "createdAt": sub.created_at}

    def invalid(message: str) -> JSONResponse:
        return api_error(400, "VALIDATION_ERROR", message)

    @app.post("/api/v1/webhooks")
    async def create_webhook(request: Request) -> Response:
        try:
            payload = await request.json()
        except ValueError:
            return invalid("Invalid input JSON.")
        if not isinstance(payload, dict):
            return invalid("Body must be an object.")
        url, events, secret = payload.get("url"), payload.get("events"), payload.get("secret")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return invalid("url must be an http(s) URL.")
        if not isinstance(events, list) or not events or not set(events) <= set(EVENT_TYPES):
            return invalid(f"events must be a non-empty list of {', '.join(EVENT_TYPES)}.")
        if not isinstance(secret, str) or len(secret) < 16:
            return invalid("secret must be a string of at least 16 characters.")
        sub = Subscription(uuid.uuid4().hex[:12], url, list(events), secret, iso(crm.clock()))
        with crm.lock:
            hooks.subscriptions[sub.id] = sub
        return JSONResponse(public(sub), status_code=201)

    @app.get("/api/v1/webhooks")
    async def list_webhooks() -> Response:
        return JSONResponse({"results": [public(s) for s in hooks.subscriptions.values()]})

    @app.delete("/api/v1/webhooks/{webhook_id}")
    async def delete_webhook(webhook_id: str) -> Response:
        with crm.lock:
            if hooks.subscriptions.pop(webhook_id, None) is None:
                return api_error(404, "OBJECT_NOT_FOUND", f"Webhook {webhook_id} not found.")
        return Response(status_code=204)

"""What bench/webhook_ingest.py and bench/webhook_flow.py share: the stack, a stub app that takes
webhook registrations, and a sender of signed webhooks.

The stack is bench/peer_flow.py's: a Temporal dev server (database file, Osmo's flags), the API
and the worker as subprocesses on one SQLite file. The external app is the `fake-helpdesk`
connector (tests/fake_connectors/) pointed at a stub in this process that:

- answers the connector's test request;
- takes webhook registrations (`POST /api/v2/webhooks`, Zendesk-shaped: `{webhook: {endpoint,
  subscriptions, signing_secret}}`) and keeps the endpoint and secret Osmo registered, as the
  app would;
- counts the records the flow POSTs (bench/peer_flow.py's `Stub`), with their arrival times.

The sender signs each webhook as the app does (base64 HMAC-SHA256 of timestamp + body with the
registered secret), so Osmo's ingress checks a real signature on every request.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.peer_flow import ADMIN, API_KEY, CUSTOMER, RECORDS_PATH, Stub, mapping, payload

WEBHOOKS_PATH = "/api/v2/webhooks"


@dataclass
class WebhookStub(Stub):
    """`Stub` plus webhook registrations and arrival times of records."""

    registrations: list[dict[str, Any]] = field(default_factory=list)
    registered: asyncio.Event = field(default_factory=asyncio.Event)
    arrivals: dict[int, float] = field(default_factory=dict)
    """ref → perf_counter() of its first arrival."""

    def route(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        path = target.split("?")[0]
        if headers.get("x-api-key") == API_KEY and path == WEBHOOKS_PATH and method == "POST":
            webhook = json.loads(body)["webhook"]
            registration = {"id": f"wh-{len(self.registrations) + 1}", **webhook}
            self.registrations.append(registration)
            self.registered.set()
            return 201, {
                "webhook": {k: v for k, v in registration.items() if k != "signing_secret"}
            }
        if headers.get("x-api-key") == API_KEY and path.startswith(WEBHOOKS_PATH + "/"):
            return (204 if method == "DELETE" else 404), {}
        status, answer = super().route(method, target, headers, body)
        if method == "POST" and path == RECORDS_PATH and status == 201:
            self.arrivals.setdefault(answer["ref"], time.perf_counter())
        return status, answer


def flow(trigger_filter: Any = None) -> dict[str, Any]:
    """A ticket-created webhook → map 5 fields → POST them (n8n's benchmark flow)."""
    trigger: dict[str, Any] = {"collectionKey": "tickets"}
    if trigger_filter is not None:
        trigger["filter"] = trigger_filter
    return {
        "key": "webhook-flow",
        "name": "Webhook, map and post",
        "nodes": {
            "trigger": {
                "type": "data-record-created-trigger",
                "config": trigger,
                "links": [{"key": "map"}],
            },
            "map": {
                "type": "transform-data",
                "config": {"value": mapping("input.trigger.payload.ticket")},
                "links": [{"key": "post"}],
            },
            "post": {
                "type": "api-request-to-external-app",
                "config": {"method": "POST", "path": RECORDS_PATH, "body": {"$var": "input.map"}},
            },
        },
    }


async def seed(
    client: httpx.AsyncClient, api: str, stub_url: str, stub: WebhookStub, flow_body: Any
) -> tuple[str, str, str]:
    """(connection id, subscription id, webhook URL) once Osmo registered its webhook."""

    async def ok(method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        response = await client.request(method, f"{api}{path}", headers=headers, json=body)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    await ok(
        "POST",
        "/integrations",
        ADMIN,
        {
            "key": "stub",
            "connectorKey": "fake-helpdesk",
            "parameters": {"baseUrl": stub_url},
            "authOptions": ["api-key"],
        },
    )
    await ok("POST", "/flows", ADMIN, flow_body)
    connection = await ok(
        "POST", "/connections", CUSTOMER, {"integrationKey": "stub", "inputs": {"apiKey": API_KEY}}
    )
    connection_id = str(connection["id"])
    # The customer's instance of the flow, enabled: Osmo subscribes and registers its webhook.
    await ok("GET", f"/connections/{connection_id}/flows/webhook-flow", CUSTOMER)
    await ok(
        "PATCH", f"/connections/{connection_id}/flows/webhook-flow", CUSTOMER, {"enabled": True}
    )
    await asyncio.wait_for(stub.registered.wait(), timeout=60)
    endpoint = str(stub.registrations[-1]["endpoint"])
    subscription_id = endpoint.rstrip("/").rsplit("/", 1)[-1]
    return connection_id, subscription_id, endpoint


def ticket_event(seq: int) -> bytes:
    return json.dumps(
        {"id": f"evt-{seq}", "type": "ticket.created", "ticket": {"id": seq, **payload(seq)}},
        separators=(",", ":"),
    ).encode()


def signed(secret: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Helpdesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Helpdesk-Webhook-Signature-Timestamp": timestamp,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

"""The fake CRM's webhooks behave as its docstring (and the vendors it is shaped after) says:
registration through its API, one signed delivery per change, redelivery until a 2xx."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes import FakeCRM
from tests.fakes.server import serve_async

SECRET = "receiver-secret-0123456789"


class Receiver:
    """An HTTP endpoint that records what it gets and answers the statuses it is told to."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = statuses or []

    async def handle(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.body()))
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])


def verified(headers: dict[str, str], body: bytes) -> bool:
    """Checks the signature the way a receiver following the fake's docs would."""
    timestamp = headers["x-crm-request-timestamp"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["x-crm-signature"], "v1=" + expected.hexdigest())


async def token(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"},
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def until(check: Any, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_registered_webhook_gets_signed_events_redelivered_until_accepted() -> None:
    crm = FakeCRM(seed_contacts=0)
    crm.webhooks.backoff = 0.01
    crm.register_client("c", "s")
    receiver = Receiver(statuses=[500])
    async with (
        serve_async(crm.app) as crm_url,
        serve_async(receiver.app()) as hook_url,
        httpx.AsyncClient(base_url=crm_url) as client,
    ):
        auth = await token(client)
        bad = await client.post("/api/v1/webhooks", headers=auth, json={"url": "nope"})
        assert bad.status_code == 400
        created = await client.post(
            "/api/v1/webhooks",
            headers=auth,
            json={"url": f"{hook_url}/hook", "events": ["contact.created"], "secret": SECRET},
        )
        assert created.status_code == 201 and "secret" not in created.json()
        contact = await client.post(
            "/api/v1/contacts", headers=auth, json={"properties": {"email": "a@example.com"}}
        )
        await until(lambda: len(receiver.requests) == 2)
        (first_headers, first), (second_headers, second) = receiver.requests
        assert first == second, "a redelivery repeats the same event"
        assert verified(first_headers, first) and verified(second_headers, second)
        event = json.loads(first)
        assert event["eventType"] == "contact.created"
        assert event["objectId"] == contact.json()["id"]
        tampered = dict(first_headers, **{"x-crm-signature": "v1=" + "0" * 64})
        assert not verified(tampered, first)

        # An update is not subscribed to; after deletion nothing more is sent.
        await client.patch(
            f"/api/v1/contacts/{contact.json()['id']}",
            headers=auth,
            json={"properties": {"firstname": "A"}},
        )
        gone = await client.delete(f"/api/v1/webhooks/{created.json()['id']}", headers=auth)
        assert gone.status_code == 204
        await client.post(
            "/api/v1/contacts", headers=auth, json={"properties": {"email": "b@example.com"}}
        )
        await crm.webhooks.drain()
        await asyncio.sleep(0.1)
        assert len(receiver.requests) == 2


async def test_burst_redelivers_a_share_in_shuffled_order() -> None:
    crm = FakeCRM(seed_contacts=0)
    crm.register_client("c", "s")
    receiver = Receiver()
    async with (
        serve_async(crm.app) as crm_url,
        serve_async(receiver.app()) as hook_url,
        httpx.AsyncClient(base_url=crm_url) as client,
    ):
        auth = await token(client)
        created = await client.post(
            "/api/v1/webhooks",
            headers=auth,
            json={"url": f"{hook_url}/hook", "events": ["contact.created"], "secret": SECRET},
        )
        sent = await crm.webhooks.burst(created.json()["id"], 50, redeliver=0.1, concurrency=5)
    ids = [json.loads(body)["eventId"] for _, body in receiver.requests]
    assert sent["deliveries"] == len(ids) == 55
    assert sorted(set(ids)) == sent["eventIds"]
    assert ids != sorted(ids, key=sent["eventIds"].index), "the order is shuffled"
    assert all(verified(headers, body) for headers, body in receiver.requests)

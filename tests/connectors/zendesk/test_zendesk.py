"""Zendesk connector against replayed Support API responses shaped as Zendesk documents them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.runtime import ConnectorError
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from connectors.runtime.webhooks import WebhookVerificationError, verify_signature
from core.formulas import evaluate
from tests.connectors.harness import Replay, builtin_registry, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
SUBDOMAIN = {"subdomain": "acme"}
CREDENTIALS = {
    "access_token": "b2a3d1f7c0e94c8d9b6e5f4a3b2c1d0e",
    "refresh_token": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "token_type": "bearer",
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


async def test_tickets_list_follows_the_after_cursor() -> None:
    page1, page2 = fixture("tickets_page1"), fixture("tickets_page2")
    replay = Replay().on("GET", "/api/v2/tickets", json_response(page1), json_response(page2))
    async with harness(replay, "zendesk", credentials=CREDENTIALS, inputs=SUBDOMAIN) as (
        runtime,
        ctx,
    ):
        first = await run_method(runtime, ctx, "tickets", "list")
        second = await run_method(runtime, ctx, "tickets", "list", cursor=first["cursor"])

    opening, following = replay.requests
    assert opening.url.host == "acme.zendesk.com"
    assert opening.headers["authorization"] == f"Bearer {CREDENTIALS['access_token']}"
    assert opening.url.params["page[size]"] == "100"
    assert "page[after]" not in opening.url.params
    assert following.url.params["page[after]"] == page1["meta"]["after_cursor"]
    # meta.has_more=false ends the listing even though Zendesk still sends an after_cursor.
    assert first["cursor"] is not None and second["cursor"] is None

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == ["35436", "35437", "35440"]
    fire = records[0]
    assert fire["name"] == "Help, my printer is on fire!"
    assert fire["createdTime"] == "2024-06-03T09:12:45Z"
    assert fire["updatedTime"] == "2024-06-10T16:40:02Z"
    assert fire["fields"]["priority"] == "high" and fire["fields"]["tags"] == [
        "enterprise",
        "other_tag",
    ]
    assert records[2]["fields"]["due_at"] == "2024-06-28T17:00:00Z"


async def test_create_ticket_posts_the_ticket_envelope() -> None:
    replay = Replay().on("POST", "/api/v2/tickets", json_response(fixture("ticket_created"), 201))
    fields = {
        "subject": "Checkout fails with a 502",
        "comment": {"body": "Customers see a 502 on the payment step since 09:40 UTC."},
        "priority": "urgent",
        "type": "problem",
        "requester_id": 20978392,
        "tags": ["checkout", "incident"],
    }
    async with harness(replay, "zendesk", credentials=CREDENTIALS, inputs=SUBDOMAIN) as (
        runtime,
        ctx,
    ):
        result = await run_method(runtime, ctx, "tickets", "create", fields=fields)

    request = replay.requests[0]
    assert (request.method, str(request.url)) == ("POST", "https://acme.zendesk.com/api/v2/tickets")
    assert replay.body() == {"ticket": fields}
    record = result["record"]
    assert record["id"] == "35441"
    assert record["name"] == "Checkout fails with a 502"
    assert record["fields"]["description"].startswith("Customers see a 502")
    assert record["createdTime"] == "2024-06-13T10:00:00Z"


async def test_a_422_is_bad_request_with_zendesks_description() -> None:
    replay = Replay().on(
        "PUT", "/api/v2/tickets/35436", json_response(fixture("error_record_invalid"), 422)
    )
    async with harness(replay, "zendesk", credentials=CREDENTIALS, inputs=SUBDOMAIN) as (
        runtime,
        ctx,
    ):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "tickets", "update", id="35436", fields={"subject": ""})

    assert caught.value.key == "bad_request"
    assert "Record validation errors" in caught.value.message


async def test_add_ticket_comment_puts_the_comment_and_status() -> None:
    updated = {"ticket": fixture("tickets_page1")["tickets"][0], "audit": {"id": 1}}
    replay = Replay().on("PUT", "/api/v2/tickets/35436", json_response(updated))
    async with harness(replay, "zendesk", credentials=CREDENTIALS, inputs=SUBDOMAIN) as (
        runtime,
        ctx,
    ):
        output = await run_operation(
            runtime,
            ctx,
            "add-ticket-comment",
            {"ticketId": 35436, "body": "We are on it.", "public": False, "status": "pending"},
        )

    assert replay.body() == {
        "ticket": {"status": "pending", "comment": {"body": "We are on it.", "public": False}}
    }
    assert output["id"] == 35436


async def test_users_match_by_email_and_map_to_unified_contacts() -> None:
    replay = Replay().on("GET", "/api/v2/users/search", json_response(fixture("users_search")))
    async with harness(replay, "zendesk", credentials=CREDENTIALS, inputs=SUBDOMAIN) as (
        runtime,
        ctx,
    ):
        matched = await run_method(
            runtime, ctx, "users", "match", query={"email": "grace@example.com"}
        )
        mapping = ctx.connector.collection("users").udm  # type: ignore[union-attr]

    assert replay.requests[0].url.params["query"] == "grace@example.com"
    assert "external_id" not in replay.requests[0].url.params
    record = matched["record"]
    assert record["id"] == "20978392" and record["name"] == "Grace Brewster Hopper"
    assert mapping is not None and mapping.model == "contacts"
    assert evaluate(mapping.to_udm, {"fields": record["fields"]}) == {
        "id": "20978392",
        "fullName": "Grace Brewster Hopper",
        "firstName": "Grace",
        "lastName": "Brewster Hopper",
        "email": "grace@example.com",
        "phone": "+1 555 0100",
        "createdTime": "2023-11-02T08:15:00Z",
        "updatedTime": "2024-05-30T12:01:44Z",
    }
    assert evaluate(mapping.from_udm, {"udm": {"firstName": "Ada", "lastName": "Lovelace"}}) == {
        "name": "Ada Lovelace"
    }


async def test_organizations_and_tickets_map_to_unified_models() -> None:
    replay = Replay().on(
        "GET", "/api/v2/organizations/509974", json_response(fixture("organization"))
    )
    async with harness(replay, "zendesk", credentials=CREDENTIALS, inputs=SUBDOMAIN) as (
        runtime,
        ctx,
    ):
        found = await run_method(runtime, ctx, "organizations", "find_by_id", id="509974")
        companies = ctx.connector.collection("organizations").udm  # type: ignore[union-attr]
        tasks = ctx.connector.collection("tickets").udm  # type: ignore[union-attr]

    assert companies is not None and tasks is not None
    company = evaluate(companies.to_udm, {"fields": found["record"]["fields"]})
    assert company["name"] == "Rebel Alliance" and company["domain"] == "rebels.example.org"
    ticket = fixture("tickets_page1")["tickets"][0]
    task = evaluate(tasks.to_udm, {"fields": ticket})
    assert task["title"] == "Help, my printer is on fire!"
    assert (task["status"], task["assigneeId"], task["id"]) == ("open", "235323", "35436")
    unassigned = evaluate(tasks.to_udm, {"fields": fixture("tickets_page1")["tickets"][1]})
    assert "assigneeId" not in unassigned


def test_webhooks_are_verified_over_the_iso_timestamp_and_body() -> None:
    webhooks = builtin_registry().get("zendesk").webhooks  # type: ignore[union-attr]
    assert webhooks is not None and webhooks.signature is not None
    body = (FIXTURES / "event_ticket_created.json").read_bytes()
    secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ"
    timestamp = "2024-06-13T10:00:01Z"
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    headers = {
        "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
    }
    context = {"webhook": {"id": "01F1KRFQ6BG29CNWFR60NK5FNY", "secret": secret}}

    verify_signature(webhooks.signature, headers, body, context)
    with pytest.raises(WebhookVerificationError):
        verify_signature(webhooks.signature, headers, body, {"webhook": {"secret": "wrong"}})
    event = json.loads(body)
    assert event["type"] == "zen:event-type:ticket.created" and event["detail"]["id"] == "35441"

"""Intercom connector against replayed responses shaped as Intercom documents them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import BUILTIN, load_connector
from connectors.runtime import ConnectorError
from connectors.runtime.collections import run_method
from connectors.runtime.mapping import locate
from connectors.runtime.operations import run_operation
from connectors.runtime.templates import render
from connectors.spec import WebhookEvents
from core.formulas import evaluate, matches_filter
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = load_connector(BUILTIN / "intercom" / "connector.yaml")
CREDENTIALS = {"access_token": "dG9rOjdmOTk3NDhkXzA2YTVfNGYxOA==", "token_type": "Bearer"}
INPUTS = {"workspaceId": "ecahpwf5"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def connected(replay: Replay, **options: Any) -> Any:
    options.setdefault("credentials", CREDENTIALS)
    return harness(replay, "intercom", inputs=INPUTS, expires_in=None, **options)


async def test_contacts_list_pages_through_search_with_starting_after() -> None:
    page1, page2 = fixture("contacts_page1"), fixture("contacts_page2")
    replay = Replay().on("POST", "/contacts/search", json_response(page1), json_response(page2))
    async with connected(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "contacts", "list")
        second = await run_method(runtime, ctx, "contacts", "list", cursor=first["cursor"])

    assert first["cursor"] is not None and second["cursor"] is None
    opening, following = replay.requests
    assert opening.headers["intercom-version"] == "2.16"
    assert opening.headers["authorization"] == f"Bearer {CREDENTIALS['access_token']}"
    assert replay.body(0) == {
        "query": {"field": "updated_at", "operator": ">", "value": 0},
        "pagination": {"per_page": 50},
    }
    assert replay.body(1)["pagination"] == {
        "per_page": 50,
        "starting_after": page1["pages"]["next"]["starting_after"],
    }
    assert following.url.params == opening.url.params

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == [
        "6657a1c4f2e3b1a9c0d4e5f6",
        "6657a1c4f2e3b1a9c0d4e5f7",
        "6657a1c4f2e3b1a9c0d4e5f8",
    ]
    zoe = records[0]
    assert zoe["name"] == "Zoe Carter"
    assert zoe["createdTime"] == "2024-05-30T08:50:12.000Z"
    assert zoe["updatedTime"] == "2024-06-19T12:30:00.000Z"
    assert zoe["fields"]["custom_attributes"] == {"plan": "growth"}
    # A lead without a name is named by its email.
    assert records[1]["name"] == "visitor@lumen.example"


async def test_companies_list_pages_by_number() -> None:
    page1, page2 = fixture("companies_page1"), fixture("companies_page2")
    replay = Replay().on("POST", "/companies/list", json_response(page1), json_response(page2))
    async with connected(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "companies", "list")
        second = await run_method(runtime, ctx, "companies", "list", cursor=first["cursor"])

    opening, following = replay.requests
    assert dict(opening.url.params) == {"page": "1", "per_page": "50"}
    assert dict(following.url.params) == {"page": "2", "per_page": "50"}
    assert second["cursor"] is None
    assert [r["name"] for r in first["records"] + second["records"]] == ["Brightline", "Lumen Labs"]


async def test_create_contact_posts_the_fields() -> None:
    replay = Replay().on("POST", "/contacts", json_response(fixture("contact_created")))
    fields = {
        "role": "user",
        "external_id": "usr_5001",
        "email": "sam@ridge.example",
        "name": "Sam Ridge",
    }
    async with connected(replay) as (runtime, ctx):
        result = await run_method(runtime, ctx, "contacts", "create", fields=fields)

    (request,) = replay.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.intercom.io/contacts"
    assert request.headers["intercom-version"] == "2.16"
    assert replay.body() == fields
    record = result["record"]
    assert record["id"] == "667a0b2ce5d4c3b2a1f0e9d8"
    assert record["name"] == "Sam Ridge"
    assert record["createdTime"] == "2024-07-01T10:00:00.000Z"


async def test_match_ands_one_equality_per_query_field() -> None:
    page = {**fixture("contacts_page2"), "total_count": 1}
    replay = Replay().on("POST", "/contacts/search", json_response(page))
    async with connected(replay) as (runtime, ctx):
        one = await run_method(
            runtime, ctx, "contacts", "match", query={"email": "li.wei@harbor.example"}
        )
        await run_method(
            runtime, ctx, "contacts", "match", query={"role": "user", "external_id": "usr_4410"}
        )

    assert replay.body(0) == {
        "query": {"field": "email", "operator": "=", "value": "li.wei@harbor.example"},
        "pagination": {"per_page": 1},
    }
    assert replay.body(1)["query"] == {
        "operator": "AND",
        "value": [
            {"field": "role", "operator": "=", "value": "user"},
            {"field": "external_id", "operator": "=", "value": "usr_4410"},
        ],
    }
    assert one["record"]["id"] == "6657a1c4f2e3b1a9c0d4e5f8"


@pytest.mark.parametrize("auth_key", ["oauth2", "access-token"])
async def test_rejected_token_is_access_token_expired_without_a_refresh(auth_key: str) -> None:
    replay = Replay().on("GET", "/contacts/x1", json_response(fixture("error_unauthorized"), 401))
    inputs = {**INPUTS, "accessToken": "dG9rOmFjY2Vzcy10b2tlbg=="}
    credentials = CREDENTIALS if auth_key == "oauth2" else None
    async with harness(
        replay,
        "intercom",
        auth_key=auth_key,
        credentials=credentials,
        inputs=inputs,
        expires_in=None,
    ) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "contacts", "find_by_id", id="x1")

    assert caught.value.key == "access_token_expired"
    assert "Access Token Invalid" in caught.value.message
    assert [r.url.path for r in replay.requests] == ["/contacts/x1"]


async def test_rate_limit_waits_until_the_reset_time() -> None:
    reset = int(time.time()) + 7
    headers = {
        "X-RateLimit-Limit": "1666",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset),
    }
    replay = Replay().on(
        "POST", "/contacts/search", json_response(fixture("error_rate_limit"), 429, headers)
    )
    async with connected(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "contacts", "list")

    assert caught.value.key == "rate_limit_exceeded"
    assert caught.value.retry_after is not None and 5 <= caught.value.retry_after <= 7


async def test_reply_sends_an_admin_comment() -> None:
    replay = Replay().on(
        "POST",
        "/conversations/1911149811/reply",
        json_response({"type": "conversation", "id": "1911149811", "state": "open"}),
    )
    reply = {"conversationId": "1911149811", "adminId": "7324512", "body": "<p>On it!</p>"}
    async with connected(replay) as (runtime, ctx):
        output = await run_operation(runtime, ctx, "reply-to-conversation", reply)

    assert replay.body() == {
        "message_type": "comment",
        "type": "admin",
        "admin_id": "7324512",
        "body": "<p>On it!</p>",
    }
    assert output["id"] == "1911149811"


def test_contacts_map_to_the_unified_model() -> None:
    udm = SPEC.collection("contacts").udm  # type: ignore[union-attr]
    assert udm is not None and udm.model == "contacts"
    fields = fixture("contacts_page1")["data"][0]

    assert evaluate(udm.to_udm, {"fields": fields}) == {
        "id": "6657a1c4f2e3b1a9c0d4e5f6",
        "fullName": "Zoe Carter",
        "firstName": "Zoe",
        "lastName": "Carter",
        "email": "zoe@brightline.example",
        "phone": "+1 415 555 0142",
        "createdTime": "2024-05-30T08:50:12.000Z",
        "updatedTime": "2024-06-19T12:30:00.000Z",
    }
    assert evaluate(udm.from_udm, {"udm": {"firstName": "Sam", "lastName": "Ridge"}}) == {
        "name": "Sam Ridge"
    }


def test_a_signed_notification_verifies_routes_and_names_its_record() -> None:
    """What the webhook declaration tells a receiver, applied to a notification as Intercom
    sends it: X-Hub-Signature = "sha1=" + hex HMAC-SHA1 of the raw body with the client secret."""
    webhooks = SPEC.webhooks
    assert webhooks is not None and webhooks.signature is not None and webhooks.routing
    signature = webhooks.signature
    client_secret = "6f0b8c1e-intercom-client-secret"
    body = json.dumps(fixture("notification_contact_created")).encode()
    sent = "sha1=" + hmac.new(client_secret.encode(), body, hashlib.sha1).hexdigest()

    secret = render(signature.secret, {"integration": {"clientSecret": client_secret}})
    signed = signature.payload.replace("{body}", body.decode())
    digest = hmac.new(secret.encode(), signed.encode(), getattr(hashlib, signature.algorithm[5:]))
    assert signature.encoding == "hex" and signature.header == "X-Hub-Signature"
    assert hmac.compare_digest(sent.removeprefix(signature.prefix), digest.hexdigest())

    event = json.loads(body)
    connection = {"inputs": INPUTS}
    assert locate(event, webhooks.routing.event_path) == render(
        webhooks.routing.connection_value, connection
    )
    assert locate(event, webhooks.event_type_path) == "contact.user.created"
    events = SPEC.collection("contacts").events  # type: ignore[union-attr]
    created, updated = events.created, events.updated
    assert isinstance(created, WebhookEvents) and isinstance(updated, WebhookEvents)
    assert matches_filter(created.filter, {"event": event})
    assert not matches_filter(updated.filter, {"event": event})
    assert locate(event, created.record_id) == "667a0b2ce5d4c3b2a1f0e9d8"


async def test_created_conversation_is_named_by_its_conversation_id() -> None:
    message = {
        "type": "user_message",
        "id": "403918330",
        "created_at": 1734537501,
        "body": "Hello there",
        "message_type": "inapp",
        "conversation_id": "499",
    }
    replay = Replay().on("POST", "/conversations", json_response(message))
    fields = {"from": {"type": "user", "id": "6657a1c4f2e3b1a9c0d4e5f6"}, "body": "Hello there"}
    async with connected(replay) as (runtime, ctx):
        result = await run_method(runtime, ctx, "conversations", "create", fields=fields)

    assert replay.body() == fields
    assert result["record"]["id"] == "499"
    assert result["record"]["createdTime"] == "2024-12-18T15:58:21.000Z"

"""Stripe connector against replayed API responses shaped as Stripe documents them."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.runtime import ConnectorError
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from connectors.runtime.webhooks import WebhookVerificationError, route_event, verify_signature
from connectors.stripe.components import form_fields
from core.formulas import evaluate
from tests.connectors.harness import Replay, builtin_registry, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
API_KEY = {"apiKey": "sk_test_51Mt3cWR3LkdIwHu7ix4a9b8c7d6e5f4"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


async def test_customers_list_starts_after_the_last_id() -> None:
    page1, page2 = fixture("customers_page1"), fixture("customers_page2")
    replay = Replay().on("GET", "/v1/customers", json_response(page1), json_response(page2))
    async with harness(replay, "stripe", auth_key="api-key", inputs=API_KEY) as (runtime, ctx):
        first = await run_method(runtime, ctx, "customers", "list")
        second = await run_method(runtime, ctx, "customers", "list", cursor=first["cursor"])

    opening, following = replay.requests
    assert opening.headers["authorization"] == f"Bearer {API_KEY['apiKey']}"
    assert opening.headers["stripe-version"] == "2024-06-20"
    assert opening.url.params["limit"] == "100"
    assert "starting_after" not in opening.url.params
    assert following.url.params["starting_after"] == "cus_NffrK7aQ3x9Yzb"
    # has_more=false ends the listing.
    assert first["cursor"] is not None and second["cursor"] is None

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == [
        "cus_NffrFeUfNV2Hib",
        "cus_NffrK7aQ3x9Yzb",
        "cus_Ng2BvUqRqKq1Qe",
    ]
    assert [r["name"] for r in records] == ["Jenny Rosen", "Kraftwerk GmbH", "ada@example.com"]
    assert records[0]["createdTime"] == "2023-04-07T18:59:53.000Z"
    assert records[1]["fields"]["address"]["city"] == "Berlin"
    assert records[1]["fields"]["metadata"] == {"crm_id": "8812"}


async def test_create_customer_sends_a_bracketed_form_body() -> None:
    replay = Replay().on("POST", "/v1/customers", json_response(fixture("customer_created")))
    fields = {
        "email": "marie@example.fr",
        "name": "Marie Curie",
        "phone": "+33 1 23 45 67 89",
        "address": {
            "line1": "8 rue de Rivoli",
            "city": "Paris",
            "postal_code": "75004",
            "country": "FR",
        },
        "metadata": {"crm_id": "8813", "plan": "pro"},
        "preferred_locales": ["fr", "en"],
        # Read-only fields a caller copies from a record are not sent: Stripe refuses them.
        "id": "cus_ignored",
        "created": 1680893993,
    }
    async with harness(replay, "stripe", auth_key="api-key", inputs=API_KEY) as (runtime, ctx):
        result = await run_method(runtime, ctx, "customers", "create", fields=fields)

    request = replay.requests[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.stripe.com/v1/customers")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert replay.body() == {
        "email": "marie@example.fr",
        "name": "Marie Curie",
        "phone": "+33 1 23 45 67 89",
        "address[line1]": "8 rue de Rivoli",
        "address[city]": "Paris",
        "address[postal_code]": "75004",
        "address[country]": "FR",
        "metadata[crm_id]": "8813",
        "metadata[plan]": "pro",
        "preferred_locales[0]": "fr",
        "preferred_locales[1]": "en",
    }
    record = result["record"]
    assert record["id"] == "cus_NffrFeUfNV2Hib" and record["name"] == "Marie Curie"
    assert record["fields"]["metadata"]["plan"] == "pro"


async def test_a_401_with_an_api_key_is_access_token_expired() -> None:
    replay = Replay().on("GET", "/v1/account", json_response(fixture("error_invalid_api_key"), 401))
    async with harness(replay, "stripe", auth_key="api-key", inputs=API_KEY) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await runtime.test(ctx)

    assert caught.value.key == "access_token_expired"
    assert "Invalid API Key provided" in caught.value.message
    assert len(replay.requests) == 1


async def test_a_429_is_rate_limit_exceeded_retrying_after_a_second() -> None:
    replay = Replay().on("GET", "/v1/invoices", json_response(fixture("error_rate_limit"), 429))
    async with harness(replay, "stripe", auth_key="api-key", inputs=API_KEY) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(
                runtime, ctx, "invoices", "list", parameters={"customer": "cus_NffrFeUfNV2Hib"}
            )

    assert caught.value.key == "rate_limit_exceeded"
    # Stripe sends no Retry-After; its limits are per second.
    assert caught.value.retry_after == 1.0
    assert "rate limit exceeded" in caught.value.message
    assert replay.requests[0].url.params["customer"] == "cus_NffrFeUfNV2Hib"


async def test_create_payment_intent_sends_a_form_body_and_the_idempotency_key() -> None:
    replay = Replay().on("POST", "/v1/payment_intents", json_response(fixture("payment_intent")))
    async with harness(replay, "stripe", auth_key="api-key", inputs=API_KEY) as (runtime, ctx):
        output = await run_operation(
            runtime,
            ctx,
            "create-payment-intent",
            {
                "amount": 2000,
                "currency": "usd",
                "customer": "cus_NffrFeUfNV2Hib",
                "description": "Order #6735",
                "automaticPaymentMethods": True,
                "metadata": {"order_id": "6735"},
                "idempotencyKey": "order-6735-attempt-1",
            },
        )

    request = replay.requests[0]
    assert request.headers["idempotency-key"] == "order-6735-attempt-1"
    assert replay.body() == {
        "amount": "2000",
        "currency": "usd",
        "customer": "cus_NffrFeUfNV2Hib",
        "description": "Order #6735",
        "automatic_payment_methods[enabled]": "true",
        "metadata[order_id]": "6735",
    }
    assert output["id"] == "pi_3MtwBwLkdIwHu7ix28a3tqPa"
    assert output["client_secret"].startswith("pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_")


def test_form_fields_follow_stripes_bracket_notation() -> None:
    body = {
        "line_items": [{"price": "price_1", "quantity": 2}],
        "metadata": {"plan": ""},
        "expand": ["customer"],
        "automatic_payment_methods": {},
        "capture": False,
        "customer": None,
    }
    assert form_fields(body) == [
        ("line_items[0][price]", "price_1"),
        ("line_items[0][quantity]", "2"),
        # An empty string is how Stripe unsets a value; None and empty objects send nothing.
        ("metadata[plan]", ""),
        ("expand[0]", "customer"),
        ("capture", "false"),
    ]


async def test_customers_map_to_unified_contacts() -> None:
    mapping = builtin_registry().get("stripe").collection("customers").udm  # type: ignore[union-attr]
    assert mapping is not None and mapping.model == "contacts"
    customer = fixture("customer_created")

    assert evaluate(mapping.to_udm, {"fields": customer}) == {
        "id": "cus_NffrFeUfNV2Hib",
        "fullName": "Marie Curie",
        "firstName": "Marie",
        "lastName": "Curie",
        "email": "marie@example.fr",
        "phone": "+33 1 23 45 67 89",
        "createdTime": "2023-04-07T18:59:53.000Z",
    }
    assert evaluate(
        mapping.from_udm, {"udm": {"firstName": "Ada", "lastName": "Lovelace", "email": "a@b.co"}}
    ) == {"name": "Ada Lovelace", "email": "a@b.co"}


def test_connect_events_are_verified_and_routed_to_the_account() -> None:
    webhooks = builtin_registry().get("stripe").webhooks  # type: ignore[union-attr]
    assert webhooks is not None and webhooks.signature is not None and webhooks.routing is not None
    body = (FIXTURES / "event_customer_updated.json").read_bytes()
    secret = "whsec_5f2d1c3b4a6e7f8091a2b3c4d5e6f708"
    timestamp = 1686089970
    # Stripe signs `{t}.{body}` and may send several v1 signatures (during secret rolls).
    v1 = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={timestamp},v1=0000,v1={v1},v0=ignored"}
    context = {"integration": {"parameters": {"webhookSigningSecret": secret}}}

    verify_signature(webhooks.signature, headers, body, context, now=timestamp + 5)
    with pytest.raises(WebhookVerificationError):
        verify_signature(
            webhooks.signature,
            headers,
            body.replace(b"enterprise", b"free"),
            context,
            now=timestamp,
        )
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_signature(webhooks.signature, headers, body, context, now=timestamp + 301)

    connections = [
        ("connection-api-key", {"inputs": API_KEY, "credentials": {}}),
        ("connection-connect", {"credentials": {"stripe_user_id": "acct_1Mt3cWR3xyzAbCdE"}}),
    ]
    assert route_event(webhooks.routing, json.loads(body), connections) == "connection-connect"

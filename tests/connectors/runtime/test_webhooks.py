"""Webhook signature schemes and app-level routing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from connectors.runtime.webhooks import WebhookVerificationError, route_event, verify_signature
from connectors.spec import WebhookRouting, WebhookSignature

BODY = b'{"type":"contact.created","id":"evt_1"}'
CONTEXT = {"integration": {"parameters": {"secret": "whsec_test"}}, "credentials": {}}


def sign(payload: bytes, algorithm=hashlib.sha256, secret: bytes = b"whsec_test") -> bytes:
    return hmac.new(secret, payload, algorithm).digest()


def scheme(**fields) -> WebhookSignature:
    return WebhookSignature.model_validate(
        {"secret": "{{ integration.parameters.secret }}", **fields}
    )


def test_github_style_prefixed_hex_sha256() -> None:
    spec = scheme(header="X-Hub-Signature-256", prefix="sha256=")
    good = {"X-Hub-Signature-256": "sha256=" + sign(BODY).hex()}
    verify_signature(spec, good, BODY, CONTEXT)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_signature(spec, good, BODY + b" ", CONTEXT)
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify_signature(spec, {}, BODY, CONTEXT)


def test_sha1_base64_and_header_names_are_case_insensitive() -> None:
    spec = scheme(header="X-Signature", algorithm="hmac-sha1", encoding="base64")
    value = base64.b64encode(sign(BODY, hashlib.sha1)).decode()
    verify_signature(spec, {"x-signature": value}, BODY, CONTEXT)


def test_slack_style_timestamped_payload_and_replay_window() -> None:
    spec = scheme(
        header="X-Slack-Signature",
        prefix="v0=",
        timestamp_header="X-Slack-Request-Timestamp",
        payload="v0:{timestamp}:{body}",
    )
    signature = "v0=" + sign(b"v0:1700000000:" + BODY).hex()
    headers = {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": "1700000000"}
    verify_signature(spec, headers, BODY, CONTEXT, now=1700000100)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_signature(spec, headers, BODY, CONTEXT, now=1700001000)


def test_stripe_header_format() -> None:
    spec = scheme(header="Stripe-Signature", header_format="stripe", payload="{timestamp}.{body}")
    good = sign(b"1700000000." + BODY).hex()
    headers = {"Stripe-Signature": f"t=1700000000,v1=deadbeef,v1={good}"}
    verify_signature(spec, headers, BODY, CONTEXT, now=1700000010)
    forged = {"Stripe-Signature": "t=1700000000,v1=deadbeef"}
    with pytest.raises(WebhookVerificationError):
        verify_signature(spec, forged, BODY, CONTEXT, now=1700000010)


def test_app_level_events_are_routed_to_their_connection() -> None:
    routing = WebhookRouting(event_path="portalId", connection_value="{{ credentials.hub_id }}")
    connections: list[tuple[str, dict[str, Any]]] = [
        ("conn-a", {"credentials": {"hub_id": 111}}),
        ("conn-b", {"credentials": {"hub_id": 222}}),
        ("conn-c", {"credentials": {}}),
    ]
    assert route_event(routing, {"portalId": 222}, connections) == "conn-b"
    assert route_event(routing, {"portalId": 333}, connections) is None
    assert route_event(routing, {}, connections) is None


def test_iso_timestamps_and_base64_secrets() -> None:
    secret = base64.b64encode(b"raw-secret-bytes").decode()
    spec = WebhookSignature.model_validate(
        {
            "header": "X-Sig",
            "encoding": "base64",
            "timestampHeader": "X-Ts",
            "payload": "{timestamp}{body}",
            "secret": secret,
            "secretEncoding": "base64",
        }
    )
    stamp = "2023-11-14T22:13:20Z"  # 1700000000
    value = base64.b64encode(sign(stamp.encode() + BODY, secret=b"raw-secret-bytes")).decode()
    verify_signature(spec, {"X-Sig": value, "X-Ts": stamp}, BODY, CONTEXT, now=1700000060)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_signature(spec, {"X-Sig": value, "X-Ts": stamp}, BODY, CONTEXT, now=1800000000)

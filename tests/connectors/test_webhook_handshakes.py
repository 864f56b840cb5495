"""The setup requests apps send to a webhook endpoint, answered as each vendor documents."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from connectors.registry import load_connector
from connectors.runtime.webhooks import WebhookVerificationError, handshake, verify_request
from connectors.spec import WebhookSpec

CONNECTORS = Path(__file__).parents[2] / "connectors"
URL = "https://hooks.osmo.example/webhooks/subscriptions/sub_1"
NOW = 1_767_225_600

# Handshakes the vendor sends unsigned (there is no secret yet, or the check is a bare HEAD).
# Every other handshake must be signed: adding an unsigned one needs the vendor's word.
UNSIGNED = {("asana", "hook-secret"), ("trello", "callback-check"), ("notion", "verification")}


def spec(key: str) -> WebhookSpec:
    webhooks = load_connector(CONNECTORS / key / "connector.yaml").webhooks
    assert webhooks is not None
    return webhooks


def hex_hmac(secret: str, message: bytes, digest=hashlib.sha256) -> str:  # type: ignore[no-untyped-def]
    return hmac.new(secret.encode(), message, digest).hexdigest()


def test_only_vendor_documented_handshakes_are_unsigned() -> None:
    unsigned = {
        (path.parent.name, rule.name)
        for path in CONNECTORS.glob("*/connector.yaml")
        if (webhooks := load_connector(path).webhooks) is not None
        for rule in webhooks.handshakes
        if not rule.signed
    }
    assert unsigned == UNSIGNED


def test_slack_url_verification_answers_the_challenge_once_verified() -> None:
    """api.slack.com/events/url_verification: reply 200 with the challenge (plain text is
    accepted); the request is signed like any other."""
    body = json.dumps(
        {
            "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    ).encode()
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    headers = {
        "X-Slack-Request-Timestamp": str(NOW),
        "X-Slack-Signature": "v0=" + hex_hmac(secret, f"v0:{NOW}:".encode() + body),
    }
    context = {"integration": {"parameters": {"signingSecret": secret}}}
    reply = handshake(
        spec("slack"), method="POST", headers=headers, body=body, context=context, now=NOW
    )
    assert reply is not None and reply.signed and reply.name == "url_verification"
    assert reply.status == 200
    assert reply.body == b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    assert reply.headers == {"Content-Type": "text/plain"}
    assert reply.secret is None

    forged = {**headers, "X-Slack-Signature": "v0=" + hex_hmac("other", body)}
    with pytest.raises(WebhookVerificationError):
        handshake(spec("slack"), method="POST", headers=forged, body=body, context=context, now=NOW)
    # Without a context the caller verifies: the reply says so.
    unverified = handshake(spec("slack"), method="POST", headers=forged, body=body)
    assert unverified is not None and unverified.signed


def test_asana_hook_secret_is_echoed_and_kept_for_later_deliveries() -> None:
    """developers.asana.com/docs/webhooks-guide: the first request carries X-Hook-Secret,
    unsigned; answer 200 (or 204) with the same header; later deliveries are signed with it."""
    headers = {"X-Hook-Secret": "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81"}
    reply = handshake(spec("asana"), method="POST", headers=headers, body=b"", context={})
    assert reply is not None and not reply.signed
    assert reply.status == 200
    assert reply.headers == {"X-Hook-Secret": headers["X-Hook-Secret"]}
    assert reply.secret == headers["X-Hook-Secret"]

    event = b'{"events":[{"action":"added","resource":{"gid":"12"}}]}'
    signed = {"X-Hook-Signature": hex_hmac(reply.secret, event)}
    context = {"webhook": {"secret": reply.secret}}
    verify_request(
        spec("asana"), method="POST", url=URL, headers=signed, body=event, context=context
    )
    assert handshake(spec("asana"), method="POST", headers=signed, body=event) is None


def test_trello_head_check_is_answered_200_without_a_signature() -> None:
    """developer.atlassian.com/cloud/trello/guides/rest-api/webhooks: Trello sends a HEAD
    request to the callback URL when the webhook is created and expects 200."""
    reply = handshake(spec("trello"), method="HEAD", headers={}, body=b"", url=URL, context={})
    assert reply is not None and reply.status == 200 and not reply.signed
    assert reply.body == b"" and reply.secret is None
    assert handshake(spec("trello"), method="POST", headers={}, body=b"{}") is None


def test_github_ping_is_answered_once_verified() -> None:
    """docs.github.com webhook events: `ping` is sent when a hook is created, signed."""
    body = b'{"zen":"Design for failure.","hook_id":1}'
    headers = {
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "d1",
        "X-Hub-Signature-256": "sha256=" + hex_hmac("gh-secret", body),
    }
    context = {"webhook": {"secret": "gh-secret"}}
    reply = handshake(spec("github"), method="POST", headers=headers, body=body, context=context)
    assert reply is not None and reply.status == 200 and reply.signed and reply.body == b""
    with pytest.raises(WebhookVerificationError):
        handshake(
            spec("github"),
            method="POST",
            headers={**headers, "X-Hub-Signature-256": "sha256=00"},
            body=body,
            context=context,
        )
    issues = {**headers, "X-GitHub-Event": "issues"}
    assert handshake(spec("github"), method="POST", headers=issues, body=body) is None


def test_intercom_ping_is_answered_once_verified() -> None:
    body = json.dumps(
        {"type": "notification_event", "app_id": "abc", "topic": "ping", "id": "notif_1"}
    ).encode()
    headers = {"X-Hub-Signature": "sha1=" + hex_hmac("ic-secret", body, hashlib.sha1)}
    context = {"integration": {"clientSecret": "ic-secret", "parameters": {}}}
    reply = handshake(spec("intercom"), method="POST", headers=headers, body=body, context=context)
    assert reply is not None and reply.status == 200 and reply.signed
    event = body.replace(b'"ping"', b'"contact.user.created"')
    assert handshake(spec("intercom"), method="POST", headers=headers, body=event) is None


def test_notion_verification_hands_over_the_token() -> None:
    """developers.notion.com/reference/webhooks: creating a subscription POSTs a one-time
    `verification_token`, which then signs every event."""
    token = "secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl"
    body = json.dumps({"verification_token": token}).encode()
    reply = handshake(spec("notion"), method="POST", headers={}, body=body, context={})
    assert reply is not None and reply.status == 200 and not reply.signed
    assert reply.secret == token
    event = json.dumps({"id": "e1", "type": "page.created", "workspace_id": "w1"}).encode()
    assert handshake(spec("notion"), method="POST", headers={}, body=event) is None


@pytest.mark.parametrize(
    "key", ["stripe", "hubspot", "zendesk", "linear", "clickup", "gitlab", "pipedrive", "jira"]
)
def test_apps_without_handshakes_never_get_one(key: str) -> None:
    for method in ("POST", "HEAD"):
        assert handshake(spec(key), method=method, headers={}, body=b'{"type":"x"}') is None


def test_non_json_bodies_are_not_handshakes() -> None:
    assert handshake(spec("slack"), method="POST", headers={}, body=b"\xff\xfe") is None
    assert handshake(spec("slack"), method="POST", headers={}, body=b"token=a&type=b") is None

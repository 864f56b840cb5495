"""Slack connector against replayed Web API responses shaped as Slack documents them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.runtime import ConnectorError
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from connectors.runtime.webhooks import WebhookVerificationError, route_event, verify_signature
from core.formulas import evaluate
from tests.connectors.harness import Replay, builtin_registry, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
BOT = {"access_token": "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"}
ROTATING = {
    "access_token": "xoxe.xoxb-1-MS0yLTIxMzQ1NjctOTg3NjU0My1vbGQ",
    "refresh_token": "xoxe-1-My0xLTIxMzQ1NjctOTg3NjU0My1vbGQ",
    "token_type": "bot",
    "team_id": "T9TK3CUKW",
}
CHANNEL = "C012AB3CD"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


async def test_channels_list_follows_next_cursor() -> None:
    page1, page2 = fixture("conversations_list_page1"), fixture("conversations_list_page2")
    replay = Replay().on(
        "GET", "/api/conversations.list", json_response(page1), json_response(page2)
    )
    async with harness(replay, "slack", credentials=BOT) as (runtime, ctx):
        first = await run_method(runtime, ctx, "channels", "list")
        second = await run_method(runtime, ctx, "channels", "list", cursor=first["cursor"])

    opening, following = replay.requests
    assert opening.headers["authorization"] == f"Bearer {BOT['access_token']}"
    assert opening.url.params["limit"] == "200"
    assert opening.url.params["types"] == "public_channel,private_channel"
    assert opening.url.params["exclude_archived"] == "true"
    assert "cursor" not in opening.url.params
    assert following.url.params["cursor"] == "dGVhbTpDMDYxRkE1UEI="
    # An empty next_cursor is Slack's last page.
    assert first["cursor"] is not None and second["cursor"] is None

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == ["C012AB3CD", "C061EG9T2", "G0AKFJBEU"]
    assert [r["name"] for r in records] == ["general", "random", "product-launch"]
    assert records[0]["createdTime"] == "2015-12-04T18:14:49.000Z"
    assert records[0]["fields"]["topic"]["value"].startswith("Company-wide")
    assert records[2]["fields"]["is_private"] is True


async def test_creating_a_message_posts_json_to_chat_post_message() -> None:
    replay = Replay().on(
        "POST", "/api/chat.postMessage", json_response(fixture("chat_post_message"))
    )
    fields = {"text": "Deploy 2024.06.3 is live :rocket:", "thread_ts": "1503435900.000100"}
    async with harness(replay, "slack", credentials=BOT) as (runtime, ctx):
        result = await run_method(
            runtime, ctx, "messages", "create", parameters={"channel": CHANNEL}, fields=fields
        )

    request = replay.requests[0]
    assert (request.method, str(request.url)) == ("POST", "https://slack.com/api/chat.postMessage")
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert replay.body() == {"channel": CHANNEL, **fields}
    record = result["record"]
    assert record["id"] == "1503435956.000247"
    assert record["name"] == "Deploy 2024.06.3 is live :rocket:"
    assert record["createdTime"] == "2017-08-22T21:05:56.000Z"
    assert record["fields"]["bot_id"] == "B19LU7CSY"


async def test_a_rotating_bot_token_is_refreshed_before_it_expires() -> None:
    refreshed = fixture("oauth_v2_access_refreshed")
    replay = (
        Replay()
        .on("POST", "/api/oauth.v2.access", json_response(refreshed))
        .on("GET", "/api/auth.test", json_response(fixture("auth_test")))
    )
    # 30 s left: inside the runtime's refresh margin, so it refreshes before calling Slack.
    async with harness(replay, "slack", credentials=ROTATING, expires_in=30) as (runtime, ctx):
        await run_operation(runtime, ctx, "get-current-identity", {})
        credentials = dict(ctx.credentials)

    token, call = replay.requests
    assert str(token.url) == "https://slack.com/api/oauth.v2.access"
    grant = replay.body(0)
    assert grant["grant_type"] == "refresh_token"
    assert grant["refresh_token"] == ROTATING["refresh_token"]
    # Slack asks for the client id and secret in HTTP Basic, not in the body.
    basic = base64.b64encode(b"client-id:client-secret").decode()
    assert token.headers["authorization"] == f"Basic {basic}"
    assert "client_secret" not in grant
    assert call.headers["authorization"] == f"Bearer {refreshed['access_token']}"
    assert credentials["refresh_token"] == refreshed["refresh_token"]
    assert credentials["team_id"] == "T9TK3CUKW"


async def test_token_expired_in_an_http_200_is_access_token_expired() -> None:
    replay = Replay().on("GET", "/api/users.info", json_response(fixture("error_token_expired")))
    async with harness(replay, "slack", credentials=BOT) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "users", "find_by_id", id="W012A3CDE")

    assert caught.value.key == "access_token_expired"
    assert caught.value.upstream_status == 200
    assert "token_expired" in caught.value.message


async def test_an_invalid_pasted_bot_token_is_access_token_expired() -> None:
    replay = Replay().on("GET", "/api/auth.test", json_response(fixture("error_invalid_auth")))
    inputs = {"token": "xoxb-not-a-real-token"}
    async with harness(replay, "slack", auth_key="bot-token", inputs=inputs) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await runtime.test(ctx)

    assert caught.value.key == "access_token_expired"
    assert replay.requests[0].headers["authorization"] == "Bearer xoxb-not-a-real-token"


async def test_channel_not_found_in_an_http_200_is_not_found() -> None:
    replay = Replay().on(
        "GET", "/api/conversations.info", json_response(fixture("error_channel_not_found"))
    )
    async with harness(replay, "slack", credentials=BOT) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "channels", "find_by_id", id="C0000000000")

    assert caught.value.key == "not_found"
    assert replay.requests[0].url.params["channel"] == "C0000000000"


async def test_other_slack_errors_are_bad_request() -> None:
    replay = Replay().on(
        "POST", "/api/chat.postMessage", json_response(fixture("error_not_in_channel"))
    )
    async with harness(replay, "slack", credentials=BOT) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_operation(runtime, ctx, "post-message", {"channel": CHANNEL, "text": "hi"})

    assert caught.value.key == "bad_request"
    assert "not_in_channel" in caught.value.message


async def test_post_message_sends_the_thread_ts() -> None:
    replay = Replay().on(
        "POST", "/api/chat.postMessage", json_response(fixture("chat_post_message"))
    )
    async with harness(replay, "slack", credentials=BOT) as (runtime, ctx):
        output = await run_operation(
            runtime,
            ctx,
            "post-message",
            {"channel": CHANNEL, "text": "Deploy 2024.06.3 is live :rocket:", "threadTs": "1.2"},
        )

    assert replay.body() == {
        "channel": CHANNEL,
        "text": "Deploy 2024.06.3 is live :rocket:",
        "thread_ts": "1.2",
    }
    assert output["ts"] == "1503435956.000247" and output["channel"] == CHANNEL


async def test_a_user_token_install_reads_the_token_from_authed_user() -> None:
    replay = (
        Replay()
        .on("POST", "/api/oauth.v2.access", json_response(fixture("oauth_v2_access_user")))
        .on("GET", "/api/auth.test", json_response(fixture("auth_test")))
    )
    async with harness(replay, "slack", auth_key="oauth2-user", expires_in=None) as (runtime, ctx):
        assert ctx.auth.type == "oauth2"
        token = await runtime.grants.exchange_code(
            ctx,
            ctx.auth,
            "4724469134.4644010092847",
            "https://osmo.example.com/oauth/callback",
            None,
        )
        ctx.credentials = token.credentials
        await runtime.test(ctx)

    assert replay.body(0)["code"] == "4724469134.4644010092847"
    assert token.credentials["user_access_token"] == "xoxp-1234-5678-91011-00e4dd"
    assert token.credentials["team_id"] == "T9TK3CUKW"
    # No top-level access_token and no refresh: the test call still goes out with the user token.
    assert replay.requests[1].headers["authorization"] == "Bearer xoxp-1234-5678-91011-00e4dd"


async def test_users_map_to_the_unified_user() -> None:
    replay = Replay().on("GET", "/api/users.info", json_response(fixture("users_info")))
    async with harness(replay, "slack", credentials=BOT) as (runtime, ctx):
        record = (await run_method(runtime, ctx, "users", "find_by_id", id="W012A3CDE"))["record"]
        mapping = ctx.connector.collection("users").udm  # type: ignore[union-attr]

    assert replay.requests[0].url.params["user"] == "W012A3CDE"
    assert record["name"] == "Egon Spengler"
    assert record["updatedTime"] == "2017-08-07T20:44:46.000Z"
    assert mapping is not None and mapping.model == "users"
    unified = evaluate(mapping.to_udm, {"fields": record["fields"]})
    assert unified == {
        "name": "Egon Spengler",
        "email": "spengler@ghostbusters.example.com",
        "isActive": True,
    }
    deleted = evaluate(mapping.to_udm, {"fields": {**record["fields"], "deleted": True}})
    assert deleted["isActive"] is False


# Slack's own example of a signed request (docs.slack.dev, "Verifying requests from Slack").
SIGNED_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SIGNED_HEADERS = {
    "X-Slack-Request-Timestamp": "1531420618",
    "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
}
SIGNING = {"integration": {"parameters": {"signingSecret": "8f742231b10e8888abcd99yyyzzz85a5"}}}


def test_events_are_verified_with_the_apps_signing_secret() -> None:
    webhooks = builtin_registry().get("slack").webhooks  # type: ignore[union-attr]
    assert webhooks is not None and webhooks.signature is not None
    signature = webhooks.signature

    verify_signature(signature, SIGNED_HEADERS, SIGNED_BODY, SIGNING, now=1531420618 + 60)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_signature(signature, SIGNED_HEADERS, SIGNED_BODY + b"&x=1", SIGNING, now=1531420618)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify_signature(signature, SIGNED_HEADERS, SIGNED_BODY, SIGNING, now=1531420618 + 3600)


def test_app_level_events_are_routed_by_team_id() -> None:
    webhooks = builtin_registry().get("slack").webhooks  # type: ignore[union-attr]
    assert webhooks is not None and webhooks.routing is not None and webhooks.scope == "app"
    event = fixture("event_callback_message")
    connections = [
        ("connection-other", {"credentials": {"team_id": "T0000000000"}}),
        ("connection-bot-token", {"credentials": {}, "inputs": {"token": "xoxb-1"}}),
        ("connection-softball", {"credentials": {"team_id": "T9TK3CUKW"}}),
    ]

    assert route_event(webhooks.routing, event, connections) == "connection-softball"
    assert webhooks.event_type_path and event["event"]["type"] == "message"
    assert webhooks.event_id_path == "event_id"

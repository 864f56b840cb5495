"""Vendor-specific revocation requests (`revokeRequest`) next to RFC 7009 `revoke`."""

from __future__ import annotations

import httpx

from tests.connectors.harness import Replay, harness, json_response


async def test_hubspot_revokes_the_refresh_token_with_delete() -> None:
    replay = Replay().on("DELETE", "/oauth/v1/refresh-tokens/rt-123", httpx.Response(204))
    credentials = {"access_token": "at-1", "refresh_token": "rt-123"}
    async with harness(replay, "hubspot", credentials=credentials) as (runtime, ctx):
        assert await runtime.revoke(ctx) is True
    [request] = replay.requests
    assert request.method == "DELETE"
    assert str(request.url) == "https://api.hubapi.com/oauth/v1/refresh-tokens/rt-123"


async def test_slack_revokes_the_calling_token() -> None:
    replay = Replay().on("GET", "/api/auth.revoke", json_response({"ok": True, "revoked": True}))
    async with harness(replay, "slack", credentials={"access_token": "xoxb-1"}) as (runtime, ctx):
        assert await runtime.revoke(ctx) is True
    assert replay.requests[0].headers["authorization"] == "Bearer xoxb-1"


async def test_a_failed_revocation_reports_false() -> None:
    replay = Replay().on(
        "DELETE", "/oauth/v1/refresh-tokens/rt-9", json_response({"message": "gone"}, 400)
    )
    credentials = {"access_token": "at", "refresh_token": "rt-9"}
    async with harness(replay, "hubspot", credentials=credentials) as (runtime, ctx):
        assert await runtime.revoke(ctx) is False

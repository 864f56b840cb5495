"""Trello connector against replayed responses shaped as Trello documents them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connectors.registry import ConnectorRegistry
from connectors.runtime.collections import parse_record, run_method
from connectors.runtime.operations import run_operation
from core.formulas import evaluate
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "0123456789abcdef0123456789abcdef"
INPUTS = {"apiKey": KEY, "apiToken": "ATTA1b2c3d4e5f"}
BOARD = "5abbe4b7ddc1b351ef961400"
LIST = "5abbe4b7ddc1b351ef961401"
CARD = "5abbe4b7ddc1b351ef961414"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def api_key_harness(replay: Replay) -> Any:
    return harness(replay, "trello", auth_key="api-key", inputs=INPUTS, expires_in=None)


async def test_comments_page_backwards_with_before_the_oldest_action_id() -> None:
    page1, page2 = fixture("comments_page1"), fixture("comments_page2")
    replay = Replay().on(
        "GET",
        f"/1/cards/{CARD}/actions",
        json_response(page1),
        json_response(page2),
        json_response([]),
    )
    parameters = {"cardId": CARD}
    async with api_key_harness(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "comments", "list", parameters=parameters)
        second = await run_method(
            runtime, ctx, "comments", "list", parameters=parameters, cursor=first["cursor"]
        )
        last = await run_method(
            runtime, ctx, "comments", "list", parameters=parameters, cursor=second["cursor"]
        )

    assert last == {"records": [], "cursor": None}
    opening, following, closing = replay.requests
    assert opening.url.params["key"] == KEY and opening.url.params["token"] == "ATTA1b2c3d4e5f"
    assert opening.url.params["filter"] == "commentCard"
    assert opening.url.params["limit"] == "1000"
    assert "before" not in opening.url.params
    assert following.url.params["before"] == page1[-1]["id"]
    assert closing.url.params["before"] == page2[-1]["id"]

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == [a["id"] for a in page1 + page2]
    newest, edited, oldest = records
    assert newest["name"] == "Budget approved, go ahead."
    assert newest["fields"] == {
        "text": "Budget approved, go ahead.",
        "idMemberCreator": "5a1b2c3d4e5f6a7b8c9d0e1f",
        "memberCreator": page1[0]["memberCreator"],
        "idCard": CARD,
        "date": "2024-06-16T17:02:03.128Z",
    }
    assert newest["createdTime"] == newest["updatedTime"] == "2024-06-16T17:02:03.128Z"
    assert edited["updatedTime"] == "2024-06-16T09:00:00.000Z"
    assert oldest["createdTime"] == "2024-06-14T15:45:10.000Z"


async def test_create_card_sends_its_fields_with_key_and_token_in_the_query() -> None:
    replay = Replay().on("POST", "/1/cards", json_response(fixture("card")))
    fields = {
        "idList": LIST,
        "name": "Draft the Q3 launch plan",
        "desc": "Outline channels, owners and dates.",
        "due": "2024-07-15T17:00:00.000Z",
        "idMembers": ["5a1b2c3d4e5f6a7b8c9d0e1f", "5b2c3d4e5f6a7b8c9d0e1f2a"],
    }
    async with api_key_harness(replay) as (runtime, ctx):
        result = await run_method(
            runtime, ctx, "cards", "create", parameters={"boardId": BOARD}, fields=fields
        )

    request = replay.requests[0]
    assert (request.method, request.url.path) == ("POST", "/1/cards")
    assert request.content == b""
    assert dict(request.url.params) == {
        "key": KEY,
        "token": "ATTA1b2c3d4e5f",
        **fields,
        "idMembers": "5a1b2c3d4e5f6a7b8c9d0e1f,5b2c3d4e5f6a7b8c9d0e1f2a",
    }
    record = result["record"]
    assert record["id"] == CARD and record["name"] == "Draft the Q3 launch plan"
    # The creation time is the timestamp in the first 8 hex digits of the id.
    assert record["createdTime"] == "2018-03-28T18:53:43.000Z"
    assert record["updatedTime"] == "2024-06-10T16:40:02.517Z"
    assert record["fields"]["idList"] == LIST


async def test_oauth1_signs_requests_and_writes_keep_their_fields() -> None:
    done = {**fixture("card"), "dueComplete": True}
    replay = (
        Replay()
        .on("GET", "/1/members/me", json_response(fixture("member_me")))
        .on("PUT", f"/1/cards/{CARD}", json_response(done))
    )
    credentials = {"oauth_token": "customer-token", "oauth_token_secret": "customer-secret"}
    async with harness(replay, "trello", credentials=credentials, expires_in=None) as (
        runtime,
        ctx,
    ):
        me = await runtime.test(ctx)
        updated = await run_method(
            runtime,
            ctx,
            "cards",
            "update",
            parameters={"boardId": BOARD},
            id=CARD,
            fields={"dueComplete": True, "due": None},
        )

    for request in replay.requests:
        authorization = request.headers["authorization"]
        assert authorization.startswith("OAuth ")
        assert 'oauth_consumer_key="client-id"' in authorization
        assert 'oauth_token="customer-token"' in authorization
        assert 'oauth_signature_method="HMAC-SHA1"' in authorization
        assert "key" not in request.url.params and "token" not in request.url.params
    assert me["username"] == "adalovelace"
    assert dict(replay.requests[1].url.params) == {"dueComplete": "true", "due": "null"}
    assert updated["record"]["fields"]["dueComplete"] is True


async def test_create_card_operation_sends_its_fields_in_the_query() -> None:
    replay = Replay().on("POST", "/1/cards", json_response(fixture("card")))
    async with api_key_harness(replay) as (runtime, ctx):
        card = await run_operation(
            runtime, ctx, "create-card", {"idList": LIST, "name": "Draft the Q3 launch plan"}
        )

    sent = replay.requests[-1].url.params
    assert (sent["idList"], sent["name"]) == (LIST, "Draft the Q3 launch plan")
    assert card["shortUrl"] == "https://trello.com/c/H0TZyzbK"


def test_cards_map_to_and_from_the_unified_task_model(registry: ConnectorRegistry) -> None:
    connector = registry.get("trello")
    assert connector is not None
    cards = connector.collection("cards")
    assert cards is not None and cards.udm is not None
    raw = fixture("card")

    udm = evaluate(cards.udm.to_udm, {"fields": parse_record(cards.record, raw)["fields"]})
    assert udm == {
        "id": CARD,
        "title": "Draft the Q3 launch plan",
        "description": "Outline channels, owners and dates.",
        "status": "open",
        "assigneeId": "5a1b2c3d4e5f6a7b8c9d0e1f",
        "dueDate": "2024-07-15T17:00:00.000Z",
        "projectId": BOARD,
        "url": "https://trello.com/c/H0TZyzbK/7-draft-the-q3-launch-plan",
        "createdTime": "2018-03-28T18:53:43.000Z",
        "updatedTime": "2024-06-10T16:40:02.517Z",
    }
    done = evaluate(cards.udm.to_udm, {"fields": {**raw, "dueComplete": True, "closed": True}})
    assert done["status"] == "completed"
    assert evaluate(cards.udm.to_udm, {"fields": {**raw, "closed": True}})["status"] == "archived"

    fields = evaluate(
        cards.udm.from_udm,
        {
            "udm": {
                "title": "Ship it",
                "status": "completed",
                "assigneeId": "5a1b2c3d4e5f6a7b8c9d0e1f",
            }
        },
    )
    assert fields == {
        "name": "Ship it",
        "dueComplete": True,
        "idMembers": ["5a1b2c3d4e5f6a7b8c9d0e1f"],
    }

"""Notion connector against replayed responses shaped as Notion documents them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectorError
from connectors.runtime.collections import parse_record, run_method
from connectors.runtime.operations import run_operation
from core.formulas import evaluate
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
DATABASE = "d9824bdc-8445-4327-be8b-5b47500af6ce"
PAGE = "59833787-2cf9-4fdf-8782-e53db20768a5"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def internal(replay: Replay) -> Any:
    return harness(
        replay, "notion", auth_key="internal-integration", inputs={"token": "ntn_internal"}
    )


async def test_database_pages_page_with_the_cursor_in_the_query_body() -> None:
    page1, page2 = fixture("pages_page1"), fixture("pages_page2")
    replay = Replay().on(
        "POST", f"/v1/databases/{DATABASE}/query", json_response(page1), json_response(page2)
    )
    parameters = {"databaseId": DATABASE}
    async with internal(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "database-pages", "list", parameters=parameters)
        second = await run_method(
            runtime, ctx, "database-pages", "list", parameters=parameters, cursor=first["cursor"]
        )

    assert second["cursor"] is None
    opening, following = replay.requests
    assert opening.headers["notion-version"] == "2022-06-28"
    assert opening.headers["authorization"] == "Bearer ntn_internal"
    sorts = [{"timestamp": "last_edited_time", "direction": "descending"}]
    assert replay.body(0) == {"sorts": sorts, "page_size": 100}
    assert replay.body(1) == {
        "sorts": sorts,
        "page_size": 100,
        "start_cursor": page1["next_cursor"],
    }
    assert "start_cursor" not in following.url.params

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == [p["id"] for p in page1["results"] + page2["results"]]
    plan = records[0]
    # The name is the plain text of whichever property is the title.
    assert plan["name"] == "Draft the Q3 launch plan"
    assert plan["fields"]["Status"]["status"]["name"] == "In progress"
    assert plan["fields"]["Due"]["date"]["start"] == "2024-07-15"
    assert plan["createdTime"] == "2024-06-03T09:12:00.000Z"
    assert plan["updatedTime"] == "2024-06-10T16:40:00.000Z"
    assert records[2]["name"] == "Launch approved"


async def test_users_page_with_the_cursor_in_the_query_string() -> None:
    page1, page2 = fixture("users_page1"), fixture("users_page2")
    replay = Replay().on("GET", "/v1/users", json_response(page1), json_response(page2))
    async with internal(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "users", "list")
        second = await run_method(runtime, ctx, "users", "list", cursor=first["cursor"])

    assert replay.requests[0].url.params["page_size"] == "100"
    assert replay.requests[1].url.params["start_cursor"] == page1["next_cursor"]
    assert second["cursor"] is None
    assert [r["name"] for r in first["records"] + second["records"]] == ["Ada Lovelace", "Osmo"]


async def test_create_database_page_posts_parent_and_properties() -> None:
    replay = Replay().on("POST", "/v1/pages", json_response(fixture("page_created")))
    properties = {
        "Name": {"title": [{"text": {"content": "Write the press release"}}]},
        "Status": {"status": {"name": "Not started"}},
        "Due": {"date": {"start": "2024-07-05"}},
    }
    async with internal(replay) as (runtime, ctx):
        result = await run_method(
            runtime,
            ctx,
            "database-pages",
            "create",
            parameters={"databaseId": DATABASE},
            fields=properties,
        )

    request = replay.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/pages")
    assert replay.body() == {"parent": {"database_id": DATABASE}, "properties": properties}
    record = result["record"]
    assert record["id"] == "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
    assert record["name"] == "Write the press release"
    assert record["createdTime"] == "2024-06-13T10:00:00.000Z"


async def test_a_401_with_an_internal_token_is_access_token_expired() -> None:
    replay = Replay().on("GET", "/v1/users/me", json_response(fixture("error_unauthorized"), 401))
    async with internal(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await runtime.test(ctx)

    assert caught.value.key == "access_token_expired"
    assert "API token is invalid" in caught.value.message
    assert len(replay.requests) == 1


async def test_query_database_operation_sends_the_filter() -> None:
    replay = Replay().on(
        "POST", f"/v1/databases/{DATABASE}/query", json_response(fixture("pages_page2"))
    )
    async with internal(replay) as (runtime, ctx):
        done = {"property": "Status", "status": {"equals": "Done"}}
        output = await run_operation(
            runtime, ctx, "query-database", {"databaseId": DATABASE, "filter": done}
        )

    assert replay.body() == {"filter": done, "page_size": 100}
    assert [page["id"] for page in output] == ["8e4c1d2a-9b0f-4c3e-a5d6-7f8091a2b3c4"]


def test_users_and_comments_map_to_unified_models(registry: ConnectorRegistry) -> None:
    connector = registry.get("notion")
    assert connector is not None
    users, comments = connector.collection("users"), connector.collection("comments")
    assert users is not None and users.udm is not None
    assert comments is not None and comments.udm is not None

    ada = parse_record(users.record, fixture("users_page1")["results"][0])
    assert evaluate(users.udm.to_udm, {"fields": ada["fields"]}) == {
        "id": "ee5f0f84-409a-440f-983a-a5315961c6e4",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
    }

    comment = parse_record(comments.record, fixture("comment"))
    assert comment["name"] == "Budget approved, go ahead."
    assert evaluate(comments.udm.to_udm, {"fields": comment["fields"]}) == {
        "id": "94cc56ab-9f02-409d-9f99-1037e9fe502f",
        "content": "Budget approved, go ahead.",
        "authorId": "ee5f0f84-409a-440f-983a-a5315961c6e4",
        "createdTime": "2024-06-11T12:00:00.000Z",
        "updatedTime": "2024-06-11T12:05:00.000Z",
    }
    assert evaluate(comments.udm.from_udm, {"udm": {"content": "Thanks!"}}) == {
        "rich_text": [{"text": {"content": "Thanks!"}}]
    }


async def test_a_comment_opens_a_thread_on_the_page_or_replies_in_one() -> None:
    created = fixture("comment")
    replay = Replay().on("POST", "/v1/comments", json_response(created))
    text = [{"text": {"content": "Budget approved, go ahead."}}]
    async with internal(replay) as (runtime, ctx):
        await run_method(
            runtime,
            ctx,
            "comments",
            "create",
            parameters={"pageId": PAGE},
            fields={"rich_text": text},
        )
        reply = {"rich_text": text, "discussion_id": created["discussion_id"]}
        result = await run_method(
            runtime, ctx, "comments", "create", parameters={"pageId": PAGE}, fields=reply
        )

    assert replay.body(0) == {"rich_text": text, "parent": {"page_id": PAGE}}
    # Notion refuses a parent next to a discussion id.
    assert replay.body(1) == reply
    assert result["record"]["id"] == created["id"]

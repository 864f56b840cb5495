"""ClickUp connector against replayed responses shaped as ClickUp documents them."""

from __future__ import annotations

import copy
import json
import time
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
TOKEN = "pk_81942013_Q2VZ1XKRN8T5JH3MSW0CDLBAYPGF7EO4"
TEAM = "9012345678"
LIST = "901234567890"
PARAMETERS = {"teamId": TEAM, "listId": LIST}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def tasks(count: int, start: int) -> list[dict[str, Any]]:
    """`count` copies of the documented task with distinct ids and names."""
    made = []
    for n in range(start, start + count):
        task = copy.deepcopy(fixture("task"))
        task["id"], task["name"] = f"86b0x{n:04d}", f"Launch step {n}"
        made.append(task)
    return made


def personal(replay: Replay) -> Any:
    return harness(
        replay, "clickup", auth_key="personal-token", inputs={"apiToken": TOKEN}, expires_in=None
    )


async def test_tasks_list_pages_by_number_from_zero() -> None:
    full = {"tasks": tasks(100, 0), "last_page": False}
    rest = {"tasks": tasks(2, 100), "last_page": True}
    replay = Replay().on(
        "GET", f"/api/v2/list/{LIST}/task", json_response(full), json_response(rest)
    )
    async with personal(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "tasks", "list", parameters=PARAMETERS)
        second = await run_method(
            runtime, ctx, "tasks", "list", parameters=PARAMETERS, cursor=first["cursor"]
        )

    # A page shorter than 100 tasks is the last: no third request.
    assert second["cursor"] is None and len(replay.requests) == 2
    opening, following = replay.requests
    assert opening.headers["authorization"] == TOKEN
    assert opening.url.params["page"] == "0" and following.url.params["page"] == "1"
    assert following.url.params["include_closed"] == "true"
    assert following.url.params["subtasks"] == "true"

    records = first["records"] + second["records"]
    assert len(records) == 102 and records[101]["id"] == "86b0x0101"
    task = records[0]
    assert task["name"] == "Launch step 0"
    assert task["createdTime"] == "2024-06-03T09:12:45.123Z"
    assert task["updatedTime"] == "2024-06-10T16:40:02.517Z"
    # Status, priority, assignees and tags in the form ClickUp's writes take.
    assert task["fields"]["status"] == "in progress"
    assert task["fields"]["priority"] == 2
    assert task["fields"]["assignees"] == [81942013]
    assert task["fields"]["tags"] == ["launch"]
    assert task["fields"]["list"]["id"] == LIST


async def test_create_task_posts_the_fields_to_the_list() -> None:
    replay = Replay().on("POST", f"/api/v2/list/{LIST}/task", json_response(fixture("task")))
    fields = {
        "name": "Draft the Q3 launch plan",
        "description": "Outline channels, owners and dates.",
        "assignees": [81942013],
        "status": "in progress",
        "priority": 2,
        "due_date": 1721062800000,
    }
    async with personal(replay) as (runtime, ctx):
        result = await run_method(
            runtime, ctx, "tasks", "create", parameters=PARAMETERS, fields=fields
        )

    request = replay.requests[0]
    assert (request.method, request.url.path) == ("POST", f"/api/v2/list/{LIST}/task")
    assert replay.body() == fields
    record = result["record"]
    assert record["id"] == "86b0x7k2q" and record["name"] == "Draft the Q3 launch plan"
    assert record["fields"]["priority"] == 2 and record["fields"]["status"] == "in progress"


async def test_an_invalid_token_is_access_token_expired_with_clickups_message() -> None:
    replay = Replay().on("GET", "/api/v2/user", json_response(fixture("error_token_invalid"), 401))
    async with harness(
        replay, "clickup", credentials={"access_token": "81942013_3b1f"}, expires_in=None
    ) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await runtime.test(ctx)

    # OAuth tokens never expire and cannot be refreshed: no token request, no retry.
    assert len(replay.requests) == 1
    assert replay.requests[0].headers["authorization"] == "Bearer 81942013_3b1f"
    assert caught.value.key == "access_token_expired"
    assert "Token invalid" in caught.value.message


async def test_a_429_waits_until_the_rate_limit_reset() -> None:
    reset = int(time.time()) + 37
    headers = {
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset),
    }
    replay = Replay().on(
        "GET",
        f"/api/v2/list/{LIST}/task",
        json_response(fixture("error_rate_limited"), 429, headers=headers),
    )
    async with personal(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "tasks", "list", parameters=PARAMETERS)

    assert caught.value.key == "rate_limit_exceeded"
    assert caught.value.retry_after is not None and 30 < caught.value.retry_after <= 37


async def test_add_comment_operation_sends_the_comment_text() -> None:
    replay = Replay().on(
        "POST", "/api/v2/task/86b0x7k2q/comment", json_response(fixture("comment_created"))
    )
    async with personal(replay) as (runtime, ctx):
        output = await run_operation(
            runtime, ctx, "add-comment", {"taskId": "86b0x7k2q", "text": "Budget approved."}
        )

    assert replay.body() == {"comment_text": "Budget approved."}
    assert output["id"] == 90120045678901


def test_tasks_map_to_and_from_the_unified_task_model(registry: ConnectorRegistry) -> None:
    connector = registry.get("clickup")
    assert connector is not None
    collection = connector.collection("tasks")
    assert collection is not None and collection.udm is not None
    record = parse_record(collection.record, fixture("task"))

    udm = evaluate(collection.udm.to_udm, {"fields": record["fields"]})
    assert udm == {
        "id": "86b0x7k2q",
        "title": "Draft the Q3 launch plan",
        "description": "Outline channels, owners and dates.",
        "status": "in progress",
        "assigneeId": "81942013",
        "dueDate": "2024-07-15T17:00:00.000Z",
        "projectId": LIST,
        "url": "https://app.clickup.com/t/86b0x7k2q",
        "createdTime": "2024-06-03T09:12:45.123Z",
        "updatedTime": "2024-06-10T16:40:02.517Z",
    }

    fields = evaluate(
        collection.udm.from_udm,
        {
            "udm": {
                "title": "Ship it",
                "status": "complete",
                "dueDate": "2024-07-15T17:00:00.000Z",
                "assigneeId": "81942013",
            }
        },
    )
    assert fields == {
        "name": "Ship it",
        "status": "complete",
        "due_date": 1721062800000,
        "assignees": [81942013],
    }

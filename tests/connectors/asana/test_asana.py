"""Asana connector against replayed responses shaped as Asana documents them."""

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
CREDENTIALS = {"access_token": "2/old-access", "refresh_token": "2/refresh", "token_type": "bearer"}
PROJECT = "1209876543210001"
WORKSPACE = "1200000000000001"
TASK = "1204567890123456"
PARAMETERS = {"workspaceId": WORKSPACE, "projectId": PROJECT}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


async def test_tasks_list_follows_the_next_page_offset() -> None:
    page1, page2 = fixture("tasks_page1"), fixture("tasks_page2")
    replay = Replay().on("GET", "/api/1.0/tasks", json_response(page1), json_response(page2))
    async with harness(replay, "asana", credentials=CREDENTIALS) as (runtime, ctx):
        first = await run_method(runtime, ctx, "tasks", "list", parameters=PARAMETERS)
        second = await run_method(
            runtime, ctx, "tasks", "list", parameters=PARAMETERS, cursor=first["cursor"]
        )

    assert first["cursor"] is not None and second["cursor"] is None
    opening, following = replay.requests
    assert opening.headers["authorization"] == "Bearer 2/old-access"
    assert opening.url.params["project"] == PROJECT
    assert opening.url.params["limit"] == "100"
    assert "offset" not in opening.url.params
    assert {"name", "created_at", "modified_at"} <= set(opening.url.params["opt_fields"].split(","))
    assert following.url.params["offset"] == page1["next_page"]["offset"]
    assert following.url.params["project"] == PROJECT

    records = first["records"] + second["records"]
    assert [r["id"] for r in records] == [
        "1204567890123456",
        "1204567890123457",
        "1204567890123458",
    ]
    plan = records[0]
    assert plan["name"] == "Draft the Q3 launch plan"
    assert plan["createdTime"] == "2024-06-03T09:12:45.123Z"
    assert plan["updatedTime"] == "2024-06-10T16:40:02.517Z"
    # References come back as gids, the form Asana's writes accept.
    assert plan["fields"]["assignee"] == "1201234567890001"
    assert plan["fields"]["projects"] == [PROJECT]
    assert plan["fields"]["followers"] == ["1201234567890001", "1201234567890002"]
    assert plan["fields"]["workspace"] == WORKSPACE
    assert plan["fields"]["notes"] == "Outline channels, owners and dates."
    assert records[1]["fields"]["assignee"] is None and records[1]["fields"]["tags"] == []
    assert records[2]["fields"]["parent"] == TASK


async def test_create_task_sends_the_data_envelope_with_the_project() -> None:
    replay = Replay().on("POST", "/api/1.0/tasks", json_response(fixture("task_created"), 201))
    fields = {
        "name": "Write the press release",
        "notes": "First draft by Friday.",
        "assignee": "1201234567890001",
        "due_on": "2024-07-05",
    }
    async with harness(replay, "asana", credentials=CREDENTIALS) as (runtime, ctx):
        result = await run_method(
            runtime, ctx, "tasks", "create", parameters=PARAMETERS, fields=fields
        )

    request = replay.requests[0]
    assert (request.method, request.url.path) == ("POST", "/api/1.0/tasks")
    assert replay.body() == {"data": {"projects": [PROJECT], **fields}}
    record = result["record"]
    assert record["id"] == "1204567890129999"
    assert record["name"] == "Write the press release"
    assert record["fields"]["assignee"] == "1201234567890001"
    assert record["createdTime"] == "2024-06-13T10:00:00.000Z"


async def test_update_task_puts_only_the_changed_fields() -> None:
    updated = fixture("task_created")
    updated["data"]["completed"] = True
    replay = Replay().on("PUT", "/api/1.0/tasks/1204567890129999", json_response(updated))
    async with harness(replay, "asana", credentials=CREDENTIALS) as (runtime, ctx):
        result = await run_method(
            runtime,
            ctx,
            "tasks",
            "update",
            parameters=PARAMETERS,
            id="1204567890129999",
            fields={"completed": True},
        )

    assert replay.requests[0].method == "PUT"
    assert replay.body() == {"data": {"completed": True}}
    assert result["record"]["fields"]["completed"] is True


async def test_create_task_operation_sends_the_data_envelope() -> None:
    replay = Replay().on("POST", "/api/1.0/tasks", json_response(fixture("task_created"), 201))
    async with harness(replay, "asana", credentials=CREDENTIALS) as (runtime, ctx):
        output = await run_operation(
            runtime,
            ctx,
            "create-task",
            {"workspace": WORKSPACE, "name": "Write the press release", "projects": [PROJECT]},
        )

    assert replay.body() == {
        "data": {"workspace": WORKSPACE, "name": "Write the press release", "projects": [PROJECT]}
    }
    assert output["gid"] == "1204567890129999"


def test_tasks_map_to_and_from_the_unified_task_model(registry: ConnectorRegistry) -> None:
    connector = registry.get("asana")
    assert connector is not None
    collection = connector.collection("tasks")
    assert collection is not None and collection.udm is not None
    open_task, milestone = fixture("tasks_page1")["data"]

    udm = evaluate(
        collection.udm.to_udm, {"fields": parse_record(collection.record, open_task)["fields"]}
    )
    assert udm == {
        "id": TASK,
        "title": "Draft the Q3 launch plan",
        "description": "Outline channels, owners and dates.",
        "status": "open",
        "assigneeId": "1201234567890001",
        "dueDate": "2024-07-15",
        "projectId": PROJECT,
        "url": "https://app.asana.com/0/1209876543210001/1204567890123456",
        "createdTime": "2024-06-03T09:12:45.123Z",
        "updatedTime": "2024-06-10T16:40:02.517Z",
    }
    done = evaluate(
        collection.udm.to_udm, {"fields": parse_record(collection.record, milestone)["fields"]}
    )
    assert done["status"] == "completed" and done["dueDate"] == "2024-06-12T10:00:00.000Z"
    assert done["assigneeId"] is None

    fields = evaluate(
        collection.udm.from_udm,
        {"udm": {"title": "Ship it", "status": "completed", "dueDate": "2024-07-01T12:00:00Z"}},
    )
    assert fields == {"name": "Ship it", "completed": True, "due_on": "2024-07-01"}

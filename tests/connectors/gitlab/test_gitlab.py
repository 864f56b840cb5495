"""GitLab connector against replayed GitLab REST v4 responses."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from connectors.registry import load_connector
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from core.formulas import evaluate
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = load_connector(Path(__file__).parents[3] / "connectors" / "gitlab" / "connector.yaml")
INSTANCE = {"baseUrl": "https://gitlab.example.com"}
TOKEN = "glpat-Xq9vB3kLm2Np7RtY8wZa"
ISSUES = "/api/v4/projects/4/issues"


def with_token(replay: Replay) -> Any:
    """A connection to a self-managed instance made with a personal access token."""
    return harness(
        replay,
        "gitlab",
        auth_key="personal-access-token",
        inputs={"token": TOKEN},
        parameters=INSTANCE,
    )


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def rate_headers(remaining: int = 1999) -> dict[str, str]:
    return {
        "RateLimit-Limit": "2000",
        "RateLimit-Observed": str(2000 - remaining),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(int(time.time()) + 60),
    }


def page_headers(page: int, next_page: int | None, total: int) -> dict[str, str]:
    return {
        "X-Page": str(page),
        "X-Per-Page": "100",
        "X-Next-Page": str(next_page or ""),
        "X-Total": str(total),
        "X-Total-Pages": "2",
        **rate_headers(),
    }


async def test_issues_list_pages_through_page_numbers() -> None:
    page1 = fixture("issues_page1.json")
    filler = [{**page1[1], "id": 200 + i, "iid": 100 + i} for i in range(98)]
    replay = Replay().on(
        "GET",
        ISSUES,
        json_response(page1 + filler, headers=page_headers(1, 2, 101)),
        json_response(fixture("issues_page2.json"), headers=page_headers(2, None, 101)),
    )
    async with with_token(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "issues", "list", parameters={"projectId": 4})
        second = await run_method(
            runtime, ctx, "issues", "list", parameters={"projectId": 4}, cursor=first["cursor"]
        )

    sent = replay.requests[0]
    assert str(sent.url).startswith("https://gitlab.example.com/api/v4/projects/4/issues?")
    assert sent.headers["private-token"] == TOKEN
    assert dict(sent.url.params) == {
        "order_by": "updated_at",
        "sort": "desc",
        "per_page": "100",
        "page": "1",
    }
    assert dict(replay.requests[1].url.params) == {**dict(sent.url.params), "page": "2"}
    assert len(first["records"]) == 100
    assert first["records"][0] == {
        "id": "6",
        "name": "Consequatur vero maxime deserunt laboriosam est voluptas dolorem.",
        "fields": page1[0],
        "createdTime": "2024-05-02T10:11:54.317Z",
        "updatedTime": "2024-05-21T08:00:43.912Z",
    }
    assert [(r["id"], r["name"]) for r in second["records"]] == [("1", "Set up CI")]
    assert second["cursor"] is None


async def test_project_path_is_url_encoded() -> None:
    replay = Replay().on(
        "GET",
        "/api/v4/projects/my-group/my-project/issues/6",
        json_response(fixture("issues_page1.json")[0]),
    )
    async with with_token(replay) as (runtime, ctx):
        result = await run_method(
            runtime,
            ctx,
            "issues",
            "find_by_id",
            parameters={"projectId": "my-group/my-project"},
            id="6",
        )
    assert replay.requests[0].url.raw_path == b"/api/v4/projects/my-group%2Fmy-project/issues/6"
    assert result["record"]["id"] == "6"


async def test_create_issue_posts_the_writable_fields() -> None:
    replay = Replay().on(
        "POST", ISSUES, json_response(fixture("issue_created.json"), 201, rate_headers())
    )
    async with with_token(replay) as (runtime, ctx):
        result = await run_method(
            runtime,
            ctx,
            "issues",
            "create",
            parameters={"projectId": 4},
            fields={
                "title": "Issues with auth",
                "description": "Login fails with SSO",
                "labels": ["bug"],
                "assignee_ids": [1],
            },
        )
    request = replay.requests[0]
    assert (request.method, request.url.path) == ("POST", ISSUES)
    assert replay.body() == {
        "title": "Issues with auth",
        "description": "Login fails with SSO",
        "labels": ["bug"],
        "assignee_ids": [1],
    }
    assert result["record"]["id"] == "14"
    assert result["record"]["name"] == "Issues with auth"
    assert result["record"]["fields"]["web_url"].endswith("/-/issues/14")


async def test_update_issue_closes_it_with_a_state_event() -> None:
    closed = {**fixture("issue_created.json"), "state": "closed"}
    replay = Replay().on("PUT", f"{ISSUES}/14", json_response(closed))
    async with with_token(replay) as (runtime, ctx):
        result = await run_method(
            runtime,
            ctx,
            "issues",
            "update",
            parameters={"projectId": 4},
            id="14",
            fields={"state_event": "close"},
        )
    assert replay.body() == {"state_event": "close"}
    assert result["record"]["fields"]["state"] == "closed"


async def test_create_merge_request_operation() -> None:
    merge_request = {
        "id": 3155,
        "iid": 12,
        "project_id": 4,
        "title": "Add SSO login",
        "state": "opened",
        "source_branch": "feature/sso",
        "target_branch": "main",
        "web_url": "https://gitlab.example.com/my-group/my-project/-/merge_requests/12",
    }
    replay = Replay().on(
        "POST", "/api/v4/projects/4/merge_requests", json_response(merge_request, 201)
    )
    async with with_token(replay) as (runtime, ctx):
        output = await run_operation(
            runtime,
            ctx,
            "create-merge-request",
            {
                "projectId": 4,
                "sourceBranch": "feature/sso",
                "targetBranch": "main",
                "title": "Add SSO login",
                "removeSourceBranch": True,
            },
        )
    assert replay.body() == {
        "source_branch": "feature/sso",
        "target_branch": "main",
        "title": "Add SSO login",
        "remove_source_branch": True,
    }
    assert output == {"id": 3155, "iid": 12, "url": merge_request["web_url"]}


def test_issue_maps_to_the_unified_task() -> None:
    collection = SPEC.collection("issues")
    assert collection is not None and collection.udm is not None
    task = evaluate(collection.udm.to_udm, {"fields": fixture("issues_page1.json")[0]})
    assert task == {
        "title": "Consequatur vero maxime deserunt laboriosam est voluptas dolorem.",
        "description": "Ratione dolores corrupti mollitia soluta quia.",
        "status": "opened",
        "assigneeId": 1,
        "dueDate": "2024-06-28",
        "projectId": 4,
        "url": "https://gitlab.example.com/my-group/my-project/-/issues/6",
        "createdTime": "2024-05-02T10:11:54.317Z",
        "updatedTime": "2024-05-21T08:00:43.912Z",
    }
    back = evaluate(
        collection.udm.from_udm,
        {"udm": {"title": "Ship SSO", "status": "done", "assigneeId": 1, "dueDate": "2024-07-01"}},
    )
    assert back == {
        "title": "Ship SSO",
        "due_date": "2024-07-01",
        "state_event": "close",
        "assignee_ids": [1],
    }

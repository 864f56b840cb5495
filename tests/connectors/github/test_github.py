"""GitHub connector against replayed GitHub REST responses."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import load_connector
from connectors.runtime import ConnectorError
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from connectors.runtime.webhooks import WebhookVerificationError, verify_signature
from core.formulas import evaluate
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = load_connector(Path(__file__).parents[3] / "connectors" / "github" / "connector.yaml")
REPO = {"owner": "octocat", "repo": "Hello-World"}
ISSUES = "/repos/octocat/Hello-World/issues"
TOKEN = "github_pat_11ABCDEFG0123456789_abc"


def with_token(replay: Replay) -> Any:
    """A connection made with a personal access token."""
    return harness(replay, "github", auth_key="personal-access-token", inputs={"token": TOKEN})


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def rate_headers(remaining: int = 4999, reset: int | None = None) -> dict[str, str]:
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-used": str(5000 - remaining),
        "x-ratelimit-reset": str(reset or int(time.time()) + 3600),
        "x-ratelimit-resource": "core",
    }


async def test_issues_list_pages_through_page_numbers_and_skips_pull_requests() -> None:
    page1 = fixture("issues_page1.json")
    # A full page (per_page=100) means GitHub may have more; pad the fixture to 100 items.
    filler = [{**page1[2], "number": 1000 + i, "id": 1900000000 + i} for i in range(97)]
    replay = Replay().on(
        "GET",
        ISSUES,
        json_response(page1 + filler, headers=rate_headers()),
        json_response(fixture("issues_page2.json"), headers=rate_headers(4998)),
    )
    async with with_token(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "issues", "list", parameters=REPO)
        second = await run_method(
            runtime, ctx, "issues", "list", parameters=REPO, cursor=first["cursor"]
        )

    sent = replay.requests[0]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["x-github-api-version"] == "2022-11-28"
    assert dict(sent.url.params) == {
        "state": "all",
        "sort": "updated",
        "direction": "desc",
        "per_page": "100",
        "page": "1",
    }
    assert dict(replay.requests[1].url.params) == {**dict(sent.url.params), "page": "2"}
    # The pull request GitHub lists among issues (#1351) is left out; pagination still continues.
    assert [r["id"] for r in first["records"][:2]] == ["1347", "1342"]
    assert len(first["records"]) == 99
    assert first["records"][0] == {
        "id": "1347",
        "name": "Found a bug",
        "fields": page1[0],
        "createdTime": "2024-05-01T09:12:44Z",
        "updatedTime": "2024-05-20T14:03:10Z",
    }
    assert second["records"] == [
        {
            "id": "1298",
            "name": "Add dark mode",
            "fields": fixture("issues_page2.json")[0],
            "createdTime": "2024-03-02T15:21:09Z",
            "updatedTime": "2024-05-02T12:00:00Z",
        }
    ]
    assert second["cursor"] is None


async def test_create_issue_sends_only_writable_fields() -> None:
    created = fixture("issue_created.json")
    replay = Replay().on("POST", ISSUES, json_response(created, 201, rate_headers()))
    async with with_token(replay) as (runtime, ctx):
        result = await run_method(
            runtime,
            ctx,
            "issues",
            "create",
            parameters=REPO,
            fields={
                "title": "Found a bug",
                "body": "I'm having a problem with this.",
                "assignees": ["octocat"],
                "labels": ["bug"],
            },
        )

    request = replay.requests[0]
    assert (request.method, request.url.path) == ("POST", ISSUES)
    assert replay.body() == {
        "title": "Found a bug",
        "body": "I'm having a problem with this.",
        "assignees": ["octocat"],
        "labels": ["bug"],
    }
    record = result["record"]
    assert (record["id"], record["name"]) == ("1352", "Found a bug")
    assert record["fields"]["html_url"] == "https://github.com/octocat/Hello-World/issues/1352"
    assert record["createdTime"] == "2024-05-21T10:00:00Z"


async def test_update_issue_closes_it_with_patch() -> None:
    closed = {**fixture("issue_created.json"), "state": "closed", "state_reason": "completed"}
    replay = Replay().on("PATCH", f"{ISSUES}/1352", json_response(closed, 200, rate_headers()))
    async with with_token(replay) as (runtime, ctx):
        result = await run_method(
            runtime,
            ctx,
            "issues",
            "update",
            parameters=REPO,
            id="1352",
            fields={"state": "closed", "state_reason": "completed"},
        )
    assert replay.body() == {"state": "closed", "state_reason": "completed"}
    assert result["record"]["fields"]["state"] == "closed"


async def test_primary_rate_limit_403_waits_until_the_reset() -> None:
    reset = int(time.time()) + 120
    replay = Replay().on(
        "GET",
        f"{ISSUES}/1347",
        json_response(
            {"message": "API rate limit exceeded for user ID 583231."},
            403,
            rate_headers(remaining=0, reset=reset),
        ),
    )
    async with with_token(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as error:
            await run_method(runtime, ctx, "issues", "find_by_id", parameters=REPO, id="1347")
    assert error.value.key == "rate_limit_exceeded"
    assert error.value.retry_after is not None and 110 <= error.value.retry_after <= 120


async def test_secondary_rate_limit_uses_retry_after() -> None:
    message = (
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
        "again. If you reach out to GitHub Support for help, please include the request ID "
        "DBE4:2B3C:1A2B3C:4D5E6F:665F0A1B."
    )
    replay = Replay().on(
        "GET",
        f"{ISSUES}/1347",
        json_response({"message": message}, 403, {"retry-after": "30", **rate_headers(4100)}),
    )
    async with with_token(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as error:
            await run_method(runtime, ctx, "issues", "find_by_id", parameters=REPO, id="1347")
    assert error.value.key == "rate_limit_exceeded"
    assert error.value.retry_after == 30


async def test_forbidden_without_rate_limit_stays_a_bad_request() -> None:
    replay = Replay().on(
        "PATCH",
        f"{ISSUES}/1347",
        json_response({"message": "Resource not accessible by integration"}, 403, rate_headers()),
    )
    async with with_token(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as error:
            await run_method(
                runtime, ctx, "issues", "update", parameters=REPO, id="1347", fields={"title": "x"}
            )
    assert error.value.key == "bad_request"


async def test_create_issue_operation_returns_the_number_and_url() -> None:
    replay = Replay().on("POST", ISSUES, json_response(fixture("issue_created.json"), 201))
    async with with_token(replay) as (runtime, ctx):
        output = await run_operation(
            runtime,
            ctx,
            "create-issue",
            {"owner": "octocat", "repo": "Hello-World", "title": "Found a bug"},
        )
    assert replay.body() == {"title": "Found a bug"}
    assert output == {
        "number": 1352,
        "id": 1936000001,
        "url": "https://github.com/octocat/Hello-World/issues/1352",
    }


def test_issue_maps_to_the_unified_task() -> None:
    connector_issue = fixture("issues_page1.json")[0]
    collection = SPEC.collection("issues")
    assert collection is not None and collection.udm is not None
    task = evaluate(collection.udm.to_udm, {"fields": connector_issue})
    assert task == {
        "title": "Found a bug",
        "description": "I'm having a problem with this.",
        "status": "open",
        "assigneeId": "hubot",
        "dueDate": "2024-06-30T07:00:00Z",
        "url": "https://github.com/octocat/Hello-World/issues/1347",
        "createdTime": "2024-05-01T09:12:44Z",
        "updatedTime": "2024-05-20T14:03:10Z",
    }
    back = evaluate(
        collection.udm.from_udm,
        {
            "udm": {
                "title": "Ship it",
                "description": "Soon",
                "status": "done",
                "assigneeId": "hubot",
            }
        },
    )
    assert back == {"title": "Ship it", "body": "Soon", "state": "closed", "assignees": ["hubot"]}


def test_webhook_signature_matches_githubs_test_vector() -> None:
    """The example from GitHub's "Validating webhook deliveries" guide."""
    assert SPEC.webhooks is not None and SPEC.webhooks.signature is not None
    context = {"webhook": {"secret": "It's a Secret to Everybody"}}
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    headers = {"X-GitHub-Event": "issues", "X-Hub-Signature-256": signature}
    verify_signature(SPEC.webhooks.signature, headers, b"Hello, World!", context)
    with pytest.raises(WebhookVerificationError):
        verify_signature(SPEC.webhooks.signature, headers, b"Hello, World?", context)

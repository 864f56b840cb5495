"""Jira connector against replayed Jira Cloud REST v3 responses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.registry import load_connector
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from connectors.runtime.webhooks import WebhookVerificationError, verify_signature
from core.formulas import evaluate
from tests.connectors.harness import Replay, harness, json_response

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = load_connector(Path(__file__).parents[3] / "connectors" / "jira" / "connector.yaml")
CLOUD_ID = "a436116f-02ce-4520-8fbb-7301462a1674"
GATEWAY = f"/ex/jira/{CLOUD_ID}"
API_TOKEN = {"email": "mia@example.com", "apiToken": "ATATT3xFfGF0T9xq1c7", "cloudId": CLOUD_ID}


def with_api_token(replay: Replay) -> Any:
    return harness(replay, "jira", auth_key="api-token", inputs=API_TOKEN)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


async def test_issues_list_pages_with_start_at_until_total() -> None:
    page1 = fixture("search_page1.json")
    filler = [
        {**page1["issues"][1], "id": str(11000 + i), "key": f"KAN-{100 + i}"} for i in range(48)
    ]
    page1["issues"] += filler
    replay = Replay().on(
        "GET",
        f"{GATEWAY}/rest/api/3/search",
        json_response(page1),
        json_response(fixture("search_page2.json")),
    )
    async with with_api_token(replay) as (runtime, ctx):
        first = await run_method(runtime, ctx, "issues", "list", parameters={"projectKey": "KAN"})
        second = await run_method(
            runtime,
            ctx,
            "issues",
            "list",
            parameters={"projectKey": "KAN"},
            cursor=first["cursor"],
        )

    sent = replay.requests[0]
    assert str(sent.url).startswith(f"https://api.atlassian.com{GATEWAY}/rest/api/3/search?")
    expected = base64.b64encode(b"mia@example.com:ATATT3xFfGF0T9xq1c7").decode()
    assert sent.headers["authorization"] == f"Basic {expected}"
    assert dict(sent.url.params) == {
        "jql": 'project = "KAN" ORDER BY updated DESC',
        "startAt": "0",
        "maxResults": "50",
    }
    assert dict(replay.requests[1].url.params) == {**dict(sent.url.params), "startAt": "50"}
    assert len(first["records"]) == 50
    issue = page1["issues"][0]
    assert first["records"][0] == {
        "id": "10012",
        "name": "Checkout button does nothing on Safari",
        "fields": {**issue["fields"], "key": "KAN-13"},
        "createdTime": "2024-05-02T09:14:21.530+0200",
        "updatedTime": "2024-05-21T16:02:44.118+0200",
    }
    assert [(r["id"], r["fields"]["key"]) for r in second["records"]] == [("10001", "KAN-2")]
    assert second["cursor"] is None


async def test_create_issue_sends_fields_with_the_project_and_adf_description() -> None:
    replay = Replay().on(
        "POST", f"{GATEWAY}/rest/api/3/issue", json_response(fixture("issue_created.json"), 201)
    )
    async with with_api_token(replay) as (runtime, ctx):
        result = await run_method(
            runtime,
            ctx,
            "issues",
            "create",
            parameters={"projectKey": "KAN"},
            fields={
                "summary": "Refund fails for partial orders",
                "issuetype": {"name": "Bug"},
                "description": "Seen on order 1042.",
                "labels": ["payments"],
                "customfield_10020": 42,
                "status": {"name": "Done"},
            },
        )

    request = replay.requests[0]
    assert (request.method, request.url.path) == ("POST", f"{GATEWAY}/rest/api/3/issue")
    assert replay.body() == {
        "fields": {
            "project": {"key": "KAN"},
            "summary": "Refund fails for partial orders",
            "issuetype": {"name": "Bug"},
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [{"type": "text", "text": "Seen on order 1042."}],
                    }
                ],
            },
            "labels": ["payments"],
            "customfield_10020": 42,
        }
    }
    assert result["record"] == {
        "id": "10013",
        "name": None,
        "fields": {"key": "KAN-14"},
        "createdTime": None,
        "updatedTime": None,
    }


async def test_create_issue_operation_builds_the_fields() -> None:
    replay = Replay().on(
        "POST", f"{GATEWAY}/rest/api/3/issue", json_response(fixture("issue_created.json"), 201)
    )
    async with with_api_token(replay) as (runtime, ctx):
        output = await run_operation(
            runtime,
            ctx,
            "create-issue",
            {
                "projectKey": "KAN",
                "summary": "Refund fails",
                "issueType": "Bug",
                "priority": "High",
                "assigneeAccountId": "5b10a2844c20165700ede21g",
            },
        )
    assert replay.body() == {
        "fields": {
            "project": {"key": "KAN"},
            "summary": "Refund fails",
            "issuetype": {"name": "Bug"},
            "assignee": {"accountId": "5b10a2844c20165700ede21g"},
            "priority": {"name": "High"},
        }
    }
    assert output["key"] == "KAN-14"


def test_issue_maps_to_the_unified_task() -> None:
    collection = SPEC.collection("issues")
    assert collection is not None and collection.udm is not None
    raw = fixture("search_page1.json")["issues"][0]
    task = evaluate(collection.udm.to_udm, {"fields": {**raw["fields"], "key": raw["key"]}})
    assert task == {
        "title": "Checkout button does nothing on Safari",
        "description": "Clicking Pay now\nSafari 17.4 only.",
        "status": "In Progress",
        "assigneeId": "5b10a2844c20165700ede21g",
        "dueDate": "2024-05-31",
        "projectId": "10000",
        "createdTime": "2024-05-02T09:14:21.530+0200",
        "updatedTime": "2024-05-21T16:02:44.118+0200",
    }
    back = evaluate(
        collection.udm.from_udm,
        {"udm": {"title": "Refund fails", "description": "Details", "assigneeId": "abc"}},
    )
    assert back == {
        "summary": "Refund fails",
        "description": "Details",
        "assignee": {"accountId": "abc"},
    }


def test_admin_webhook_signature_is_checked() -> None:
    assert SPEC.webhooks is not None and SPEC.webhooks.signature is not None
    body = json.dumps(
        {
            "timestamp": 1716300000000,
            "webhookEvent": "jira:issue_created",
            "issue_event_type_name": "issue_created",
            "issue": fixture("search_page1.json")["issues"][0],
        }
    ).encode()
    secret = "Zx8rT2pLq9Vw"
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature": f"sha256={digest}", "X-Atlassian-Webhook-Identifier": "1-2"}
    context = {"integration": {"parameters": {"webhookSecret": secret}}}
    verify_signature(SPEC.webhooks.signature, headers, body, context)
    with pytest.raises(WebhookVerificationError):
        verify_signature(SPEC.webhooks.signature, headers, body + b" ", context)

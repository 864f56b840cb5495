"""Linear connector against replayed Linear GraphQL responses."""

from __future__ import annotations

import hashlib
import hmac
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
SPEC = load_connector(Path(__file__).parents[3] / "connectors" / "linear" / "connector.yaml")
API_KEY = "lin_api_Qm7cV0xk3N5pR8sT1wY4zB6dF9gH2jL"
TEAM_ID = "9cfb482a-81e3-4154-b5b9-2c805e70a02d"


def with_api_key(replay: Replay) -> Any:
    return harness(replay, "linear", auth_key="api-key", inputs={"apiKey": API_KEY})


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def graphql_error(code: str, message: str, presentable: str, **extensions: Any) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": message,
                "locations": [{"line": 1, "column": 3}],
                "extensions": {
                    "code": code,
                    "type": code.lower().replace("_", " "),
                    "userError": True,
                    "userPresentableMessage": presentable,
                    **extensions,
                },
            }
        ],
        "data": None,
    }


async def test_issues_list_sends_the_cursor_in_graphql_variables() -> None:
    replay = Replay().on(
        "POST",
        "/graphql",
        json_response(fixture("issues_page1.json")),
        json_response(fixture("issues_page2.json")),
    )
    async with with_api_key(replay) as (runtime, ctx):
        params = {"teamId": TEAM_ID}
        first = await run_method(runtime, ctx, "issues", "list", parameters=params)
        second = await run_method(
            runtime, ctx, "issues", "list", parameters=params, cursor=first["cursor"]
        )

    assert replay.requests[0].headers["authorization"] == API_KEY
    first_body, second_body = replay.body(0), replay.body(1)
    assert first_body["query"].startswith("query Issues($first: Int, $after: String")
    assert "page: issues(first: $first, after: $after" in first_body["query"]
    assert first_body["variables"] == {"filter": {"team": {"id": {"eq": TEAM_ID}}}, "first": 50}
    assert second_body["variables"] == {
        **first_body["variables"],
        "after": "3c4d5e6f-7081-4a2b-93c4-d5e6f708192a",
    }
    node = fixture("issues_page1.json")["data"]["page"]["nodes"][0]
    assert first["records"][0] == {
        "id": "2b3c4d5e-6f70-4819-a2b3-c4d5e6f70819",
        "name": "Payment webhook retries twice",
        "fields": node,
        "createdTime": "2024-05-14T08:21:03.114Z",
        "updatedTime": "2024-05-21T17:40:12.902Z",
    }
    assert [r["fields"]["identifier"] for r in first["records"]] == ["ENG-412", "ENG-409"]
    assert [r["name"] for r in second["records"]] == ["Flaky login e2e test"]
    assert second["cursor"] is None


async def test_create_issue_sends_the_mutation_input() -> None:
    replay = Replay().on("POST", "/graphql", json_response(fixture("issue_created.json")))
    async with with_api_key(replay) as (runtime, ctx):
        result = await run_method(
            runtime,
            ctx,
            "issues",
            "create",
            parameters={"teamId": TEAM_ID},
            fields={
                "title": "Refund button missing on mobile",
                "description": "Seen on iOS 17.",
                "priority": 2,
                "assigneeId": "8d2a5b1e-3f0c-4b7a-9e61-2c4d8f0a1b23",
            },
        )

    request = replay.requests[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.linear.app/graphql")
    body = replay.body()
    assert body["query"].startswith(
        "mutation IssueCreate($input: IssueCreateInput!) { result: issueCreate(input: $input)"
    )
    assert body["variables"] == {
        "input": {
            "teamId": TEAM_ID,
            "title": "Refund button missing on mobile",
            "description": "Seen on iOS 17.",
            "priority": 2,
            "assigneeId": "8d2a5b1e-3f0c-4b7a-9e61-2c4d8f0a1b23",
        }
    }
    record = result["record"]
    assert record["id"] == "5e6f7081-92a3-4b4c-b5e6-f708192a3b4c"
    assert record["name"] == "Refund button missing on mobile"
    assert record["fields"]["identifier"] == "ENG-415"
    assert record["createdTime"] == "2024-05-22T10:04:55.310Z"


async def test_authentication_error_with_http_200_is_access_token_expired() -> None:
    replay = Replay().on(
        "POST",
        "/graphql",
        json_response(
            graphql_error(
                "AUTHENTICATION_ERROR",
                "Authentication required, not authenticated",
                "You need to authenticate to access this operation.",
            )
        ),
    )
    async with with_api_key(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as error:
            await run_operation(runtime, ctx, "get-viewer", {})
    assert error.value.key == "access_token_expired"
    assert error.value.message.endswith("You need to authenticate to access this operation.")


async def test_ratelimited_error_waits_for_the_exhausted_limit() -> None:
    reset_ms = int((time.time() + 90) * 1000)
    replay = Replay().on(
        "POST",
        "/graphql",
        json_response(
            graphql_error("RATELIMITED", "Rate limit exceeded", "Too many requests."),
            400,
            {
                "X-RateLimit-Requests-Limit": "2500",
                "X-RateLimit-Requests-Remaining": "0",
                "X-RateLimit-Requests-Reset": str(reset_ms),
                "X-RateLimit-Complexity-Limit": "3000000",
                "X-RateLimit-Complexity-Remaining": "2999000",
                "X-RateLimit-Complexity-Reset": str(int(time.time() * 1000) + 5000),
            },
        ),
    )
    async with with_api_key(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as error:
            await run_method(runtime, ctx, "issues", "list")
    assert error.value.key == "rate_limit_exceeded"
    assert error.value.retry_after is not None and 85 <= error.value.retry_after <= 90


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("FORBIDDEN", "bad_request"),
        ("INVALID_INPUT", "bad_request"),
        ("INTERNAL_ERROR", "server_error"),
    ],
)
async def test_other_graphql_errors_map_to_their_keys(code: str, key: str) -> None:
    replay = Replay().on(
        "POST", "/graphql", json_response(graphql_error(code, "Failed", "Something failed."))
    )
    async with with_api_key(replay) as (runtime, ctx):
        with pytest.raises(ConnectorError) as error:
            await run_operation(
                runtime, ctx, "create-issue", {"teamId": TEAM_ID, "title": "Broken"}
            )
    assert error.value.key == key


async def test_partial_data_is_not_an_error() -> None:
    partial = {
        "data": {"record": {"id": "u1", "name": "Karen", "organization": None}},
        "errors": [{"message": "Forbidden", "path": ["viewer", "organization"]}],
    }
    replay = Replay().on("POST", "/graphql", json_response(partial))
    async with with_api_key(replay) as (runtime, ctx):
        me = await run_operation(runtime, ctx, "get-viewer", {})
    assert me["name"] == "Karen"


def test_issue_maps_to_the_unified_task() -> None:
    collection = SPEC.collection("issues")
    assert collection is not None and collection.udm is not None
    node = fixture("issues_page1.json")["data"]["page"]["nodes"][0]
    assert evaluate(collection.udm.to_udm, {"fields": node}) == {
        "title": "Payment webhook retries twice",
        "description": "Stripe sends `invoice.paid` twice; we **double-credit**.",
        "status": "In Progress",
        "assigneeId": "8d2a5b1e-3f0c-4b7a-9e61-2c4d8f0a1b23",
        "dueDate": "2024-05-31",
        "projectId": "5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f",
        "url": node["url"],
        "createdTime": "2024-05-14T08:21:03.114Z",
        "updatedTime": "2024-05-21T17:40:12.902Z",
    }


def test_webhook_signature_is_the_hex_hmac_of_the_body() -> None:
    assert SPEC.webhooks is not None and SPEC.webhooks.signature is not None
    node = fixture("issues_page1.json")["data"]["page"]["nodes"][0]
    body = json.dumps(
        {
            "action": "update",
            "type": "Issue",
            "data": node,
            "url": node["url"],
            "createdAt": "2024-05-21T17:40:13.001Z",
            "organizationId": "e1b2c3d4-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            "webhookTimestamp": 1716313213001,
            "webhookId": "0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d",
        }
    ).encode()
    secret = "lin_wh_8Kq2xR7mN4pV"
    headers = {
        "Linear-Delivery": "234d1a4e-b617-4388-90fe-adc3633d6b72",
        "Linear-Event": "Issue",
        "Linear-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    context = {"webhook": {"secret": secret}}
    sent = 1716313213001 / 1000  # webhookTimestamp: Linear rejects deliveries a minute old
    verify_signature(SPEC.webhooks.signature, headers, body, context, now=sent + 5)
    with pytest.raises(WebhookVerificationError):
        verify_signature(
            SPEC.webhooks.signature,
            headers,
            body.replace(b"update", b"remove"),
            context,
            now=sent + 5,
        )

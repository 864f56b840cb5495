"""Generated connectors work: operations run through the connector runtime against a mock API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from connectors.openapi import ImportResult
from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectionContext, ConnectorRuntime, MemoryApiLogSink
from connectors.runtime.operations import run_operation
from connectors.spec import ConnectorSpec
from core.errors import OsmoError
from core.models import utcnow
from tests.connectors.harness import MemoryCredentialStore, Replay, json_response

Imported = Callable[[str], ImportResult]


class OnlyRegistry(ConnectorRegistry):
    """A registry holding just the generated connector (it is not on disk)."""

    def __init__(self, spec: ConnectorSpec) -> None:
        self._specs = {spec.key: spec}


@asynccontextmanager
async def connected(
    spec: ConnectorSpec,
    replay: Replay,
    auth_key: str | None = None,
    *,
    inputs: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[ConnectorRuntime, ConnectionContext]]:
    auth = spec.auth_option(auth_key)
    assert auth is not None
    expires_at = utcnow() + timedelta(hours=1)
    store = MemoryCredentialStore(dict(credentials or {}), expires_at)
    runtime = ConnectorRuntime(
        OnlyRegistry(spec), store, MemoryApiLogSink(), transport=httpx.MockTransport(replay)
    )
    ctx = ConnectionContext(
        connector=spec,
        auth=auth,
        customer_id="customer-1",
        integration_key=spec.key,
        client_id="client-id",
        client_secret="client-secret",
        integration_parameters={},
        scopes=[],
        inputs=dict(inputs or {}),
        credentials=dict(credentials or {}),
        credentials_version=1,
        token_expires_at=expires_at,
        connection_id="connection-1",
    )
    try:
        yield runtime, ctx
    finally:
        await runtime.aclose()


async def test_github_issue_is_created_with_a_json_body(imported: Imported) -> None:
    spec = imported("github").connector
    replay = Replay().on(
        "POST", "/repos/octo/hello-world/issues", json_response({"number": 7}, 201)
    )
    async with connected(spec, replay) as (runtime, ctx):
        result = await run_operation(
            runtime,
            ctx,
            "issues-create",
            {"owner": "octo", "repo": "hello-world", "title": "Broken", "labels": ["bug"]},
        )
    assert result == {"number": 7}
    (request,) = replay.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.github.com/repos/octo/hello-world/issues"
    # Inputs that were not given are left out of the body, not sent as null.
    assert replay.body() == {"title": "Broken", "labels": ["bug"]}


async def test_github_listing_sends_only_the_query_parameters_given(imported: Imported) -> None:
    spec = imported("github").connector
    replay = Replay().on("GET", "/repos/octo/hello world/issues", json_response([]))
    async with connected(spec, replay) as (runtime, ctx):
        await run_operation(
            runtime,
            ctx,
            "issues-list-for-repo",
            {"owner": "octo", "repo": "hello world", "state": "closed", "per_page": 5},
        )
    (request,) = replay.requests
    assert request.url.raw_path == b"/repos/octo/hello%20world/issues?state=closed&per_page=5"


async def test_a_missing_required_input_is_a_422_and_nothing_is_sent(imported: Imported) -> None:
    spec = imported("github").connector
    replay = Replay()
    async with connected(spec, replay) as (runtime, ctx):
        with pytest.raises(OsmoError) as raised:
            await run_operation(runtime, ctx, "issues-create", {"owner": "octo", "repo": "r"})
    assert raised.value.status == 422
    assert raised.value.data["errors"] == [{"path": "input.title", "message": "is required"}]
    assert replay.requests == []


async def test_slack_message_is_posted_as_a_form_with_the_oauth_token(imported: Imported) -> None:
    spec = imported("slack").connector
    replay = Replay().on("POST", "/api/chat.postMessage", json_response({"ok": True, "ts": "1.2"}))
    async with connected(spec, replay, credentials={"access_token": "xoxb-1"}) as (runtime, ctx):
        result = await run_operation(
            runtime,
            ctx,
            "chat-post-message",
            {"channel": "C123", "text": "Hello", "unfurl_links": False},
        )
    assert result == {"ok": True, "ts": "1.2"}
    (request,) = replay.requests
    assert request.headers["authorization"] == "Bearer xoxb-1"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert replay.body() == {"channel": "C123", "text": "Hello", "unfurl_links": "false"}


async def test_asana_search_with_a_personal_access_token(imported: Imported) -> None:
    spec = imported("asana").connector
    replay = Replay().on("GET", "/api/1.0/workspaces/123/tasks/search", json_response({"data": []}))
    async with connected(spec, replay, "personal-access-token", inputs={"apiKey": "pat-1"}) as (
        runtime,
        ctx,
    ):
        await run_operation(
            runtime,
            ctx,
            "search-tasks-for-workspace",
            {
                "workspace_gid": "123",
                "assignee.any": "me",
                "opt_fields": ["name", "due_on"],
                "completed": False,
            },
        )
    (request,) = replay.requests
    assert request.headers["authorization"] == "Bearer pat-1"
    assert dict(request.url.params) == {
        "assignee.any": "me",
        "opt_fields": "name,due_on",
        "completed": "false",
    }


async def test_intercom_version_header_and_credential_test(imported: Imported) -> None:
    spec = imported("intercom").connector
    replay = Replay().on("GET", "/me", json_response({"type": "admin", "id": "1"}))
    async with connected(spec, replay, inputs={"apiKey": "tok"}) as (runtime, ctx):
        assert await runtime.test(ctx) == {"type": "admin", "id": "1"}
        await run_operation(runtime, ctx, "identify-admin", {"Intercom-Version": "2.16"})
    first, second = replay.requests
    assert first.headers["authorization"] == "Bearer tok"
    assert "intercom-version" not in first.headers
    assert second.headers["intercom-version"] == "2.16"

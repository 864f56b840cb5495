"""Answers are read by their content type: JSON parsed, text as text, bytes as base64, nothing
as None, and a body that claims JSON but is not is `invalid_json_response`, never a raw
`JSONDecodeError` (issue 11)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.connectors import ApiRequestInput, ConnectorActivities
from connectors.runtime import ConnectorError
from connectors.runtime.bodies import response_body
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from core.stores.connections import StoredConnection
from tests.connectors.harness import Replay, harness

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


def answer(content: bytes, content_type: str | None, status: int = 200) -> httpx.Response:
    headers = {"content-type": content_type} if content_type else {}
    return httpx.Response(status, content=content, headers=headers)


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b'{"id": 1}', "application/json; charset=utf-8", {"id": 1}),
        (b'{"title": "Gone"}', "application/problem+json", {"title": "Gone"}),
        (b"[1, 2]", "application/vnd.api+json", [1, 2]),
        (b"id,name\n1,Ada\n", "text/csv", "id,name\n1,Ada\n"),
        (
            b"<html><body>Hi</body></html>",
            "text/html; charset=utf-8",
            "<html><body>Hi</body></html>",
        ),
        (b"<a>1</a>", "application/xml", "<a>1</a>"),
        (b"caf\xc3\xa9", "text/plain; charset=utf-8", "café"),
        (b"", "application/json", None),
        (b"", None, None),
        (b'{"ok": true}', None, {"ok": True}),  # no header: JSON when it parses
        (b"plain words", None, "plain words"),
    ],
)
def test_bodies_are_read_by_their_content_type(
    content: bytes, content_type: str | None, expected: Any
) -> None:
    assert response_body(answer(content, content_type)) == expected


@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream", None])
def test_binary_bodies_are_base64_with_their_content_type(content_type: str | None) -> None:
    body = response_body(answer(PNG, content_type))
    assert body == {
        "contentType": content_type or "application/octet-stream",
        "base64": base64.b64encode(PNG).decode(),
    }
    assert base64.b64decode(body["base64"]) == PNG


@pytest.mark.parametrize(
    "content", [b"<html>502 Bad Gateway</html>", b'{"id": 1', b"\xff\xfe not utf-8"]
)
def test_a_body_that_claims_json_but_is_not_is_a_typed_error(content: bytes) -> None:
    with pytest.raises(ConnectorError) as caught:
        response_body(answer(content, "application/json"))
    error = caught.value
    assert error.key == "invalid_json_response"
    assert error.status == 502 and not error.retryable
    assert error.to_dict()["data"] == {"contentType": "application/json", "upstreamStatus": 200}


async def test_operations_return_text_and_refuse_broken_json() -> None:
    replay = Replay().on(
        "GET",
        "/repos/octocat/hello/issues/1",
        answer(b"number,title\n1,Bug\n", "text/csv"),
        answer(b"<html>oops</html>", "application/json"),
    )
    issue = {"owner": "octocat", "repo": "hello", "issueNumber": 1}
    async with harness(replay, "github", credentials={"access_token": "t"}) as (runtime, ctx):
        assert await run_operation(runtime, ctx, "get-issue", issue) == "number,title\n1,Bug\n"
        with pytest.raises(ConnectorError) as caught:
            await run_operation(runtime, ctx, "get-issue", issue)
    assert caught.value.key == "invalid_json_response"


async def test_collection_methods_refuse_broken_json_and_accept_empty_answers() -> None:
    replay = (
        Replay()
        .on("GET", "/repos/o/r/issues", answer(b"[{", "application/json"))
        .on("DELETE", "/repos/o/r/issues/comments/7", answer(b"", None, 204))
    )
    parameters = {"owner": "o", "repo": "r"}
    async with harness(replay, "github", credentials={"access_token": "t"}) as (runtime, ctx):
        with pytest.raises(ConnectorError) as caught:
            await run_method(runtime, ctx, "issues", "list", parameters=parameters)
        deleted = await run_method(
            runtime,
            ctx,
            "issue-comments",
            "delete",
            parameters={**parameters, "issueNumber": 1},
            id="7",
        )
    assert caught.value.key == "invalid_json_response"
    assert deleted == {}


class OneConnection:
    """The activity's connection store, holding one GitHub connection."""

    def load(self, connection_id: str) -> StoredConnection:
        return StoredConnection(
            id=connection_id,
            customer_id="customer-1",
            tenant_key="acme",
            integration_id="integration-1",
            integration_key="github",
            connector_key="github",
            auth_option_key="oauth-app",
            state="connected",
            client_id="client-id",
            client_secret="client-secret",
            integration_parameters={},
            scopes=[],
            credentials={"access_token": "gho_secret_token_value"},
            credentials_version=1,
        )


async def test_api_request_answers_every_content_type() -> None:
    replay = (
        Replay()
        .on("GET", "/repos/o/r/tarball/main", answer(PNG, "application/x-gzip"))
        .on("GET", "/repos/o/r/readme", answer(b"# Hello", "text/markdown"))
        .on("GET", "/repos/o/r", answer(b"{", "application/json"))
    )
    async with harness(replay, "github") as (runtime, _):
        activities = ConnectorActivities(runtime, OneConnection(), cache=False)  # type: ignore[arg-type]
        environment = ActivityEnvironment()

        async def call(path: str) -> Any:
            return await environment.run(
                activities.api_request, ApiRequestInput("connection-1", "GET", path)
            )

        tarball = await call("/repos/o/r/tarball/main")
        readme = await call("/repos/o/r/readme")
        with pytest.raises(Exception) as caught:
            await call("/repos/o/r")
    assert tarball.body == {
        "contentType": "application/x-gzip",
        "base64": base64.b64encode(PNG).decode(),
    }
    assert readme.body == "# Hello"
    assert getattr(caught.value, "type", None) == "invalid_json_response"
    assert getattr(caught.value, "non_retryable", None) is True

"""The runtime contract every built-in connector keeps, run against each one's spec.

One representative request per connector (a `find_by_id`, from the table below) meets the
answers every API gives: a 401 on a refreshable OAuth 2.0 token refreshes it once (as the
spec says: token URL, client authentication) and retries; a 401 on a pasted credential is
`access_token_expired` after one request; a rate-limit status is `rate_limit_exceeded` with
the wait the app asked for (or the connector's default); a 404 is `not_found` with the
vendor's message; and every operation refuses input missing a required property before
anything is sent. Vendor quirks beyond this contract (errors in HTTP 200, rate limits on
403, token values kept across refreshes) stay in each connector's own tests.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from connectors.catalog import integration_parameters, sample_credentials, sample_value
from connectors.registry import BUILTIN
from connectors.runtime import ConnectionContext, ConnectorError
from connectors.runtime.collections import run_method
from connectors.runtime.operations import run_operation
from connectors.runtime.templates import render
from connectors.spec import AuthOption, ConnectorSpec, OAuth2Option
from core.errors import OsmoError
from tests.connectors.harness import builtin_registry, harness, json_response

KEYS = sorted(path.parent.name for path in BUILTIN.glob("*/connector.yaml"))


@dataclass(frozen=True)
class Representative:
    """One request of a connector, and how its app says 'not found'."""

    collection: str
    not_found: Any = field(repr=False)
    message: str | None
    not_found_status: int = 404
    parameters: dict[str, Any] | None = None  # when sample values do not fit the schema


# `not_found` bodies are shaped as each vendor documents its errors.
CONTRACT: dict[str, Representative] = {
    "airtable": Representative(
        "records",
        {"error": {"type": "NOT_FOUND", "message": "Could not find what you are looking for"}},
        "Could not find what you are looking for",
        parameters={"baseId": "appLkNDICXNqxSDhG", "tableIdOrName": "Tasks"},
    ),
    "asana": Representative(
        "tasks",
        {"errors": [{"message": "task: Unknown object: 1204567890000000"}]},
        "Unknown object",
    ),
    "clickup": Representative(
        "tasks", {"err": "Task not found, deleted", "ECODE": "ITEM_013"}, "Task not found"
    ),
    "github": Representative("issues", {"message": "Not Found"}, "Not Found"),
    "gitlab": Representative("issues", {"message": "404 Project Not Found"}, "Project Not Found"),
    "hubspot": Representative(
        "contacts",
        {"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"},
        "resource not found",
    ),
    "intercom": Representative(
        "contacts",
        {"type": "error.list", "errors": [{"code": "not_found", "message": "User Not Found"}]},
        "User Not Found",
    ),
    "jira": Representative(
        "issues",
        {"errorMessages": ["Issue does not exist or you do not have permission to see it."]},
        "Issue does not exist",
        parameters={"projectKey": "ENG"},
    ),
    "linear": Representative(
        "issues",
        {
            "errors": [
                {
                    "message": "Entity not found: Issue",
                    "extensions": {"code": "ENTITY_NOT_FOUND", "type": "invalid input"},
                }
            ],
            "data": None,
        },
        "Entity not found",
        not_found_status=200,
    ),
    "notion": Representative(
        "database-pages",
        {
            "object": "error",
            "status": 404,
            "code": "object_not_found",
            "message": "Could not find page.",
        },
        "Could not find page",
    ),
    "pipedrive": Representative(
        "persons", {"success": False, "error": "Person not found"}, "Person not found"
    ),
    "salesforce": Representative(
        "contacts",
        [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
        "does not exist",
    ),
    "slack": Representative(
        "channels", {"ok": False, "error": "channel_not_found"}, "channel_not_found", 200
    ),
    "stripe": Representative(
        "customers",
        {"error": {"type": "invalid_request_error", "message": "No such customer: 'cus_x'"}},
        "No such customer",
    ),
    # Trello answers errors in plain text, which carries no more than the status.
    "trello": Representative("cards", "The requested resource was not found.", None),
    "zendesk": Representative(
        "tickets", {"error": "RecordNotFound", "description": "Not found"}, "Not found"
    ),
}


def spec(key: str) -> ConnectorSpec:
    found = builtin_registry().get(key)
    assert found is not None
    return found


def test_every_connector_has_a_representative_request() -> None:
    assert sorted(CONTRACT) == KEYS
    for key, representative in CONTRACT.items():
        collection = spec(key).collection(representative.collection)
        assert collection is not None and collection.find_by_id is not None, key


class Script:
    """Answers the token endpoint with a new token and every other request from a queue."""

    def __init__(self, token_path: str | None, *answers: httpx.Response) -> None:
        self.token_path = token_path
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == self.token_path:
            return json_response(
                {
                    "access_token": "new-access",
                    "refresh_token": "new-refresh",
                    "token_type": "bearer",
                    "expires_in": 3600,
                }
            )
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _inputs(option: AuthOption) -> dict[str, Any]:
    return sample_value(option.input_schema) if option.input_schema else {}


async def _find(
    key: str, option: AuthOption, credentials: dict[str, Any], script: Script
) -> tuple[dict[str, Any], ConnectionContext]:
    representative = CONTRACT[key]
    collection = spec(key).collection(representative.collection)
    assert collection is not None
    schema = collection.parameters_schema
    parameters = representative.parameters or (sample_value(schema) if schema else {})
    replay: Callable[[httpx.Request], httpx.Response] = script
    async with harness(  # type: ignore[arg-type]
        replay,
        key,
        auth_key=option.key,
        credentials=credentials,
        inputs=_inputs(option),
        parameters=integration_parameters(spec(key)),
    ) as (runtime, ctx):
        result = await run_method(
            runtime, ctx, collection.key, "find_by_id", parameters=parameters, id="sample-id"
        )
        return result, ctx


def _refreshable(key: str) -> OAuth2Option | None:
    return next((o for o in spec(key).auth if isinstance(o, OAuth2Option) and o.refresh), None)


def _credentials(option: AuthOption) -> dict[str, Any]:
    return {
        **sample_credentials(option),
        "access_token": "old-access",
        "refresh_token": "old-refresh",
    }


@pytest.mark.parametrize("key", [k for k in KEYS if _refreshable(k)])
async def test_a_401_refreshes_the_token_once_and_retries(key: str) -> None:
    option = _refreshable(key)
    assert option is not None
    credentials = _credentials(option)
    context = {
        "inputs": _inputs(option),
        "credentials": credentials,
        "integration": {"parameters": integration_parameters(spec(key))},
    }
    token_url = httpx.URL(render(option.token_url, context))
    record = {"id": "sample-id"}
    script = Script(token_url.path, json_response({}, 401), json_response(record))
    _, ctx = await _find(key, option, credentials, script)

    rejected, token, retried = script.requests
    assert "old-access" in " ".join(rejected.headers.values())
    assert (token.method, token.url.host, token.url.path) == (
        "POST",
        token_url.host,
        token_url.path,
    )
    grant = dict(httpx.QueryParams(token.content.decode()))
    assert grant["grant_type"] == "refresh_token" and grant["refresh_token"] == "old-refresh"
    if option.client_auth == "basic":
        basic = base64.b64encode(b"client-id:client-secret").decode()
        assert token.headers["authorization"] == f"Basic {basic}"
    else:
        assert (grant["client_id"], grant["client_secret"]) == ("client-id", "client-secret")
    assert "new-access" in " ".join(retried.headers.values())
    assert retried.url == rejected.url
    assert ctx.credentials["refresh_token"] == "new-refresh"


def _pasted(key: str) -> AuthOption | None:
    return next((o for o in spec(key).auth if o.type in ("api-key", "basic", "custom")), None)


@pytest.mark.parametrize("key", [k for k in KEYS if _pasted(k)])
async def test_a_401_with_a_pasted_credential_is_access_token_expired(key: str) -> None:
    option = _pasted(key)
    assert option is not None
    script = Script(None, json_response({}, 401))
    with pytest.raises(ConnectorError) as caught:
        await _find(key, option, {}, script)

    assert caught.value.key == "access_token_expired"
    assert len(script.requests) == 1


@pytest.mark.parametrize("key", KEYS)
async def test_a_rate_limit_waits_as_long_as_the_app_asks(key: str) -> None:
    option = spec(key).auth[0]
    limits = spec(key).api.rate_limit
    status = limits.statuses[0]
    asked = json_response({}, status, headers={limits.retry_after_header: "7"})
    silent = json_response({}, status)
    for answer, wait in ((asked, 7.0), (silent, limits.default_retry_after)):
        script = Script(None, answer)
        with pytest.raises(ConnectorError) as caught:
            await _find(key, option, _credentials(option), script)
        assert caught.value.key == "rate_limit_exceeded"
        assert caught.value.retry_after == wait
        assert len(script.requests) == 1


@pytest.mark.parametrize("key", KEYS)
async def test_a_missing_record_is_not_found_with_the_vendors_message(key: str) -> None:
    option = spec(key).auth[0]
    representative = CONTRACT[key]
    body = representative.not_found
    answer = (
        httpx.Response(representative.not_found_status, text=body)
        if isinstance(body, str)
        else json_response(body, representative.not_found_status)
    )
    with pytest.raises(ConnectorError) as caught:
        await _find(key, option, _credentials(option), Script(None, answer))

    assert caught.value.key == "not_found"
    if representative.message is not None:
        assert representative.message in caught.value.message


def _operations_with_required_input(key: str) -> list[tuple[str, str, list[str]]]:
    return [
        (key, operation.key, list(operation.input_schema.get("required", [])))
        for operation in spec(key).operations
        if operation.input_schema.get("required")
    ]


@pytest.mark.parametrize(
    ("key", "operation", "required"),
    [case for key in KEYS for case in _operations_with_required_input(key)],
)
async def test_operations_validate_input_before_sending(
    key: str, operation: str, required: list[str]
) -> None:
    option = spec(key).auth[0]
    script = Script(None, json_response({}))
    async with harness(  # type: ignore[arg-type]
        script, key, auth_key=option.key, credentials=_credentials(option), inputs=_inputs(option)
    ) as (runtime, ctx):
        with pytest.raises(OsmoError) as caught:
            await run_operation(runtime, ctx, operation, {})

    assert caught.value.status == 422
    assert {e["path"] for e in caught.value.data["errors"]} >= {f"input.{r}" for r in required}
    assert script.requests == []

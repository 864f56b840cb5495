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
from tests.connectors.contract_table import CONTRACT, INVALID
from tests.connectors.harness import builtin_registry, harness, json_response

KEYS = sorted(path.parent.name for path in BUILTIN.glob("*/connector.yaml"))


def spec(key: str) -> ConnectorSpec:
    found = builtin_registry().get(key)
    assert found is not None
    return found


def test_every_connector_has_a_representative_request() -> None:
    assert sorted(CONTRACT) == sorted(INVALID) == KEYS
    for key, representative in CONTRACT.items():
        collection = spec(key).collection(representative.collection)
        assert collection is not None and collection.find_by_id is not None, key


class Script:
    """Answers the token endpoint with a new token and every other request from a queue."""

    def __init__(
        self, token_path: str | None, *answers: httpx.Response, token: dict[str, Any] | None = None
    ) -> None:
        self.token_path = token_path
        self.answers = list(answers)
        self.token = {
            "access_token": "new-access",
            "refresh_token": "new-refresh",
            "token_type": "bearer",
            "expires_in": 3600,
            **(token or {}),
        }
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == self.token_path:
            return json_response(self.token)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _token_values(option: OAuth2Option) -> tuple[dict[str, Any], dict[str, Any]]:
    """A token response carrying every value the option keeps, and the credentials it gives."""
    response: dict[str, Any] = {}
    kept: dict[str, Any] = {}
    for name, path in option.token_values.items():
        *parents, last = path.split(".")
        node = response
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = kept[name] = f"https://{name.lower()}.example.com"
    return response, kept


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
    async with harness(
        script,
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
    values, kept = _token_values(option)
    script = Script(token_url.path, json_response({}, 401), json_response(record), token=values)
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
        assert "client_secret" not in grant
    else:
        assert (grant["client_id"], grant["client_secret"]) == ("client-id", "client-secret")
    assert "new-access" in " ".join(retried.headers.values())
    assert (
        retried.url.path == rejected.url.path
    )  # the host may come from the new token (Salesforce)
    # A rotated refresh token replaces the old one; values the spec keeps are kept.
    assert ctx.credentials["refresh_token"] == "new-refresh"
    assert {name: ctx.credentials.get(name) for name in kept} == kept


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


async def _refused(key: str, operation: str, input: dict[str, Any]) -> set[str]:
    """The problem paths of a 422 for `input`, after checking nothing was sent."""
    option = spec(key).auth[0]
    script = Script(None, json_response({}))
    async with harness(
        script, key, auth_key=option.key, credentials=_credentials(option), inputs=_inputs(option)
    ) as (runtime, ctx):
        with pytest.raises(OsmoError) as caught:
            await run_operation(runtime, ctx, operation, input)

    assert caught.value.status == 422
    assert script.requests == []
    return {e["path"] for e in caught.value.data["errors"]}


@pytest.mark.parametrize(
    ("key", "operation", "required"),
    [case for key in KEYS for case in _operations_with_required_input(key)],
)
async def test_operations_validate_input_before_sending(
    key: str, operation: str, required: list[str]
) -> None:
    assert await _refused(key, operation, {}) >= {f"input.{r}" for r in required}


@pytest.mark.parametrize("key", KEYS)
async def test_input_breaking_the_schema_is_refused_with_every_problem(key: str) -> None:
    invalid = INVALID[key]
    assert await _refused(key, invalid.operation, invalid.input) == invalid.paths

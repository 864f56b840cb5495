"""`api-request-to-external-app` on the time-skipping server, through the real connector
activity against the fake CRM: retries follow the normalized error, credentials stay out of
history, and a run without a connection fails with a key, not a Python exception name."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.connectors import ConnectorActivities
from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from tests.conftest import Osmo
from tests.workflows.flow_fixtures import crm_connection
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowRunResult, FlowSnapshot

Run = WorkflowHandle[FlowRunWorkflow, FlowRunResult]


@pytest.fixture
async def start(time_skipping_env: WorkflowEnvironment, osmo_sqlite: Osmo) -> AsyncIterator[Any]:
    """Starts a one-request flow (`t` → `call`) for a connection, on a worker with the real
    connector activity."""
    services = osmo_sqlite.services
    runtime = ConnectorRuntime(
        services.registry, services.connections, DatabaseApiLogSink(services.engine)
    )
    connector = ConnectorActivities(runtime, services.connections)
    queue = str(uuid.uuid4())

    async def start_run(connection_id: str | None, path: str) -> Run:
        nodes: dict[str, dict[str, Any]] = {
            "t": {"type": "api-trigger", "links": [{"key": "call"}]},
            "call": {"type": "api-request-to-external-app", "config": {"path": path}},
        }
        return await time_skipping_env.client.start_workflow(
            FlowRunWorkflow.run,
            FlowRunInput(
                FlowSnapshot("call", "i-1", nodes, connection_id=connection_id),
                connection_limit=None,
            ),
            id=f"flow-run-{uuid.uuid4()}",
            task_queue=queue,
        )

    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[FlowRunWorkflow],
        activities=[connector.api_request],
    ):
        yield start_run
    await runtime.aclose()


def call_run(result: FlowRunResult) -> Any:
    return next(run for run in result.node_runs if run.node_key == "call")


def failed_call(raised: pytest.ExceptionInfo[WorkflowFailureError]) -> dict[str, Any]:
    """The `call` node run in the failure of a flow run that stopped at it."""
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "flow_failed"
    [details] = cause.details
    return next(run for run in details["nodeRuns"] if run["node_key"] == "call")


def decoded_payloads(value: Any) -> str:
    """Every payload in a history, base64-decoded, plus the JSON itself."""
    found: list[str] = [json.dumps(value)]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key == "data" and isinstance(item, str):
                    found.append(base64.b64decode(item).decode(errors="replace"))
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return "\n".join(found)


async def test_rate_limited_request_waits_and_succeeds(start, osmo_sqlite: Osmo, crm) -> None:
    fake, url = crm
    connection_id = await crm_connection(osmo_sqlite, url)
    fake.arm_rate_limit(2, retry_after=30)
    fake.api_requests.clear()
    result = await (await start(connection_id, "/api/v1/me")).result()
    output = call_run(result).outputs[0]
    assert output["status"] == 200
    assert output["body"]["email"] == "alice@example.com"
    assert [r["status"] for r in fake.api_requests] == [429, 429, 200]
    # the retry waited the server-given 30 s (skipped in test time), not the 1 s default
    gaps = [
        b["time"] - a["time"]
        for a, b in zip(fake.api_requests, fake.api_requests[1:], strict=False)
    ]
    assert all(gap < 5 for gap in gaps)


async def test_client_error_is_not_retried(start, osmo_sqlite: Osmo, crm) -> None:
    fake, url = crm
    connection_id = await crm_connection(osmo_sqlite, url)
    fake.api_requests.clear()
    with pytest.raises(WorkflowFailureError) as raised:
        await (await start(connection_id, "/api/v1/contacts/424242")).result()
    assert failed_call(raised)["error"]["key"] == "not_found"
    assert len(fake.api_requests) == 1


async def test_credentials_never_enter_history(start, osmo_sqlite: Osmo, crm) -> None:
    _, url = crm
    connection_id = await crm_connection(osmo_sqlite, url)
    credentials = osmo_sqlite.services.connections.load(connection_id).credentials
    handle = await start(connection_id, "/api/v1/me")
    await handle.result()
    history = decoded_payloads((await handle.fetch_history()).to_json_dict())
    assert connection_id in history  # the payloads really were decoded
    assert credentials["access_token"] not in history
    assert credentials["refresh_token"] not in history


async def test_a_run_without_a_connection_fails_with_connection_required(start) -> None:
    with pytest.raises(WorkflowFailureError) as raised:
        await (await start(None, "/api/v1/me")).result()
    error = failed_call(raised)["error"]
    assert (error["type"], error["key"]) == ("connection_required", "connection_required")
    assert error["message"] == "api-request-to-external-app needs a connection"

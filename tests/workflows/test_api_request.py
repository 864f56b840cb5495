"""`ApiRequest` on the time-skipping server: retries follow the normalized connector error."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.connectors import ApiRequestInput, ConnectorActivities
from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration
from tests.temporal_env import time_skipping
from workflows.api_request import ApiRequestWorkflow


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await time_skipping()
    yield environment
    await environment.shutdown()


async def run(env: WorkflowEnvironment, osmo: Osmo, request: ApiRequestInput) -> object:
    services = osmo.services
    runtime = ConnectorRuntime(
        services.registry, services.connections, DatabaseApiLogSink(services.engine)
    )
    activities = ConnectorActivities(runtime, services.connections)
    queue = str(uuid.uuid4())
    try:
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[ApiRequestWorkflow],
            activities=[activities.api_request],
        ):
            return await env.client.execute_workflow(
                ApiRequestWorkflow.run, request, id=f"api-{queue}", task_queue=queue
            )
    finally:
        await runtime.aclose()


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


async def crm_connection(osmo: Osmo, crm) -> str:
    _, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    return str((await only_connection(osmo, "acme"))["id"])


async def test_rate_limited_request_waits_and_succeeds(env, osmo_sqlite: Osmo, crm) -> None:
    fake, _ = crm
    connection_id = await crm_connection(osmo_sqlite, crm)
    fake.arm_rate_limit(2, retry_after=30)
    fake.api_requests.clear()
    result = await run(env, osmo_sqlite, ApiRequestInput(connection_id, "GET", "/api/v1/me"))
    assert result.status == 200  # type: ignore[attr-defined]
    assert result.body["email"] == "alice@example.com"  # type: ignore[attr-defined]
    assert [r["status"] for r in fake.api_requests] == [429, 429, 200]
    # the retry waited the server-given 30 s (skipped in test time), not the 1 s default
    gaps = [
        b["time"] - a["time"]
        for a, b in zip(fake.api_requests, fake.api_requests[1:], strict=False)
    ]
    assert all(gap < 5 for gap in gaps)


async def test_client_error_is_not_retried(env, osmo_sqlite: Osmo, crm) -> None:
    fake, _ = crm
    connection_id = await crm_connection(osmo_sqlite, crm)
    fake.api_requests.clear()
    with pytest.raises(WorkflowFailureError) as raised:
        await run(
            env, osmo_sqlite, ApiRequestInput(connection_id, "GET", "/api/v1/contacts/424242")
        )
    activity_failure = raised.value.cause
    assert activity_failure is not None
    cause = activity_failure.__cause__  # workflow failure ← activity failure ← application error
    assert isinstance(cause, ApplicationError)
    assert cause.type == "not_found" and cause.non_retryable
    assert len(fake.api_requests) == 1


async def test_credentials_never_enter_history(env, osmo_sqlite: Osmo, crm) -> None:
    connection_id = await crm_connection(osmo_sqlite, crm)
    credentials = osmo_sqlite.services.connections.load(connection_id).credentials
    queue_id = str(uuid.uuid4())
    services = osmo_sqlite.services
    runtime = ConnectorRuntime(
        services.registry, services.connections, DatabaseApiLogSink(services.engine)
    )
    activities = ConnectorActivities(runtime, services.connections)
    async with Worker(
        env.client,
        task_queue=queue_id,
        workflows=[ApiRequestWorkflow],
        activities=[activities.api_request],
    ):
        handle = await env.client.start_workflow(
            ApiRequestWorkflow.run,
            ApiRequestInput(connection_id, "GET", "/api/v1/me"),
            id=f"api-{queue_id}",
            task_queue=queue_id,
        )
        await handle.result()
    await runtime.aclose()
    history = decoded_payloads((await handle.fetch_history()).to_json_dict())
    assert connection_id in history  # the payloads really were decoded
    assert credentials["access_token"] not in history
    assert credentials["refresh_token"] not in history

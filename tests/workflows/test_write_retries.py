"""Retried writes in a flow: the same idempotency key on every attempt, and the timeouts that
make a lost worker's write retried in seconds."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.connectors import ConnectorActivities
from activities.heartbeat import heartbeating
from connectors.runtime import ConnectorRuntime, MemoryApiLogSink
from core.models import ApiCallState
from core.stores.connections import StoredConnection
from tests.connectors.harness import MemoryCredentialStore, builtin_registry
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowSnapshot
from workflows.nodes.base import HEARTBEAT_TIMEOUT, activity_timeouts


@dataclass
class StripeConnections:
    """The one Stripe connection the activities load (an API key, no database)."""

    def load(self, connection_id: str) -> StoredConnection:
        return StoredConnection(
            id=connection_id,
            customer_id="customer-1",
            tenant_key="acme",
            integration_id="i-1",
            integration_key="stripe",
            connector_key="stripe",
            auth_option_key="api-key",
            state="connected",
            client_id=None,
            client_secret=None,
            integration_parameters={},
            scopes=[],
            inputs={"apiKey": "sk_test_abcdefgh12345678"},
        )


async def test_a_retried_stripe_create_carries_the_same_idempotency_key(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    sent: list[httpx.Request] = []
    logged_first: list[str] = []

    def stripe(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        logged_first.append(sink.calls[-1].state)  # what the log held while the app worked
        if len(sent) == 1:  # the first attempt fails after the app may have acted on it
            return httpx.Response(500, json={"error": {"type": "api_error"}})
        return httpx.Response(200, json={"id": "cus_1", "object": "customer", "email": "a@b.co"})

    sink = MemoryApiLogSink()
    runtime = ConnectorRuntime(
        builtin_registry(),
        MemoryCredentialStore({}, None),
        sink,
        transport=httpx.MockTransport(stripe),
    )
    activities = ConnectorActivities(runtime, StripeConnections(), cache=False)  # type: ignore[arg-type]
    nodes: dict[str, Any] = {
        "trigger": {"type": "api-trigger", "links": [{"key": "create"}]},
        "create": {
            "type": "create-data-record",
            "config": {"collectionKey": "customers", "fields": {"email": "a@b.co"}},
            "retry": {"initialIntervalSeconds": 1},
        },
    }
    queue = f"stripe-{uuid.uuid4()}"
    client = time_skipping_env.client
    try:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[FlowRunWorkflow],
            activities=[activities.collection_method],
        ):
            result = await client.execute_workflow(
                FlowRunWorkflow.run,
                FlowRunInput(
                    FlowSnapshot("f", "i-1", nodes, connection_id="c-1"), connection_limit=None
                ),
                id=f"flow-run-{uuid.uuid4()}",
                task_queue=queue,
            )
    finally:
        await runtime.aclose()
    [created] = [r for r in result.node_runs if r.node_key == "create"]
    assert created.outputs[0]["record"]["id"] == "cus_1"
    assert [r.method for r in sent] == ["POST", "POST"]
    keys = [r.headers.get("idempotency-key") for r in sent]
    assert keys[0] and keys[0] == keys[1]
    # Each attempt logged before it was sent, then updated with its answer.
    assert logged_first == [ApiCallState.pending, ApiCallState.pending]
    assert [(c.state, c.status) for c in sink.calls] == [
        (ApiCallState.completed, 500),
        (ApiCallState.completed, 200),
    ]


def test_timeouts_follow_the_http_timeout_and_a_nodes_own_timeout_wins() -> None:
    calling = activity_timeouts({}, 10.0, heartbeats=True)
    assert calling.heartbeat == HEARTBEAT_TIMEOUT <= timedelta(seconds=5)
    assert calling.start_to_close == timedelta(seconds=4 * 10 + 30)  # 4 calls + budget wait
    longer = activity_timeouts({}, 30.0, heartbeats=True)
    assert longer.start_to_close == timedelta(seconds=4 * 30 + 30)
    own = activity_timeouts({"timeoutSeconds": 7}, 30.0, heartbeats=True)
    assert (own.start_to_close, own.heartbeat) == (timedelta(seconds=7), HEARTBEAT_TIMEOUT)
    caller = activity_timeouts({}, 30.0, heartbeats=True, default=timedelta(seconds=20))
    assert caller.start_to_close == timedelta(seconds=20)
    database = activity_timeouts({}, 30.0, heartbeats=False)
    assert database.heartbeat is None


def test_activities_that_call_apps_heartbeat() -> None:
    for method in (
        ConnectorActivities.api_request,
        ConnectorActivities.run_operation,
        ConnectorActivities.collection_method,
    ):
        assert getattr(method, "heartbeats", False), method


async def test_a_heartbeating_activity_outside_temporal_runs_as_is() -> None:
    @heartbeating
    async def double(value: int) -> int:
        await asyncio.sleep(0)
        return value * 2

    assert await double(21) == 42

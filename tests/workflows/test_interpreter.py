"""The interpreter's walk on the time-skipping server, with stand-in activities: depth-first
order, bounded concurrency, fail-fast fan-outs, and continue-as-new for long loops."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.connectors import CollectionMethodInput
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowRunResult, FlowSnapshot, node_run_inputs


@dataclass
class FakeApp:
    """Stands in for the connector activity: records writes and how many ran at once."""

    writes: list[Any] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    delay: float = 0.02

    @activity.defn(name="collection_method")
    async def collection_method(self, input: CollectionMethodInput) -> dict[str, Any]:
        fields = input.fields or {}
        if fields.get("fail"):
            await asyncio.sleep(self.delay)
            raise ApplicationError(
                "refused", {"key": "conflict"}, type="conflict", non_retryable=True
            )
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        self.writes.append(fields.get("n"))
        return {"record": {"id": f"r-{fields.get('n')}", "fields": fields}}


@pytest.fixture
async def app(
    time_skipping_env: WorkflowEnvironment,
) -> AsyncIterator[tuple[Client, str, FakeApp]]:
    fake, queue = FakeApp(), f"interpreter-{uuid.uuid4()}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[FlowRunWorkflow],
        activities=[fake.collection_method],
    ):
        yield time_skipping_env.client, queue, fake


def loop_flow(concurrency: int | None = None) -> dict[str, Any]:
    """trigger → for-each over input.t.items → create(n) → shape."""
    each: dict[str, Any] = {
        "type": "for-each",
        "config": {"items": {"$var": "input.t.items"}},
        "links": [{"key": "create"}],
    }
    if concurrency:
        each["concurrency"] = concurrency
    return {
        "t": {"type": "api-trigger", "links": [{"key": "each"}]},
        "each": each,
        "create": {
            "type": "create-data-record",
            "config": {
                "collectionKey": "contacts",
                "fields": {"n": {"$var": "input.each.n"}, "fail": {"$var": "input.each.fail"}},
            },
            "links": [{"key": "shape"}],
        },
        "shape": {
            "type": "transform-data",
            "config": {"value": {"$var": "input.create.record.id"}},
        },
    }


async def run(
    client: Client, queue: str, nodes: dict[str, Any], input: Any, **options: Any
) -> tuple[FlowRunResult, str]:
    snapshot = FlowSnapshot("loop", "instance-1", nodes, connection_id="c-1")
    handle = await client.start_workflow(
        FlowRunWorkflow.run,
        FlowRunInput(snapshot, input, connection_limit=None, **options),
        id=f"flow-run-{uuid.uuid4().hex}",
        task_queue=queue,
    )
    return await handle.result(), handle.id


def items(count: int, fail: int | None = None) -> dict[str, Any]:
    return {"items": [{"n": n, "fail": n == fail} for n in range(count)]}


async def test_items_run_one_after_another_depth_first_by_default(app) -> None:
    client, queue, fake = app
    result, _ = await run(client, queue, loop_flow(), items(3))
    assert fake.most_in_flight == 1
    assert fake.writes == [0, 1, 2]
    # Each item's whole sub-graph runs before the next item starts.
    assert [r.node_key for r in result.node_runs] == [
        "t", "each", "create", "shape", "create", "shape", "create", "shape",
    ]  # fmt: skip
    assert [r.outputs for r in result.node_runs if r.node_key == "shape"] == [
        ["r-0"],
        ["r-1"],
        ["r-2"],
    ]


async def test_concurrency_bounds_how_many_items_run_at_once(app) -> None:
    client, queue, fake = app
    result, _ = await run(client, queue, loop_flow(concurrency=3), items(10))
    assert fake.most_in_flight == 3
    assert sorted(fake.writes) == list(range(10))
    shapes = [r for r in result.node_runs if r.node_key == "shape"]
    assert sorted(o for r in shapes for o in r.outputs) == sorted(f"r-{n}" for n in range(10))


async def test_node_runs_keep_outputs_once_and_inputs_are_filled_in(app) -> None:
    client, queue, _ = app
    result, _ = await run(client, queue, loop_flow(concurrency=2), items(2))
    runs = [
        {"input": r.input, "input_refs": r.input_refs, "outputs": r.outputs, "node_key": r.node_key}
        for r in result.node_runs
    ]
    assert all(r["input"] is None for r in runs)  # referenced, not copied
    filled = node_run_inputs(runs, {})
    creates = [r for r in filled if r["node_key"] == "create"]
    assert sorted(c["input"]["each"]["n"] for c in creates) == [0, 1]
    assert all(c["input"]["t"] == items(2) for c in creates)


async def test_a_failing_item_fails_the_run_and_cancels_the_others(app) -> None:
    client, queue, fake = app
    fake.delay = 0.2
    with pytest.raises(WorkflowFailureError) as failure:
        await run(client, queue, loop_flow(concurrency=4), items(12, fail=1))
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "flow_failed"
    details = cause.details[0]
    assert details["failedNodeKey"] == "create"
    states = [r["state"] for r in details["nodeRuns"] if r["node_key"] == "create"]
    assert "failed" in states
    # Items not started when the failure came were never started.
    assert len(states) < 12


async def test_long_loops_continue_as_new_and_run_each_item_once(app) -> None:
    client, queue, fake = app
    fake.delay = 0
    result, workflow_id = await run(
        client, queue, loop_flow(concurrency=2), items(40), history_limit=60
    )
    assert sorted(fake.writes) == list(range(40))  # nothing dropped, nothing twice
    assert [r.node_key for r in result.node_runs].count("shape") == 40
    assert len({r.id for r in result.node_runs}) == len(result.node_runs)
    # The first execution ended by continuing as new; the result came from a later one.
    handle = client.get_workflow_handle(workflow_id)
    description = await handle.describe()
    first = client.get_workflow_handle(
        workflow_id, run_id=description.raw_description.workflow_execution_info.first_run_id
    )
    history = await first.fetch_history()
    assert history.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    latest = await handle.fetch_history()
    started = latest.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id  # the latest run is a continuation


async def test_concurrent_waiters_each_take_their_own_event(app) -> None:
    """Two items wait at once; one event wakes both, only one may take it."""
    client, queue, _ = app
    nodes: dict[str, dict[str, Any]] = {
        "t": {"type": "api-trigger", "links": [{"key": "each"}]},
        "each": {
            "type": "for-each",
            "config": {"items": {"$var": "input.t.items"}},
            "concurrency": 2,
            "links": [{"key": "wait"}],
        },
        "wait": {"type": "wait-for-event", "config": {"timeoutSeconds": 600}},
    }
    snapshot = FlowSnapshot("waits", "instance-1", nodes, connection_id="c-1")
    handle = await client.start_workflow(
        FlowRunWorkflow.run,
        FlowRunInput(snapshot, {"items": [1, 2]}, connection_limit=None),
        id=f"flow-run-{uuid.uuid4().hex}",
        task_queue=queue,
    )
    for _ in range(100):  # until both items are waiting
        waiting = [r for r in await handle.query(FlowRunWorkflow.state) if r.node_key == "wait"]
        if len(waiting) == 2:
            break
        await asyncio.sleep(0.05)
    await handle.signal(FlowRunWorkflow.event, {"n": "first"})
    await asyncio.sleep(0.3)
    await handle.signal(FlowRunWorkflow.event, {"n": "second"})
    result = await handle.result()
    taken = sorted(o["n"] for r in result.node_runs if r.node_key == "wait" for o in r.outputs)
    assert taken == ["first", "second"]

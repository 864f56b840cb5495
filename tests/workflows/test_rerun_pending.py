"""A rerun from the failed node finishes every piece of work the failed run left (issue 11).

On the time-skipping server with a stand-in app: a for-each at concurrency 3 where one item's
write is refused while two others are in flight (they are cancelled), items not started yet,
a branch inside each item, and a branch after the loop. The failure's `pending` work, resumed
as the API's rerun does it (tests/workflows/test_flow_run_rerun.py runs the route), must run each
unfinished item and branch exactly once and nothing that had finished.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.connectors import CollectionMethodInput
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import (
    FlowRunInput,
    FlowSnapshot,
    NodeRun,
    lane_from,
    lane_node_keys,
    node_run_inputs,
)

ITEMS = 8


@dataclass
class FlakyApp:
    """Stands in for the connector activity: refuses item `refuse` its first `refusals` times;
    items in `slow` take long enough to be in flight when that refusal stops the run."""

    refuse: int
    refusals: int = 1
    slow: set[int] = field(default_factory=set)
    writes: list[int] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    @activity.defn(name="collection_method")
    async def collection_method(self, input: CollectionMethodInput) -> dict[str, Any]:
        n = int((input.fields or {})["n"])
        if n == self.refuse and self.refusals > 0:
            self.refusals -= 1
            raise ApplicationError(
                "refused", {"key": "conflict"}, type="conflict", non_retryable=True
            )
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            # No heartbeat, like Osmo's activities: a cancelled write still finishes.
            await asyncio.sleep(0.6 if n in self.slow else 0.02)
        finally:
            self.in_flight -= 1
        self.writes.append(n)
        return {"record": {"id": f"r-{n}"}}

    async def settled(self) -> None:
        """Waits for the writes a cancelled run left running, so they count as its own."""
        for _ in range(200):
            if not self.in_flight:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("writes still in flight")


def flow(concurrency: int) -> dict[str, Any]:
    """t → [each → create → [shape, tag], after]: a branch inside each item, one after the loop."""
    return {
        "t": {"type": "api-trigger", "links": [{"key": "each"}, {"key": "after"}]},
        "each": {
            "type": "for-each",
            "config": {"items": {"$var": "input.t.items"}},
            "concurrency": concurrency,
            "links": [{"key": "create"}],
        },
        "create": {
            "type": "create-data-record",
            "config": {"collectionKey": "contacts", "fields": {"n": {"$var": "input.each"}}},
            "links": [{"key": "shape"}, {"key": "tag"}],
        },
        "shape": {
            "type": "transform-data",
            "config": {"value": {"$var": "input.create.record.id"}},
        },
        "tag": {"type": "transform-data", "config": {"value": {"$var": "input.each"}}},
        "after": {"type": "transform-data", "config": {"value": "after"}},
    }


@pytest.fixture
async def client_queue(
    time_skipping_env: WorkflowEnvironment,
) -> AsyncIterator[tuple[Client, str, list[FlakyApp]]]:
    """A worker whose stand-in app the test sets (`apps[0]`) before starting runs."""
    apps: list[FlakyApp] = []
    queue = f"rerun-{uuid.uuid4()}"

    @activity.defn(name="collection_method")
    async def collection_method(input: CollectionMethodInput) -> dict[str, Any]:
        return await apps[0].collection_method(input)

    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[FlowRunWorkflow],
        activities=[collection_method],
    ):
        yield time_skipping_env.client, queue, apps


async def fails(client: Client, queue: str, run_input: FlowRunInput) -> dict[str, Any]:
    """Runs `run_input`, which must fail; answers its failure's details."""
    handle = await client.start_workflow(
        FlowRunWorkflow.run, run_input, id=f"flow-run-{uuid.uuid4().hex}", task_queue=queue
    )
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "flow_failed"
    details: dict[str, Any] = cause.details[0]
    return details


def rerun_of(failed: FlowRunInput, details: dict[str, Any]) -> FlowRunInput:
    """The rerun from the failed node, built as POST /flow-runs/{id}/rerun builds it."""
    pending = lane_from(details["pending"])
    assert lane_node_keys(pending) <= failed.snapshot.nodes.keys()
    return FlowRunInput(
        failed.snapshot,
        failed.input,
        details["failedNodeKey"],
        start_outputs=failed.start_outputs,
        resume=pending,
        node_runs=[NodeRun(**run) for run in details["nodeRuns"]],
        inherited=len(details["nodeRuns"]),
        connection_limit=None,
    )


def own(details_or_runs: list[dict[str, Any]], inherited: int) -> list[dict[str, Any]]:
    """A run's own node runs, with their inputs filled in from all of them."""
    return node_run_inputs(details_or_runs, {})[inherited:]


def completed(runs: list[dict[str, Any]], key: str) -> Counter[int]:
    """How many times node `key` completed, per item."""
    return Counter(
        r["input"]["each"] for r in runs if r["node_key"] == key and r["state"] == "completed"
    )


@pytest.mark.parametrize(
    ("concurrency", "refuse", "slow"),
    [
        # The case: the first item fails, one item at a time.
        pytest.param(1, 0, set(), id="first-item-one-at-a-time"),
        # Items 0-2 finish; 3 and 4 are in flight (cancelled) when 5 is refused; 6, 7 wait.
        pytest.param(3, 5, {3, 4}, id="concurrency-3-with-items-in-flight"),
    ],
)
async def test_rerun_from_the_failed_node_finishes_every_unfinished_item_and_branch(
    client_queue, concurrency: int, refuse: int, slow: set[int]
) -> None:
    client, queue, apps = client_queue
    app = FlakyApp(refuse=refuse, slow=slow)
    apps.append(app)
    snapshot = FlowSnapshot("rerun", "instance-1", flow(concurrency), connection_id="c-1")
    first = FlowRunInput(snapshot, {"items": list(range(ITEMS))}, connection_limit=None)
    details = await fails(client, queue, first)
    await app.settled()
    assert details["failedNodeKey"] == "create"
    original = own(details["nodeRuns"], 0)
    done = completed(original, "shape")
    if concurrency == 1:
        assert done == Counter()
    else:
        assert done == Counter({0: 1, 1: 1, 2: 1})
        cancelled = {r["input"]["each"] for r in original if r["state"] == "cancelled"}
        assert cancelled == slow  # in flight when the refusal came, then cancelled
    assert not [r for r in original if r["node_key"] == "after"]
    written_before = Counter(app.writes)

    rerun = rerun_of(first, details)
    handle = await client.start_workflow(
        FlowRunWorkflow.run, rerun, id=f"flow-run-{uuid.uuid4().hex}", task_queue=queue
    )
    result = await handle.result()
    assert result.state == "completed"
    runs = own([asdict(r) for r in result.node_runs], rerun.inherited)
    unfinished = Counter({n: 1 for n in range(ITEMS) if n not in done})
    # Every item not finished runs once, through both branches; nothing finished runs again.
    assert completed(runs, "create") == unfinished
    assert completed(runs, "shape") == unfinished
    assert completed(runs, "tag") == unfinished
    assert Counter(app.writes) - written_before == unfinished
    assert done + completed(runs, "shape") == Counter({n: 1 for n in range(ITEMS)})
    # The branch after the loop, never reached, runs once, after every item.
    assert [r["node_key"] for r in runs].count("after") == 1
    assert runs[-1]["node_key"] == "after"
    assert {r["node_key"] for r in runs} == {"create", "shape", "tag", "after"}
    # The failed item goes first, so a rerun that would fail again fails at once.
    assert runs[0]["node_key"] == "create" and runs[0]["input"]["each"] == refuse
    assert all(r["state"] == "completed" for r in runs)
    assert app.most_in_flight <= concurrency
    # Outputs the failed run produced are referenced, not copied: `shape` reads the record
    # its own `create` wrote and `create` reads the item the failed run's for-each gave.
    for shape in (r for r in runs if r["node_key"] == "shape"):
        assert shape["outputs"] == [f"r-{shape['input']['each']}"]


async def test_a_rerun_that_fails_again_can_itself_be_rerun(client_queue) -> None:
    """Item 5 is refused twice: the rerun fails too, and the rerun of the rerun (whose node
    runs include the ones it inherited) finishes the rest."""
    client, queue, apps = client_queue
    app = FlakyApp(refuse=5, refusals=2, slow={3, 4})
    apps.append(app)
    snapshot = FlowSnapshot("rerun", "instance-1", flow(3), connection_id="c-1")
    first = FlowRunInput(snapshot, {"items": list(range(ITEMS))}, connection_limit=None)
    details = await fails(client, queue, first)
    second = rerun_of(first, details)
    again = await fails(client, queue, second)
    assert again["failedNodeKey"] == "create"
    assert len(again["nodeRuns"]) > second.inherited  # it ran something of its own
    third = rerun_of(second, again)
    result = await client.execute_workflow(
        FlowRunWorkflow.run, third, id=f"flow-run-{uuid.uuid4().hex}", task_queue=queue
    )
    everything = node_run_inputs([asdict(r) for r in result.node_runs], {})
    assert completed(everything, "shape") == Counter({n: 1 for n in range(ITEMS)})
    assert [r["node_key"] for r in everything].count("after") == 1


async def test_a_cancelled_node_run_does_not_continue_even_with_on_error_continue(
    client_queue,
) -> None:
    """Item 1's `strict` write is refused while item 0's `lenient` one (`onError: continue`)
    is in flight: that one is cancelled, not failed and carried on past, and the rerun
    writes it."""
    client, queue, apps = client_queue
    app = FlakyApp(refuse=1, slow={0})
    apps.append(app)
    write = {"collectionKey": "contacts", "fields": {"n": {"$var": "input.each"}}}
    nodes: dict[str, Any] = {
        "t": {"type": "api-trigger", "links": [{"key": "each"}]},
        "each": {
            "type": "for-each",
            "config": {"items": {"$var": "input.t.items"}},
            "concurrency": 2,
            "links": [
                {
                    "key": "lenient",
                    "filter": {"field": "input.each", "operator": "is_not", "value": 1},
                },
                {"key": "strict", "filter": {"field": "input.each", "operator": "is", "value": 1}},
            ],
        },
        "lenient": {
            "type": "create-data-record",
            "config": write,
            "onError": "continue",
            "links": [{"key": "shape"}],
        },
        "strict": {"type": "create-data-record", "config": write, "links": [{"key": "shape"}]},
        "shape": {"type": "transform-data", "config": {"value": {"$var": "input.each"}}},
    }
    snapshot = FlowSnapshot("rerun", "instance-1", nodes, connection_id="c-1")
    first = FlowRunInput(snapshot, {"items": [0, 1, 2]}, connection_limit=None)
    details = await fails(client, queue, first)
    assert details["failedNodeKey"] == "strict"
    states = {(r["node_key"], r["state"]) for r in details["nodeRuns"]}
    assert ("lenient", "cancelled") in states and ("strict", "failed") in states
    assert not [r for r in details["nodeRuns"] if r["node_key"] == "shape"]
    await app.settled()
    rerun = rerun_of(first, details)
    result = await client.execute_workflow(
        FlowRunWorkflow.run, rerun, id=f"flow-run-{uuid.uuid4().hex}", task_queue=queue
    )
    runs = own([asdict(r) for r in result.node_runs], rerun.inherited)
    assert completed(runs, "shape") == Counter({0: 1, 1: 1, 2: 1})


async def test_a_stop_during_a_write_stops_the_run_rather_than_failing_it(client_queue) -> None:
    """A stop cancels the write in flight: the run is cancelled (`stopped`), not failed at a
    node (before, the cancelled write failed its node run and the run with it)."""
    client, queue, apps = client_queue
    app = FlakyApp(refuse=-1, slow={0})
    apps.append(app)
    snapshot = FlowSnapshot("rerun", "instance-1", flow(1), connection_id="c-1")
    handle = await client.start_workflow(
        FlowRunWorkflow.run,
        FlowRunInput(snapshot, {"items": [0, 1]}, connection_limit=None),
        id=f"flow-run-{uuid.uuid4().hex}",
        task_queue=queue,
    )
    for _ in range(100):
        if app.in_flight:
            break
        await asyncio.sleep(0.02)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as stopped:
        await handle.result()
    assert isinstance(stopped.value.cause, CancelledError)
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    await app.settled()

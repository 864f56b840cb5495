"""Per-connection flow run limits on the dev server (update-with-start needs the real server):
at most `limit` runs of a connection run at once, the others wait in its queue and all finish,
a full queue rejects, a terminated run's slot comes back, a worker restart and a continue-as-new
keep every slot, and a flow's `maxParallelRuns` caps its runs inside the connection's limit."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.limits import ACTIVITIES, LimiterInput
from core.elements.kinds import KINDS
from core.events.messages import limiter_workflow_id
from workflows.connection_limiter import ConnectionRunLimiter
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowRunResult, FlowSnapshot

WAITS = {
    "t": {"type": "api-trigger", "links": [{"key": "wait"}]},
    "wait": {"type": "wait-for-event", "config": {"timeoutSeconds": 600}},
}
"""A flow that runs until it is sent an event."""

Run = WorkflowHandle[FlowRunWorkflow, FlowRunResult]
STICKY = timedelta(seconds=1)


@contextlib.asynccontextmanager
async def limit_worker(client: Client, queue: str, **options: Any) -> AsyncIterator[None]:
    async with Worker(
        client,
        task_queue=queue,
        workflows=[FlowRunWorkflow, ConnectionRunLimiter],
        activities=ACTIVITIES,
        **options,
    ):
        yield


@pytest.fixture
async def setup(env: WorkflowEnvironment) -> AsyncIterator[tuple[Client, str, str]]:
    """A worker on a fresh task queue, and a connection id of this test's own."""
    queue, connection_id = f"limits-{uuid.uuid4()}", f"c-{uuid.uuid4()}"
    async with limit_worker(env.client, queue):
        yield env.client, queue, connection_id


async def start(
    client: Client,
    queue: str,
    connection_id: str,
    *,
    nodes: dict[str, Any] = WAITS,
    flow: str = "waits",
    max_parallel_runs: int | None = None,
    **options: Any,
) -> Run:
    snapshot = FlowSnapshot(
        flow, f"instance-{flow}", nodes, connection_id=connection_id,
        max_parallel_runs=max_parallel_runs,
    )  # fmt: skip
    return await client.start_workflow(
        FlowRunWorkflow.run,
        FlowRunInput(snapshot, {}, **options),
        id=f"flow-run-{uuid.uuid4().hex}",
        task_queue=queue,
    )


async def limiter_state(client: Client, connection_id: str) -> dict[str, Any]:
    handle = client.get_workflow_handle(limiter_workflow_id(connection_id))
    return dict(await handle.query("state", rpc_timeout=timedelta(seconds=2)))


async def until(check: Any, what: str, seconds: float = 20) -> Any:
    """Polls `check()` (a coroutine function) until it answers something truthy."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(Exception):  # the limiter may not be started yet
            if value := await check():
                return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def settled(client: Client, connection_id: str, running: int, waiting: int) -> dict:
    last: list[dict[str, Any]] = []

    async def check() -> dict[str, Any] | None:
        state = await limiter_state(client, connection_id)
        last[:] = [state]
        ok = len(state["running"]) == running and len(state["waiting"]) == waiting
        return state if ok else None

    return dict(await until(check, f"{running} running and {waiting} waiting (last: {last})"))


async def waiting_for_event(handle: Run) -> bool:
    """Whether the run's wait node runs (the run holds a slot and got past its trigger)."""
    return any(r.node_key == "wait" for r in await handle.query(FlowRunWorkflow.state))


def most_at_once(results: list[FlowRunResult]) -> int:
    """The most runs whose walks (trigger start → last node end) overlapped."""
    edges = []
    for result in results:
        edges.append((datetime.fromisoformat(result.node_runs[0].started_at), 1))
        edges.append((datetime.fromisoformat(result.node_runs[-1].finished_at or ""), -1))
    most = current = 0
    for _, step in sorted(edges):  # an end before a start at the same instant
        current += step
        most = max(most, current)
    return most


async def test_at_most_the_limit_run_at_once_and_every_run_completes(setup) -> None:
    client, queue, connection_id = setup
    runs = [await start(client, queue, connection_id, connection_limit=2) for _ in range(6)]
    most_running = 0
    done: set[str] = set()
    while len(done) < 6:
        state = await settled(client, connection_id, min(2, 6 - len(done)), max(0, 4 - len(done)))
        most_running = max(most_running, len(state["running"]))
        assert state["limit"] == 2
        queued = [r for r in runs if r.id in state["waiting"]]
        for run in queued:  # a queued run says so, and has not started its walk
            assert await run.query(FlowRunWorkflow.slot_query) == "queued"
            assert await run.query(FlowRunWorkflow.state) == []
            assert await (await run.describe()).memo() == {"slot": "queued"}
        finishing = next(r for r in runs if r.id in state["running"])
        await until(lambda run=finishing: waiting_for_event(run), "the run to wait for its event")
        await finishing.signal(FlowRunWorkflow.event, {"go": True})
        assert (await finishing.result()).state == "completed"
        done.add(finishing.id)
    results = [await run.result() for run in runs]
    assert [r.state for r in results] == ["completed"] * 6
    assert most_running == 2
    assert most_at_once(results) == 2
    assert await settled(client, connection_id, 0, 0)


async def test_a_full_queue_rejects_the_runs_over_it(setup) -> None:
    client, queue, connection_id = setup
    runs = []
    for n in range(6):
        runs.append(await start(client, queue, connection_id, connection_limit=2, queue_limit=3))
        if n < 5:
            await settled(client, connection_id, min(n + 1, 2), max(0, n - 1))
    with pytest.raises(WorkflowFailureError) as failed:
        await runs[5].result()
    assert isinstance(failed.value.cause, ApplicationError)
    assert failed.value.cause.type == "connection_queue_full"
    assert failed.value.cause.non_retryable
    assert failed.value.cause.details[0]["key"] == "connection_queue_full"
    state = await settled(client, connection_id, 2, 3)
    assert state["rejected"] == 1 and state["queueLimit"] == 3
    for run in runs[:5]:  # the others all run, in the order they came
        await until(lambda run=run: waiting_for_event(run), "the run to get its slot")
        await run.signal(FlowRunWorkflow.event, {})
        assert (await run.result()).state == "completed"
    assert await settled(client, connection_id, 0, 0)


async def test_a_terminated_runs_slot_is_released_by_the_leak_guard(setup) -> None:
    client, queue, connection_id = setup
    await client.start_workflow(  # as an acquire would start it, with a quick leak guard
        ConnectionRunLimiter.run,
        LimiterInput(connection_id, leak_check_seconds=1),
        id=limiter_workflow_id(connection_id),
        task_queue=queue,
    )
    holder = await start(client, queue, connection_id, connection_limit=1)
    await settled(client, connection_id, 1, 0)
    behind = await start(client, queue, connection_id, connection_limit=1)
    await settled(client, connection_id, 1, 1)
    await holder.terminate("gone without releasing")
    state = await settled(client, connection_id, 1, 0)
    assert state["running"] == [behind.id]
    await until(lambda: waiting_for_event(behind), "the run behind to get the slot")
    await behind.signal(FlowRunWorkflow.event, {})
    assert (await behind.result()).state == "completed"
    assert await settled(client, connection_id, 0, 0)


async def test_a_stopped_queued_run_leaves_the_queue(setup) -> None:
    client, queue, connection_id = setup
    holder = await start(client, queue, connection_id, connection_limit=1)
    await settled(client, connection_id, 1, 0)
    behind = await start(client, queue, connection_id, connection_limit=1)
    await settled(client, connection_id, 1, 1)
    await behind.cancel()
    await settled(client, connection_id, 1, 0)
    await until(lambda: waiting_for_event(holder), "the holder to wait")
    await holder.signal(FlowRunWorkflow.event, {})
    assert (await holder.result()).state == "completed"
    assert await settled(client, connection_id, 0, 0)


async def test_a_worker_restart_keeps_every_run(env: WorkflowEnvironment) -> None:
    client, queue, connection_id = env.client, f"limits-{uuid.uuid4()}", f"c-{uuid.uuid4()}"
    # Tasks of this worker's workflows go to the next one after 1 s (instead of 5 s each).
    async with limit_worker(client, queue, sticky_queue_schedule_to_start_timeout=STICKY):
        runs = [await start(client, queue, connection_id, connection_limit=2) for _ in range(5)]
        await settled(client, connection_id, 2, 3)
        holding = (await limiter_state(client, connection_id))["running"]
        first = next(r for r in runs if r.id in holding)
        await until(lambda: waiting_for_event(first), "the first run to wait")
    # No worker: signals and the slot handed over wait in Temporal.
    await first.signal(FlowRunWorkflow.event, {})
    # A new worker picks everything up. Until a workflow's next task moved it to this worker,
    # Temporal sends queries to the old worker: they time out and `until` asks again.
    async with limit_worker(client, queue):
        done = {first.id}
        assert (await first.result()).state == "completed"
        while len(done) < 5:
            state = await settled(
                client, connection_id, min(2, 5 - len(done)), max(0, 3 - len(done))
            )
            finishing = next(r for r in runs if r.id in state["running"])
            await until(lambda run=finishing: waiting_for_event(run), "the run to wait")
            await finishing.signal(FlowRunWorkflow.event, {})
            assert (await finishing.result()).state == "completed"
            done.add(finishing.id)
        results = [await run.result() for run in runs]
        assert await settled(client, connection_id, 0, 0)
    for result in results:  # each run walked once: its trigger and its wait, once each
        assert [r.node_key for r in result.node_runs] == ["t", "wait"]
    assert most_at_once(results) == 2


LOOPS = {
    "t": {"type": "api-trigger", "links": [{"key": "each"}]},
    "each": {
        "type": "for-each",
        "config": {"items": [1, 2, 3, 4]},
        "links": [{"key": "pause"}],
    },
    "pause": {"type": "delay", "config": {"seconds": 0.2}},
}
"""A flow that continues as new (with a small history limit) between its delays."""


async def test_a_continue_as_new_keeps_its_slot(setup) -> None:
    client, queue, connection_id = setup
    looping = await start(
        client, queue, connection_id, nodes=LOOPS, flow="loops", connection_limit=1,
        history_limit=12,
    )  # fmt: skip
    await settled(client, connection_id, 1, 0)
    behind = await start(client, queue, connection_id, connection_limit=1)
    await settled(client, connection_id, 1, 1)
    first_run = (await looping.describe()).run_id
    result = await looping.result()
    assert result.state == "completed"
    assert len([r for r in result.node_runs if r.node_key == "pause"]) == 4
    assert (await looping.describe()).run_id != first_run, "it continued as new"
    # The run behind waited for the whole looping run, across its continue-as-new.
    behind_result_task = asyncio.ensure_future(behind.result())
    await until(lambda: waiting_for_event(behind), "the run behind to get the slot")
    await behind.signal(FlowRunWorkflow.event, {})
    behind_result = await behind_result_task
    assert behind_result.node_runs[0].started_at >= (result.node_runs[-1].finished_at or "")
    assert await settled(client, connection_id, 0, 0)


async def test_a_flows_max_parallel_runs_caps_it_inside_the_connection_limit(setup) -> None:
    client, queue, connection_id = setup
    capped = [
        await start(client, queue, connection_id, flow="capped", max_parallel_runs=1,
                    connection_limit=3)
        for _ in range(2)
    ]  # fmt: skip
    await settled(client, connection_id, 1, 1)
    # The second capped run waits for its flow's cap; the free ones pass it up to the limit.
    free = []
    for running, waiting in ((2, 1), (3, 1), (3, 2)):
        free.append(await start(client, queue, connection_id, connection_limit=3))
        state = await settled(client, connection_id, running, waiting)
    # The two capped runs were started together: either may have reached the limiter first.
    first, second = sorted(capped, key=lambda run: run.id not in state["running"])
    assert set(state["running"]) == {first.id, free[0].id, free[1].id}
    assert state["waiting"] == [second.id, free[2].id]
    for run in [first, free[0], second, free[1], free[2]]:
        await until(lambda run=run: waiting_for_event(run), "the run to get its slot")
        await run.signal(FlowRunWorkflow.event, {})
        assert (await run.result()).state == "completed"
    assert await settled(client, connection_id, 0, 0)


async def test_a_run_without_a_limit_takes_no_slot(setup) -> None:
    client, queue, connection_id = setup
    run = await start(client, queue, connection_id, connection_limit=None)
    await until(lambda: waiting_for_event(run), "the run to wait")
    assert await run.query(FlowRunWorkflow.slot_query) == "none"
    await run.signal(FlowRunWorkflow.event, {})
    assert (await run.result()).state == "completed"
    with pytest.raises(RPCError):  # no limiter was ever started
        await limiter_state(client, connection_id)


FAILS = {
    "t": {"type": "api-trigger", "links": [{"key": "wait"}]},
    "wait": {
        "type": "wait-for-event",
        "config": {"timeoutSeconds": 600},
        "links": [{"key": "each"}],
    },
    "each": {"type": "for-each", "config": {"items": 5}},
}
"""A flow that fails (its items are not a list) once it is sent an event."""


async def test_a_failed_run_releases_its_slot(setup) -> None:
    client, queue, connection_id = setup
    failing = await start(client, queue, connection_id, nodes=FAILS, connection_limit=1)
    await settled(client, connection_id, 1, 0)
    behind = await start(client, queue, connection_id, connection_limit=1)
    await settled(client, connection_id, 1, 1)
    await until(lambda: waiting_for_event(failing), "the failing run to wait")
    await failing.signal(FlowRunWorkflow.event, {})
    with pytest.raises(WorkflowFailureError):
        await failing.result()
    await until(lambda: waiting_for_event(behind), "the run behind to get the slot")
    await behind.signal(FlowRunWorkflow.event, {})
    assert (await behind.result()).state == "completed"
    assert await settled(client, connection_id, 0, 0)


def test_max_parallel_runs_is_checked_when_a_flow_is_saved() -> None:
    flows = KINDS["flows"]
    nodes = {"t": {"type": "api-trigger"}}
    assert flows.validate({"nodes": nodes, "maxParallelRuns": 3}) == []
    for wrong in (0, 1001, "3"):
        problems = flows.validate({"nodes": nodes, "maxParallelRuns": wrong})
        assert [p["path"] for p in problems] == ["maxParallelRuns"], wrong

"""Per-connection flow run limits on the dev server, with the slots in a database: at most
`limit` runs of a connection run at once, the others wait in its queue and all finish, a full
queue rejects, a terminated run's slot comes back, a lost `slot` signal only delays a run, a
worker restart and a continue-as-new keep every slot, and a flow's `maxParallelRuns` caps its
runs inside the connection's limit."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.limits import LimitActivities
from core.db import create_db_engine, migrate
from core.elements.kinds import KINDS
from core.stores.run_slots import RunSlots
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowRunResult, FlowSnapshot

WAITS = {
    "t": {"type": "api-trigger", "links": [{"key": "wait"}]},
    "wait": {"type": "wait-for-event", "config": {"timeoutSeconds": 600}},
}
"""A flow that runs until it is sent an event."""

Run = WorkflowHandle[FlowRunWorkflow, FlowRunResult]
STICKY = timedelta(seconds=1)


ENGINES: dict[str, Engine] = {}
"""Each test's database (by connection id): the worker's activities and the checks share it."""


@pytest.fixture
def engine(sqlite_url: str) -> Engine:
    engine = create_db_engine(sqlite_url)
    migrate(engine)
    return engine


@contextlib.asynccontextmanager
async def limit_worker(
    client: Client, queue: str, engine: Engine, *, leak_check_seconds: float = 60, **options: Any
) -> AsyncIterator[None]:
    limits = LimitActivities(engine, leak_check_seconds=leak_check_seconds)
    async with Worker(
        client,
        task_queue=queue,
        workflows=[FlowRunWorkflow],
        activities=[limits.acquire_run_slot, limits.release_run_slot],
        **options,
    ):
        yield


@pytest.fixture
async def setup(env: WorkflowEnvironment, engine: Engine) -> AsyncIterator[tuple[Client, str, str]]:
    """A worker on a fresh task queue, and a connection id of this test's own."""
    queue, connection_id = f"limits-{uuid.uuid4()}", f"c-{uuid.uuid4()}"
    ENGINES[connection_id] = engine
    async with limit_worker(env.client, queue, engine):
        yield env.client, queue, connection_id
    del ENGINES[connection_id]


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
    """The connection's slots as the database holds them."""
    state = RunSlots(ENGINES[connection_id]).state(connection_id)
    if state is None:
        raise LookupError(f"no run of {connection_id} ever asked for a slot")
    return state.as_dict()


async def until(check: Any, what: str, seconds: float = 20) -> Any:
    """Polls `check()` (a coroutine function) until it answers something truthy."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(Exception):  # no run may have asked for a slot yet
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


async def test_a_terminated_runs_slot_is_released_by_the_leak_check(
    env: WorkflowEnvironment, engine: Engine
) -> None:
    client, queue, connection_id = env.client, f"limits-{uuid.uuid4()}", f"c-{uuid.uuid4()}"
    ENGINES[connection_id] = engine
    async with limit_worker(client, queue, engine, leak_check_seconds=0.5):
        holder = await start(client, queue, connection_id, connection_limit=1)
        await settled(client, connection_id, 1, 0)
        behind = await start(
            client, queue, connection_id, connection_limit=1, slot_check_seconds=1
        )  # fmt: skip
        await settled(client, connection_id, 1, 1)
        await holder.terminate("gone without releasing")
        # The queued run asks again after 1 s; its ask checks the holders and finds it closed.
        state = await settled(client, connection_id, 1, 0)
        assert state["running"] == [behind.id]
        await until(lambda: waiting_for_event(behind), "the run behind to get the slot")
        await behind.signal(FlowRunWorkflow.event, {})
        assert (await behind.result()).state == "completed"
        assert await settled(client, connection_id, 0, 0)


async def test_a_lost_slot_signal_only_delays_the_queued_run(setup) -> None:
    """A worker that died between granting a slot and signalling it: the queued run's own
    check finds the slot granted."""
    client, queue, connection_id = setup
    holder = await start(client, queue, connection_id, connection_limit=1)
    await settled(client, connection_id, 1, 0)
    behind = await start(client, queue, connection_id, connection_limit=1, slot_check_seconds=1)
    await settled(client, connection_id, 1, 1)
    # The holder's slot goes to the run behind in the database, and nobody tells it.
    granted = RunSlots(ENGINES[connection_id]).release(connection_id, holder.id)
    assert granted == [behind.id]
    assert await behind.query(FlowRunWorkflow.slot_query) == "queued"
    await until(lambda: waiting_for_event(behind), "the run behind to find its slot", 30)
    await behind.signal(FlowRunWorkflow.event, {})
    assert (await behind.result()).state == "completed"
    await until(lambda: waiting_for_event(holder), "the holder to wait")
    await holder.signal(FlowRunWorkflow.event, {})
    assert (await holder.result()).state == "completed"  # its release is a no-op now
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


async def test_a_worker_restart_keeps_every_run(env: WorkflowEnvironment, engine: Engine) -> None:
    client, queue, connection_id = env.client, f"limits-{uuid.uuid4()}", f"c-{uuid.uuid4()}"
    ENGINES[connection_id] = engine
    # Tasks of this worker's workflows go to the next one after 1 s (instead of 5 s each).
    async with limit_worker(client, queue, engine, sticky_queue_schedule_to_start_timeout=STICKY):
        runs = [await start(client, queue, connection_id, connection_limit=2) for _ in range(5)]
        await settled(client, connection_id, 2, 3)
        holding = (await limiter_state(client, connection_id))["running"]
        first = next(r for r in runs if r.id in holding)
        await until(lambda: waiting_for_event(first), "the first run to wait")
    # No worker: signals and the slot handed over wait in Temporal.
    await first.signal(FlowRunWorkflow.event, {})
    # A new worker picks everything up. Until a workflow's next task moved it to this worker,
    # Temporal sends queries to the old worker: they time out and `until` asks again.
    async with limit_worker(client, queue, engine):
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
    # The two capped runs were started together: either may have asked first.
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
    with pytest.raises(LookupError):  # it never asked for a slot
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

"""Per-connection flow run slots (docs/limits.md): the activities of `FlowRun` and of the
`ConnectionRunLimiter` workflow (workflows/connection_limiter.py), and the values they exchange.

The limiter is addressed by name here (activities must not import workflows): workflow type
`ConnectionRunLimiter`, update `acquire`, signal `release`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from core.events.messages import limiter_workflow_id

LIMITER_WORKFLOW = "ConnectionRunLimiter"

GRANTED, QUEUED, REJECTED = "granted", "queued", "rejected"

LEAK_CHECK_SECONDS = 300
"""How often a limiter holding runs checks whether any of them closed without releasing (a
terminated `FlowRun` never runs its `finally`)."""

IDLE_SECONDS = 600
"""How long a limiter holding nothing stays alive before it ends (the next acquire starts it
again)."""


@dataclass
class Waiting:
    """A run waiting for a slot: its id and the flow whose cap applies to it."""

    run_id: str
    flow: str | None = None


@dataclass
class LimiterInput:
    """A `ConnectionRunLimiter`'s state: empty at its start, carried over by continue-as-new."""

    connection_id: str
    limit: int = 10
    queue_limit: int = 10_000
    running: dict[str, str | None] = field(default_factory=dict)
    """Runs holding a slot, each with the flow (instance id) it belongs to."""
    waiting: list[Waiting] = field(default_factory=list)
    """Runs waiting for a slot, first come first served (a run whose flow is at its cap lets
    the runs behind it pass)."""
    flow_limits: dict[str, int] = field(default_factory=dict)
    """Each flow's `maxParallelRuns`, as its latest acquire said."""
    rejected: int = 0
    outbox: dict[str, str] = field(default_factory=dict)
    """Answers not sent yet, by run id."""
    leak_check_seconds: float = LEAK_CHECK_SECONDS
    idle_seconds: float = IDLE_SECONDS


@dataclass
class AcquireInput:
    """What `FlowRun` asks the limiter for (the local activity `acquire_run_slot`)."""

    connection_id: str
    run_id: str
    task_queue: str
    limit: int
    queue_limit: int
    flow: str | None = None
    flow_limit: int | None = None


def acquire_request(input: AcquireInput) -> dict[str, Any]:
    """The `acquire` update's argument."""
    return {
        "runId": input.run_id,
        "limit": input.limit,
        "queueLimit": input.queue_limit,
        "flow": input.flow,
        "flowLimit": input.flow_limit,
    }


@activity.defn(name="acquire_run_slot")
async def acquire_run_slot(input: AcquireInput) -> None:
    """Asks the connection's limiter for a slot, starting the limiter if it is not running
    (signal-with-start); the answer comes back as a `slot` signal to the run. Idempotent per
    run id: a retry gets the same answer again."""
    await activity.client().start_workflow(
        LIMITER_WORKFLOW,
        LimiterInput(input.connection_id, input.limit, input.queue_limit),
        id=limiter_workflow_id(input.connection_id),
        task_queue=input.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="acquire",
        start_signal_args=[acquire_request(input)],
        static_summary=f"Flow run slots of connection {input.connection_id}",
        rpc_timeout=timedelta(seconds=10),
    )


@dataclass
class ReleaseInput:
    connection_id: str
    run_id: str


@activity.defn(name="release_run_slot")
async def release_run_slot(input: ReleaseInput) -> None:
    """Signals `release` to the connection's limiter; no limiter: it holds nothing of the run.

    A local activity rather than a signal from workflow code: the run then ends in the same
    workflow task, without waiting for Temporal to confirm the signal in another one.
    """
    handle = activity.client().get_workflow_handle(limiter_workflow_id(input.connection_id))
    try:
        await handle.signal("release", input.run_id, rpc_timeout=timedelta(seconds=10))
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


@activity.defn(name="signal_slots")
async def signal_slots(answers: dict[str, str]) -> list[str]:
    """Signals `slot` with its answer to each run; returns the runs that are gone (closed or
    never started), whose slots go to the next runs.

    A local activity, for the same reason as `release_run_slot`: the limiter answers a batch
    of runs in one workflow task.
    """
    client = activity.client()

    async def tell(run_id: str, answer: str) -> str | None:
        try:
            await client.get_workflow_handle(run_id).signal(
                "slot", answer, rpc_timeout=timedelta(seconds=10)
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:  # closed runs answer NOT_FOUND too
                raise
            return run_id
        return None

    gone = await asyncio.gather(*(tell(run_id, answer) for run_id, answer in answers.items()))
    return [run_id for run_id in gone if run_id is not None]


@activity.defn(name="closed_runs")
async def closed_runs(run_ids: list[str]) -> list[str]:
    """The runs among `run_ids` that are no longer running (closed, or gone)."""
    client = activity.client()
    closed = []
    for run_id in run_ids:
        try:
            description = await client.get_workflow_handle(run_id).describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            closed.append(run_id)
            continue
        if description.status != WorkflowExecutionStatus.RUNNING:
            closed.append(run_id)
    return closed


ACTIVITIES: list[Callable[..., Any]] = [
    acquire_run_slot,
    release_run_slot,
    signal_slots,
    closed_runs,
]

"""Reading flow runs from Temporal: one run (description, history, state or result) and lists
(visibility queries). Runs live only in Temporal; this module turns them into API bodies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.common import TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    Replayer,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from api.models.flow_runs import FlowRunList, FlowRunPublic, FlowRunSummary, NodeRunPublic
from api.pagination import open_page_token, seal_page_token
from api.params import invalid_cursor
from core.errors import OsmoError, not_found
from workflows import search_attributes as sa
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowRunResult, node_run_inputs
from workflows.schedule_input import with_scheduled_time

STATES = {
    WorkflowExecutionStatus.RUNNING: "running",
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.CANCELED: "stopped",
    WorkflowExecutionStatus.TERMINATED: "stopped",
    WorkflowExecutionStatus.TIMED_OUT: "failed",
}

QUERY_TIMEOUT = timedelta(seconds=2)
"""How long the `state` query may wait for a worker: with none running (all died, or a
deploy) Temporal would hold it for its own deadline, and the API with it."""
REPLAY_TIMEOUT = 5.0
"""Seconds the fallback, replaying the run's history here, may take."""

VISIBILITY_STATUSES = {
    "running": ["Running"],
    "completed": ["Completed"],
    "failed": ["Failed", "TimedOut"],
    "stopped": ["Canceled", "Terminated"],
}


@dataclass(frozen=True)
class DescribedRun:
    """A flow run's handle and what its description says, before its history is read."""

    handle: WorkflowHandle[FlowRunWorkflow, FlowRunResult]
    summary: FlowRunSummary
    description: WorkflowExecutionDescription


@dataclass(frozen=True)
class FlowRunRead:
    """A flow run as the API shows it, and the input of its latest execution."""

    run: FlowRunPublic
    input: FlowRunInput | None
    node_runs: list[dict[str, Any]] = field(default_factory=list)
    """Every node run as the workflow keeps them, those a rerun inherited included."""
    pending: dict[str, Any] | None = None
    """The work a failed run left unfinished (a `Lane` as JSON), when its failure says."""


def _state(status: WorkflowExecutionStatus | None) -> str:
    return STATES.get(status, "queued") if status else "queued"


def summary_of(
    run_id: str,
    status: WorkflowExecutionStatus | None,
    attributes: TypedSearchAttributes,
    start_time: datetime | None,
    close_time: datetime | None,
) -> FlowRunSummary:
    return FlowRunSummary.model_validate(
        {
            "id": run_id,
            "state": _state(status),
            "flow_key": attributes.get(sa.FLOW_KEY),
            "flow_instance_id": attributes.get(sa.FLOW_INSTANCE_ID),
            "connection_id": attributes.get(sa.CONNECTION_ID),
            "customer_id": attributes.get(sa.CUSTOMER_ID),
            "trigger_type": attributes.get(sa.TRIGGER_TYPE),
            "start_time": start_time,
            "close_time": close_time,
        }
    )


async def describe(
    client: Client, run_id: str, visible: Callable[[str | None], bool]
) -> DescribedRun:
    """The run's description; 404 when it does not exist or `visible(customer_id)` is false.

    Args:
        client: The Temporal client.
        run_id: The flow run's workflow id.
        visible: Whether the caller may see a run of this customer id.
    """
    handle = client.get_workflow_handle_for(FlowRunWorkflow.run, run_id)
    try:
        description = await handle.describe()
    except RPCError as exc:
        raise not_found("flow_run", run_id) from exc
    attributes = description.typed_search_attributes
    if description.workflow_type != "FlowRun" or not visible(attributes.get(sa.CUSTOMER_ID)):
        raise not_found("flow_run", run_id)
    summary = summary_of(
        run_id, description.status, attributes, description.start_time, description.close_time
    )
    return DescribedRun(handle, summary, description)


LOCAL_ACTIVITY_MARKER = "core_local_activity"
"""The marker the SDK records for each local activity result (or final failure)."""


async def _history(
    client: Client, described: DescribedRun
) -> tuple[FlowRunInput | None, dict[str, int], list[HistoryEvent]]:
    """The execution's input, the attempts of each activity (by activity id) so far, and the
    events themselves."""
    run_input: FlowRunInput | None = None
    scheduled: dict[int, str] = {}  # event id → activity id
    attempts: dict[str, int] = {}
    events: list[HistoryEvent] = []
    async for event in described.handle.fetch_history_events():
        events.append(event)
        if event.HasField("workflow_execution_started_event_attributes"):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            if payloads:  # a FlowRun started without input (by hand) has none to read
                run_input = (await client.data_converter.decode(payloads, [FlowRunInput]))[0]
        elif event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_id
        elif event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            attempts[scheduled.get(started.scheduled_event_id, "")] = started.attempt
        elif event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER:
            # A local activity's try (workflows/nodes/base.py): the SDK's marker data names it.
            data = event.marker_recorded_event_attributes.details["data"].payloads
            [marker] = await client.data_converter.decode(data[:1], [dict])
            attempts[str(marker.get("activity_id", ""))] = int(marker.get("attempt", 1))
    for pending in described.description.raw_description.pending_activities:
        attempts[pending.activity_id] = pending.attempt
    return run_input, attempts, events


async def running_node_runs(
    client: Client, described: DescribedRun, events: list[HistoryEvent]
) -> list[dict[str, Any]]:
    """A running run's node runs: its `state` query, answered by a worker; when none answers
    in `QUERY_TIMEOUT`, the same state rebuilt here by replaying the history (what the workers
    had done up to their last workflow task).

    Raises:
        OsmoError: 503 `flow_run_state_unavailable` when even the replay fails.
    """
    query = described.handle.query(FlowRunWorkflow.state, rpc_timeout=QUERY_TIMEOUT)
    try:
        # The RPC deadline alone is not kept (the client retries under it): bound it here too.
        answer = await asyncio.wait_for(query, QUERY_TIMEOUT.total_seconds())
        return [n if isinstance(n, dict) else asdict(n) for n in answer]
    except (TimeoutError, RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
        pass  # no worker answered in time (or it could not): read the history instead
    try:
        history = WorkflowHistory(described.handle.id, events)
        replayed = await asyncio.wait_for(replay_state(client, history), REPLAY_TIMEOUT)
    except Exception as exc:
        raise OsmoError(
            "unavailable",
            "flow_run_state_unavailable",
            "No worker answered for the run and its history could not be read; retry later",
            status=503,
        ) from exc
    return [asdict(n) for n in replayed]


async def replay_state(client: Client, history: WorkflowHistory) -> list[Any]:
    """The node runs a `FlowRun` holds after replaying `history` in this process."""
    instances: list[FlowRunWorkflow] = []
    replayer = Replayer(
        workflows=[FlowRunWorkflow],
        data_converter=client.data_converter,
        interceptors=[_Capture(instances)],
        # Named, so the SDK does not hash every loaded module for a default (a second, once).
        build_id="osmo-api-replay",
    )
    await replayer.replay_workflow(history)
    if not instances:
        raise RuntimeError("the history started no FlowRun")
    return list(instances[0].state())


class _Capture(Interceptor):
    """Hands out the workflow object a replay builds, so its state can be read afterwards."""

    def __init__(self, instances: list[FlowRunWorkflow]) -> None:
        self.instances = instances

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        instances = self.instances

        class Inbound(WorkflowInboundInterceptor):
            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                instances.append(workflow.instance())
                return await super().execute_workflow(input)

        return Inbound


def with_attempts(
    node_runs: list[dict[str, Any]], attempts: dict[str, int]
) -> list[dict[str, Any]]:
    """Node runs with `attempts`: tries of their activities (ids `<node run id>/<n>`), as far
    as this execution's history and pending activities tell (0 for pure nodes)."""
    per_node: dict[str, int] = {}
    for activity_id, count in attempts.items():
        node_run_id, _, number = activity_id.rpartition("/")
        if node_run_id and number.isdigit():
            per_node[node_run_id] = per_node.get(node_run_id, 0) + count
    return [
        {**run, "attempts": per_node.get(run["id"], run.get("attempts", 0))} for run in node_runs
    ]


async def read(client: Client, described: DescribedRun) -> FlowRunRead:
    """The run as `GET /flow-runs/{id}` shows it: while running (a query) and after (its
    result, or the node runs its failure carries)."""
    history_input, attempts, events = await _history(client, described)
    if history_input is not None:  # a scheduled run's input: when it was due, as its trigger's
        history_input = with_scheduled_time(
            history_input, described.description.typed_search_attributes
        )
    handle = described.handle
    failed_node_key, error, pending = None, None, None
    if described.summary.state == "running":
        node_runs = await running_node_runs(client, described, events)
    else:
        try:
            node_runs = [asdict(n) for n in (await handle.result()).node_runs]
        except WorkflowFailureError as exc:
            details = getattr(exc.cause, "details", None) or [{}]
            failure = details[0] if isinstance(details[0], dict) else {}
            node_runs = failure.get("nodeRuns", [])
            failed_node_key = failure.get("failedNodeKey")
            pending = failure.get("pending")
            error = {"message": str(exc.cause)}
    seed = history_input.start_outputs if history_input else {}
    inherited = history_input.inherited if history_input else 0
    # A rerun's inherited node runs are the failed run's; it shows only its own.
    filled = with_attempts(node_run_inputs(node_runs, seed)[inherited:], attempts)
    run = FlowRunPublic.model_validate(
        {
            **described.summary.model_dump(exclude={"user_id", "connection_flow_id"}),
            "start_node_key": history_input.start_node_key if history_input else None,
            "input": history_input.input if history_input else None,
            "node_runs": [NodeRunPublic.model_validate(n) for n in filled],
            "failed_node_key": failed_node_key,
            "error": error,
            "launched_by": (history_input.launched_by if history_input else None)
            or {"type": "api"},
        }
    )
    return FlowRunRead(run, history_input, node_runs, pending)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def list_query(
    *,
    customer_id: str | None,
    equals: dict[str, str | None],
    state: str | None,
    since: datetime | None,
    until: datetime | None,
) -> str:
    """A visibility query for flow runs.

    Args:
        customer_id: Only this customer's runs (None: everyone's, for admins).
        equals: Search attribute name → value to match (None: no condition).
        state: An API state (`running`, `completed`, `failed`, `stopped`).
        since: Started at or after.
        until: Started before.
    """
    # A run that continued as new shows once, as its latest execution.
    clauses = ["WorkflowType = 'FlowRun'", "ExecutionStatus != 'ContinuedAsNew'"]
    if customer_id is not None:
        clauses.append(f"CustomerId = '{_quoted(customer_id)}'")
    clauses += [f"{name} = '{_quoted(value)}'" for name, value in equals.items() if value]
    if state:
        statuses = VISIBILITY_STATUSES[state]
        clauses.append("(" + " OR ".join(f"ExecutionStatus = '{s}'" for s in statuses) + ")")
    if since:
        clauses.append(f"StartTime >= '{since.isoformat()}'")
    if until:
        clauses.append(f"StartTime < '{until.isoformat()}'")
    return " AND ".join(clauses)


async def list_runs(
    client: Client, query: str, *, limit: int, cursor: str | None, secret: str
) -> FlowRunList:
    """One page of runs matching `query`, newest first.

    Cursors carry Temporal's page token sealed with a MAC over the query (`secret`), so a
    forged cursor, or one from another query, is a 422 rather than a Temporal error.
    """
    token = open_page_token(secret, query, cursor)
    iterator = client.list_workflows(query, page_size=limit, next_page_token=token)
    try:
        await iterator.fetch_next_page()
    except RPCError as exc:
        # The query's values are validated before it is built, so a refusal here is the page
        # token: one Temporal no longer accepts.
        if exc.status == RPCStatusCode.INVALID_ARGUMENT and token is not None:
            raise invalid_cursor() from exc
        raise
    items = [
        summary_of(w.id, w.status, w.typed_search_attributes, w.start_time, w.close_time)
        for w in iterator.current_page or []
    ]
    return FlowRunList(items=items, cursor=seal_page_token(secret, query, iterator.next_page_token))

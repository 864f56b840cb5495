"""Starting a `FlowRun`: one place for its id rules, search attributes and summary, used by the
API (`api/runs.py`) and by the event inbox's `launch_events` activity (which gets
`start_event_flow_run` from worker.py: activities do not import workflows)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from core import patches
from core.elements.snapshots import FlowSnapshot
from workflows import search_attributes as sa
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput


def owner_attributes(
    customer_id: str | None, connection_id: str | None, integration_key: str | None
) -> list[SearchAttributePair[str]]:
    """The customer, connection and integration of a run, as search attributes."""
    return [
        SearchAttributePair(name, value)
        for name, value in (
            (sa.CUSTOMER_ID, customer_id),
            (sa.CONNECTION_ID, connection_id),
            (sa.INTEGRATION_KEY, integration_key),
        )
        if value
    ]


def waits_for_app_events(snapshot: FlowSnapshot) -> bool:
    """Whether a `wait-for-event` node of the flow takes app events (`appEventType`)."""
    return any(
        node.get("type") == "wait-for-event" and (node.get("config") or {}).get("appEventType")
        for node in snapshot.nodes.values()
    )


def flow_run_search_attributes(run_input: FlowRunInput) -> TypedSearchAttributes:
    snapshot = run_input.snapshot
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(sa.FLOW_KEY, snapshot.flow_key),
        SearchAttributePair(sa.FLOW_INSTANCE_ID, snapshot.flow_instance_id),
        SearchAttributePair(sa.TRIGGER_TYPE, run_input.trigger_type),
        *owner_attributes(snapshot.customer_id, snapshot.connection_id, snapshot.integration_key),
    ]
    if waits_for_app_events(snapshot):
        pairs.append(SearchAttributePair(sa.WAITS_FOR_APP_EVENTS, "true"))
    return TypedSearchAttributes(pairs)


async def start_flow_run(
    client: Client,
    task_queue: str,
    run_input: FlowRunInput,
    run_id: str,
    *,
    reject_duplicate: bool = False,
) -> None:
    """Starts the `FlowRun` (returns once Temporal accepted it).

    `reject_duplicate`: the id is deterministic (an event's run), so a run that already
    exists, running or closed, is never started a second time.

    Raises:
        WorkflowAlreadyStartedError: A run with this id exists (with `reject_duplicate`, or
            running).
    """
    if not run_input.built_in_patches:
        run_input = replace(run_input, built_in_patches=list(patches.BUILT_IN))
    await client.start_workflow(
        FlowRunWorkflow.run,
        run_input,
        id=run_id,
        task_queue=task_queue,
        search_attributes=flow_run_search_attributes(run_input),
        static_summary=f"Flow {run_input.snapshot.flow_key}",
        id_reuse_policy=(
            WorkflowIDReusePolicy.REJECT_DUPLICATE
            if reject_duplicate
            else WorkflowIDReusePolicy.ALLOW_DUPLICATE
        ),
    )


async def start_event_flow_run(
    client: Client,
    task_queue: str,
    snapshot: FlowSnapshot,
    *,
    run_id: str,
    input: Any,
    trigger_type: str,
    launched_by: dict[str, Any],
    history_limit: int,
    connection_limit: int | None = 10,
    queue_limit: int = 10_000,
) -> bool:
    """Starts the run an event launches for one flow instance; False when a run with that
    (deterministic) id was started before, whatever its state: a retried launch starts
    nothing twice."""
    run_input = FlowRunInput(
        snapshot,
        input,
        trigger_type=trigger_type,
        history_limit=history_limit,
        launched_by=launched_by,
        connection_limit=connection_limit,
        queue_limit=queue_limit,
    )
    try:
        await start_flow_run(client, task_queue, run_input, run_id, reject_duplicate=True)
    except WorkflowAlreadyStartedError:
        return False
    return True

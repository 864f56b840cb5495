"""Starting runs in Temporal: flow runs (answered at once) and action runs (awaited)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio.client import WorkflowFailureError
from temporalio.common import TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

from api.models.actions import ActionRunResult
from api.models.flow_runs import FlowRunPublic
from api.services import Services
from connectors.runtime.errors import ERROR_KEYS, ConnectorError
from core import patches
from core.elements.snapshots import ActionSnapshot
from core.errors import OsmoError
from workflows import starts
from workflows.action_run import RUN_TIMEOUT, ActionRunInput, ActionRunWorkflow
from workflows.flow_state import FlowRunInput

# Statuses of errors raised outside the connector runtime, by type (connector errors carry keys).
STATUSES = {"bad_request": 400, "auth": 403, "not_found": 404, "conflict": 409, "connection": 409}


async def start_flow_run(services: Services, run_input: FlowRunInput) -> FlowRunPublic:
    """Starts a `FlowRun` and answers the run as `GET /flow-runs/{id}` would at its start."""
    client = await services.temporal()
    snapshot = run_input.snapshot
    run_input.history_limit = services.settings.flow_history_limit
    if run_input.connection_limit is not None:  # None: a run that takes no slot (tests)
        run_input.connection_limit = services.settings.flow_runs_per_connection
    run_input.queue_limit = services.settings.connection_queue_limit
    run_id = f"flow-run-{uuid.uuid4().hex}"
    started = datetime.now(UTC)
    await starts.start_flow_run(client, services.settings.task_queue, run_input, run_id)
    return FlowRunPublic(
        id=run_id,
        state="running",
        flow_key=snapshot.flow_key,
        flow_instance_id=snapshot.flow_instance_id,
        connection_id=snapshot.connection_id,
        customer_id=snapshot.customer_id,
        trigger_type=run_input.trigger_type,
        start_time=started,
        start_node_key=run_input.start_node_key,
        input=run_input.input,
        launched_by=run_input.launched_by or {"type": "api"},
    )


def action_error(exc: WorkflowFailureError, run_id: str) -> OsmoError:
    """The run's failure as the error the API answers with."""
    cause = exc.cause.cause if isinstance(exc.cause, ActivityError) else exc.cause
    if isinstance(cause, TimeoutError):
        return OsmoError(
            "internal", "action_timed_out", str(cause), {"actionRunId": run_id}, status=504
        )
    details = cause.details[0] if isinstance(cause, ApplicationError) and cause.details else None
    if not isinstance(details, dict) or "key" not in details:
        return OsmoError("internal", "action_failed", str(cause), {"actionRunId": run_id}, 500)
    key, message = details["key"], details.get("message", str(cause))
    data = {**(details.get("data") or {}), "actionRunId": run_id}
    if details.get("type") == "connector" and key in ERROR_KEYS:
        return ConnectorError(key, message, data=data)
    status = details.get("status") or (
        422 if key == "validation_error" else STATUSES.get(details.get("type", ""), 400)
    )
    return OsmoError(details.get("type", "bad_request"), key, message, data, status=status)


async def execute_action(
    services: Services, snapshot: ActionSnapshot, input: Any
) -> ActionRunResult:
    """Runs the action as an `ActionRun` workflow and waits for its output."""
    client = await services.temporal()
    run_id = f"action-run-{uuid.uuid4().hex}"
    attributes = starts.owner_attributes(
        snapshot.customer_id, snapshot.connection_id, snapshot.integration_key
    )
    try:
        output = await client.execute_workflow(
            ActionRunWorkflow.run,
            ActionRunInput(snapshot, input, list(patches.BUILT_IN)),
            id=run_id,
            task_queue=services.settings.task_queue,
            search_attributes=TypedSearchAttributes(attributes),
            static_summary=f"Action {snapshot.action_key}",
            execution_timeout=RUN_TIMEOUT,
            request_eager_start=True,
        )
    except WorkflowFailureError as exc:
        raise action_error(exc, run_id) from exc
    return ActionRunResult(output=output, action_run_id=run_id)

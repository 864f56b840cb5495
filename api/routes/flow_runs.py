"""Flow runs: start (by flow, by connection, at any node), inspect, list, stop, re-run."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import Field
from sqlmodel import Session
from temporalio.client import (
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Caller, CallerDep, ServicesDep, SessionDep
from api.models import ApiModel
from api.pagination import open_page_token, seal_page_token
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit, UtcDatetime, invalid_cursor
from api.routes.actions import action_snapshot, with_collection
from api.routes.connections import get_connection
from api.services import Services
from core.elements.models import Element
from core.elements.store import ElementStore
from core.errors import OsmoError, not_found
from core.models import Connection, Customer, Integration
from workflows import search_attributes as sa
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowSnapshot, node_run_inputs

router = APIRouter(tags=["flow-runs"])

STATES = {
    WorkflowExecutionStatus.RUNNING: "running",
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.CANCELED: "stopped",
    WorkflowExecutionStatus.TERMINATED: "stopped",
    WorkflowExecutionStatus.TIMED_OUT: "failed",
}


class FlowRunStart(ApiModel):
    connection_id: str | None = None
    instance_key: str | None = None
    input: Any = None


class FlowRunCreate(ApiModel):
    flow_instance_id: str
    start_node_key: str | None = None
    input: Any = None


class FlowRunRerun(ApiModel):
    from_: Literal["start", "failed-node"] = Field("start", alias="from")
    definition: Literal["original", "current"] = "original"


def snapshot_of(session: Session, store: ElementStore, instance: Element) -> FlowSnapshot:
    """Resolves the flow instance (its data sources and actions) into an immutable snapshot."""
    definition = store.resolve(instance)
    if not definition.get("enabled", True):
        raise OsmoError("bad_request", "flow_disabled", "This flow instance is disabled")
    connection = session.get(Connection, instance.connection_id) if instance.connection_id else None
    integration = (
        session.get(Integration, instance.integration_id) if instance.integration_id else None
    )
    customer = session.get(Customer, connection.customer_id) if connection else None
    nodes = {}
    for key, node in (definition.get("nodes") or {}).items():
        config = dict(node.get("config") or {})
        if connection is not None:
            config = with_collection(store, connection, config)
            if node.get("type") == "run-action":  # the run gets the action, not a key to it
                action = action_snapshot(session, store, connection, config["actionKey"])
                config["action"] = asdict(action)
        nodes[key] = {**node, "config": config}
    return FlowSnapshot(
        flow_key=instance.key,
        flow_instance_id=instance.id,
        nodes=nodes,
        parameters=dict(definition.get("parameters") or {}),
        connection_id=connection.id if connection else None,
        customer_id=connection.customer_id if connection else None,
        integration_key=integration.key if integration else None,
        revision=instance.revision,
        tenant_key=customer.tenant_key if customer else None,
    )


async def start_run(services: Services, run_input: FlowRunInput) -> str:
    client = await services.temporal()
    snapshot = run_input.snapshot
    run_input.history_limit = services.settings.flow_history_limit
    run_id = f"flow-run-{uuid.uuid4().hex}"
    pairs = [
        SearchAttributePair(sa.FLOW_KEY, snapshot.flow_key),
        SearchAttributePair(sa.FLOW_INSTANCE_ID, snapshot.flow_instance_id),
        SearchAttributePair(sa.TRIGGER_TYPE, run_input.trigger_type),
    ]
    for key, value in (
        (sa.CUSTOMER_ID, snapshot.customer_id),
        (sa.CONNECTION_ID, snapshot.connection_id),
        (sa.INTEGRATION_KEY, snapshot.integration_key),
    ):
        if value:
            pairs.append(SearchAttributePair(key, value))
    await client.start_workflow(
        FlowRunWorkflow.run,
        run_input,
        id=run_id,
        task_queue=services.settings.task_queue,
        search_attributes=TypedSearchAttributes(pairs),
        static_summary=f"Flow {snapshot.flow_key}",
    )
    return run_id


def _instance_for(
    session: Session,
    caller: Caller,
    selector: str,
    connection_id: str | None,
    instance_key: str | None,
) -> Element:
    store = ElementStore(session)
    flow = store.find("flows", selector)
    if connection_id is None:
        raise OsmoError(
            "bad_request",
            "connection_required",
            "Give connectionId to run a flow",
            {"path": "connectionId"},
        )
    connection = get_connection(session, caller, connection_id)
    return store.instance("flows", flow.key, connection, instance_key)


@router.post("/flows/{selector}/run", status_code=201)
async def run_flow(
    selector: str, body: FlowRunStart, caller: CallerDep, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    instance = _instance_for(session, caller, selector, body.connection_id, body.instance_key)
    snapshot = snapshot_of(session, ElementStore(session), instance)
    return {"flowRunId": await start_run(services, FlowRunInput(snapshot, body.input))}


@router.post("/connections/{connection_id}/flows/{selector}/run", status_code=201)
async def run_connection_flow(
    connection_id: str,
    selector: str,
    body: FlowRunStart,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
) -> dict[str, Any]:
    instance = _instance_for(session, caller, selector, connection_id, body.instance_key)
    snapshot = snapshot_of(session, ElementStore(session), instance)
    return {"flowRunId": await start_run(services, FlowRunInput(snapshot, body.input))}


@router.post("/flow-runs", status_code=201)
async def create_flow_run(
    body: FlowRunCreate, caller: CallerDep, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Starts a run of a flow instance at any node."""
    instance = session.get(Element, body.flow_instance_id)
    if instance is None or instance.kind != "flows" or instance.connection_id is None:
        raise not_found("flow_instance", body.flow_instance_id)
    get_connection(session, caller, instance.connection_id)  # 404 for other customers
    snapshot = snapshot_of(session, ElementStore(session), instance)
    if body.start_node_key is not None and body.start_node_key not in snapshot.nodes:
        raise OsmoError(
            "bad_request",
            "node_not_found",
            f"No node {body.start_node_key!r}",
            {"path": "startNodeKey"},
            status=422,
        )
    return {
        "flowRunId": await start_run(
            services, FlowRunInput(snapshot, body.input, body.start_node_key)
        )
    }


async def _describe(
    services: Services, caller: Caller, run_id: str
) -> tuple[Any, dict[str, Any], WorkflowExecutionDescription]:
    client = await services.temporal()
    handle = client.get_workflow_handle_for(FlowRunWorkflow.run, run_id)
    try:
        description = await handle.describe()
    except RPCError as exc:
        raise not_found("flow_run", run_id) from exc
    if description.workflow_type != "FlowRun":
        raise not_found("flow_run", run_id)
    customer = description.typed_search_attributes.get(sa.CUSTOMER_ID)
    if not caller.can_see(customer):
        raise not_found("flow_run", run_id)
    return (
        handle,
        {
            "id": run_id,
            "state": STATES.get(description.status, "queued") if description.status else "queued",
            "flowKey": description.typed_search_attributes.get(sa.FLOW_KEY),
            "flowInstanceId": description.typed_search_attributes.get(sa.FLOW_INSTANCE_ID),
            "connectionId": description.typed_search_attributes.get(sa.CONNECTION_ID),
            "customerId": customer,
            "triggerType": description.typed_search_attributes.get(sa.TRIGGER_TYPE),
            "startTime": description.start_time,
            "closeTime": description.close_time,
        },
        description,
    )


async def _history(
    handle: Any, description: WorkflowExecutionDescription
) -> tuple[FlowRunInput | None, dict[str, int]]:
    """The execution's input and the attempts of each activity (by activity id) so far."""
    run_input: FlowRunInput | None = None
    scheduled: dict[int, str] = {}  # event id → activity id
    attempts: dict[str, int] = {}
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_started_event_attributes"):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            run_input = (await handle._client.data_converter.decode(payloads, [FlowRunInput]))[0]
        elif event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_id
        elif event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            attempts[scheduled.get(started.scheduled_event_id, "")] = started.attempt
    for pending in description.raw_description.pending_activities:
        attempts[pending.activity_id] = pending.attempt
    return run_input, attempts


async def _read(
    services: Services, caller: Caller, run_id: str
) -> tuple[dict[str, Any], FlowRunInput | None]:
    """The run as `GET /flow-runs/{id}` shows it, and the input of its latest execution."""
    handle, run, description = await _describe(services, caller, run_id)
    history_input, attempts = await _history(handle, description)
    run["input"] = history_input.input if history_input else None
    seed = history_input.start_outputs if history_input else {}
    if run["state"] == "running":
        node_runs = await handle.query(FlowRunWorkflow.state)
        node_runs = [n if isinstance(n, dict) else asdict(n) for n in node_runs]
    else:
        try:
            result = await handle.result()
            node_runs = [asdict(n) for n in result.node_runs]
        except WorkflowFailureError as exc:
            details = getattr(exc.cause, "details", None) or [{}]
            failure = details[0] if isinstance(details[0], dict) else {}
            node_runs = failure.get("nodeRuns", [])
            run["failedNodeKey"] = failure.get("failedNodeKey")
            run["error"] = {"message": str(exc.cause)}
    run["nodeRuns"] = with_attempts(node_run_inputs(node_runs, seed), attempts)
    return run, history_input


@router.get("/flow-runs/{run_id}")
async def read_flow_run(run_id: str, caller: CallerDep, services: ServicesDep) -> dict[str, Any]:
    """Works while running (query) and after completion (result or failure, from history)."""
    run, _ = await _read(services, caller, run_id)
    return run


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


@router.get("/flow-runs")
async def list_flow_runs(
    caller: CallerDep,
    services: ServicesDep,
    flow_key: Annotated[Key | None, Query(alias="flowKey")] = None,
    connection_id: Annotated[Key | None, Query(alias="connectionId")] = None,
    integration_key: Annotated[Key | None, Query(alias="integrationKey")] = None,
    customer_id: Annotated[Key | None, Query(alias="customerId")] = None,
    state: Literal["running", "completed", "failed", "stopped"] | None = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Newest first, from Temporal visibility; a customer sees only their own runs."""
    # A run that continued as new shows once, as its latest execution.
    clauses = ["WorkflowType = 'FlowRun'", "ExecutionStatus != 'ContinuedAsNew'"]
    if not caller.is_admin:
        clauses.append(f"CustomerId = '{caller.customer_id}'")
    elif customer_id:
        clauses.append(f"CustomerId = '{_quoted(customer_id)}'")
    for name, value in (
        ("FlowKey", flow_key),
        ("ConnectionId", connection_id),
        ("IntegrationKey", integration_key),
    ):
        if value:
            clauses.append(f"{name} = '{_quoted(value)}'")
    if state:
        statuses = {
            "running": ["Running"],
            "completed": ["Completed"],
            "failed": ["Failed", "TimedOut"],
            "stopped": ["Canceled", "Terminated"],
        }[state]
        clauses.append("(" + " OR ".join(f"ExecutionStatus = '{s}'" for s in statuses) + ")")
    if since:
        clauses.append(f"StartTime >= '{since.isoformat()}'")
    if until:
        clauses.append(f"StartTime < '{until.isoformat()}'")
    client = await services.temporal()
    query = " AND ".join(clauses)
    secret = services.settings.workspace_secret
    token = open_page_token(secret, query, cursor)
    iterator = client.list_workflows(query, page_size=limit, next_page_token=token)
    try:
        await iterator.fetch_next_page()
    except RPCError as exc:
        # The query's values are validated above, so a refusal here is the page token:
        # one Temporal no longer accepts.
        if exc.status == RPCStatusCode.INVALID_ARGUMENT and token is not None:
            raise invalid_cursor() from exc
        raise
    items = [
        {
            "id": w.id,
            "state": STATES.get(w.status, "queued") if w.status else "queued",
            "flowKey": w.typed_search_attributes.get(sa.FLOW_KEY),
            "connectionId": w.typed_search_attributes.get(sa.CONNECTION_ID),
            "startTime": w.start_time,
            "closeTime": w.close_time,
        }
        for w in iterator.current_page or []
    ]
    return {"items": items, "cursor": seal_page_token(secret, query, iterator.next_page_token)}


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


@router.post("/flow-runs/{run_id}/stop")
async def stop_flow_run(run_id: str, caller: CallerDep, services: ServicesDep) -> dict[str, Any]:
    handle, run, _ = await _describe(services, caller, run_id)
    if run["state"] == "running":
        await handle.cancel()
    return {"id": run_id, "state": "stopping" if run["state"] == "running" else run["state"]}


@router.post("/flow-runs/{run_id}/events", status_code=202)
async def send_flow_run_event(
    run_id: str,
    caller: CallerDep,
    services: ServicesDep,
    event: Annotated[Any, Body(description="The event, any JSON value")],
) -> dict[str, Any]:
    """Delivers an event to a running run; its `wait-for-event` nodes take those they match."""
    handle, run, _ = await _describe(services, caller, run_id)
    not_running = OsmoError(
        "conflict", "flow_run_not_running", f"Flow run {run_id!r} is not running", status=409
    )
    if run["state"] != "running":
        raise not_running
    try:
        await handle.signal(FlowRunWorkflow.event, event)
    except RPCError as exc:  # it finished in between
        raise not_running from exc
    return {"id": run_id, "delivered": True}


@router.post("/flow-runs/{run_id}/rerun", status_code=201)
async def rerun_flow_run(
    run_id: str, body: FlowRunRerun, caller: CallerDep, services: ServicesDep, session: SessionDep
) -> dict[str, Any]:
    """Runs again from the start or from the failed node, on the original or current definition."""
    run, original = await _read(services, caller, run_id)
    assert original is not None  # every execution's history starts with its input
    snapshot = original.snapshot
    if body.definition == "current":
        instance = session.get(Element, snapshot.flow_instance_id)
        if instance is None:
            raise not_found("flow_instance", snapshot.flow_instance_id)
        snapshot = snapshot_of(session, ElementStore(session), instance)
    start_node, start_input = original.start_node_key, original.input
    if body.from_ == "failed-node":
        failed = run.get("failedNodeKey")
        if not failed:
            raise OsmoError(
                "bad_request", "no_failed_node", "This run has no failed node", {"path": "from"}
            )
        failed_run = next(r for r in reversed(run["nodeRuns"]) if r["node_key"] == failed)
        rerun = FlowRunInput(snapshot, original.input, failed, original.trigger_type)
        rerun.start_outputs = dict(failed_run.get("input") or {})
        return {"flowRunId": await start_run(services, rerun)}
    return {
        "flowRunId": await start_run(
            services, FlowRunInput(snapshot, start_input, start_node, original.trigger_type)
        )
    }

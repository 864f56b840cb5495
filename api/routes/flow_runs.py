"""Flow runs: start (by flow, by connection, at any node), inspect, list, stop, re-run."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from temporalio.service import RPCError

from api import flow_run_reader as reader
from api.deps import Caller, CallerDep, ServicesDep, SessionDep, get_connection
from api.models.errors import errors
from api.models.flow_runs import (
    FlowRunCreate,
    FlowRunEventDelivered,
    FlowRunList,
    FlowRunOutput,
    FlowRunPublic,
    FlowRunRerun,
    FlowRunStart,
    FlowRunStopped,
)
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit, UtcDatetime
from api.runs import start_flow_run
from api.services import Services
from core.elements.models import Element
from core.elements.resolve import resolve_flow_instance
from core.elements.snapshot_cache import RecordingStore
from core.elements.snapshots import FlowSnapshot
from core.elements.store import ElementStore
from core.errors import OsmoError, not_found, validation_error
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, NodeRun, lane_from, lane_node_keys

router = APIRouter(tags=["flow-runs"])


def _snapshot_for(
    services: Services,
    session: Session,
    caller: Caller,
    selector: str,
    connection_id: str | None,
    instance_key: str | None,
) -> FlowSnapshot:
    if connection_id is None:
        ElementStore(session).find("flows", selector)  # an unknown flow is a 404 first
        raise OsmoError(
            "bad_request",
            "connection_required",
            "Give connectionId to run a flow",
            {"path": "connectionId"},
        )
    try:
        connection = get_connection(session, caller, connection_id)
    except OsmoError:
        ElementStore(session).find("flows", selector)  # an unknown flow's 404 comes first
        raise

    def resolve(store: RecordingStore) -> FlowSnapshot:
        flow = store.record(store.find("flows", selector))
        instance = store.instance("flows", flow.key, connection, instance_key)
        return resolve_flow_instance(session, store, instance)

    # Reused while the flow's elements are unchanged (see `SnapshotCache`).
    key = (connection.id, selector, instance_key)
    return _released(session, services.flow_snapshots.get(session, key, resolve))


def _released(session: Session, snapshot: FlowSnapshot) -> FlowSnapshot:
    """The snapshot, after ending the read transaction: the route then awaits Temporal, and a
    pooled connection held meanwhile starves the pool (at 16 concurrent starts the API stalled)."""
    session.commit()
    return snapshot


async def _described(services: Services, caller: Caller, run_id: str) -> reader.DescribedRun:
    return await reader.describe(await services.temporal(), run_id, caller.can_see)


@router.post("/flows/{selector}/run", status_code=201, responses=errors(400, 404))
async def run_flow(
    selector: str, body: FlowRunStart, caller: CallerDep, services: ServicesDep, session: SessionDep
) -> FlowRunPublic:
    """Starts a run of the connection's instance of the flow; answers the run."""
    snapshot = await run_in_threadpool(
        _snapshot_for, services, session, caller, selector, body.connection_id, body.instance_key
    )
    return await start_flow_run(services, FlowRunInput(snapshot, body.input))


@router.post(
    "/connections/{connection_id}/flows/{selector}/run",
    status_code=201,
    responses=errors(400, 404),
)
async def run_connection_flow(
    connection_id: str,
    selector: str,
    body: FlowRunStart,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
) -> FlowRunPublic:
    """Starts a run of the connection's instance of the flow; answers the run."""
    snapshot = await run_in_threadpool(
        _snapshot_for, services, session, caller, selector, connection_id, body.instance_key
    )
    return await start_flow_run(services, FlowRunInput(snapshot, body.input))


def _instance_snapshot(session: Session, caller: Caller, body: FlowRunCreate) -> FlowSnapshot:
    instance = session.get(Element, body.flow_instance_id)
    if instance is None or instance.kind != "flows" or instance.connection_id is None:
        raise not_found("flow_instance", body.flow_instance_id)
    get_connection(session, caller, instance.connection_id)  # 404 for other customers
    snapshot = resolve_flow_instance(session, ElementStore(session), instance)
    start_node_key = _start_node_key(body)
    if start_node_key is not None and start_node_key not in snapshot.nodes:
        raise OsmoError(
            "bad_request",
            "node_not_found",
            f"No node {start_node_key!r}",
            {"path": "startNodeKey"},
            status=422,
        )
    return _released(session, snapshot)


def _start_node_key(body: FlowRunCreate) -> str | None:
    """`startNodeKey`, or `nodeKey` as Membrane's SDK names it; two different values are a 422."""
    if body.start_node_key and body.node_key and body.start_node_key != body.node_key:
        raise validation_error([{"path": "nodeKey", "message": "differs from startNodeKey"}])
    return body.start_node_key or body.node_key


@router.post("/flow-runs", status_code=201, responses=errors(400, 404))
async def create_flow_run(
    body: FlowRunCreate, caller: CallerDep, services: ServicesDep, session: SessionDep
) -> FlowRunPublic:
    """Starts a run of a flow instance at any node; answers the run."""
    snapshot = await run_in_threadpool(_instance_snapshot, session, caller, body)
    return await start_flow_run(services, FlowRunInput(snapshot, body.input, _start_node_key(body)))


@router.get("/flow-runs/{run_id}", responses=errors(404, 503))
async def read_flow_run(run_id: str, caller: CallerDep, services: ServicesDep) -> FlowRunPublic:
    """Works while running (query) and after completion (result or failure, from history)."""
    client = await services.temporal()
    return (await reader.read(client, await _described(services, caller, run_id))).run


@router.get("/flow-runs/{run_id}/output", responses=errors(404, 503))
async def read_flow_run_output(
    run_id: str, caller: CallerDep, services: ServicesDep
) -> FlowRunOutput:
    """What the run produced: the outputs of its completed end nodes (those linking nowhere),
    in the order they ran; while it runs, those so far."""
    client = await services.temporal()
    read = await reader.read(client, await _described(services, caller, run_id))
    nodes = read.input.snapshot.nodes if read.input else {}
    ends = {key for key, node in nodes.items() if not node.get("links")}
    outputs = [
        output
        for node_run in read.run.node_runs
        if node_run.node_key in ends and node_run.state == "completed"
        for output in node_run.outputs
    ]
    return FlowRunOutput(id=run_id, state=read.run.state, output=outputs)


@router.get("/flow-runs", responses=errors(400))
async def list_flow_runs(
    caller: CallerDep,
    services: ServicesDep,
    flow_key: Annotated[Key | None, Query(alias="flowKey")] = None,
    flow_instance_id: Annotated[Key | None, Query(alias="flowInstanceId")] = None,
    connection_flow_id: Annotated[
        Key | None,
        Query(alias="connectionFlowId", description="Membrane's name of flowInstanceId."),
    ] = None,
    connection_id: Annotated[Key | None, Query(alias="connectionId")] = None,
    integration_key: Annotated[Key | None, Query(alias="integrationKey")] = None,
    customer_id: Annotated[Key | None, Query(alias="customerId")] = None,
    state: Literal["running", "completed", "failed", "stopped"] | None = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> FlowRunList:
    """Newest first, from Temporal visibility; a customer sees only their own runs."""
    query = reader.list_query(
        customer_id=caller.customer_id if not caller.is_admin else customer_id,
        equals={
            "FlowKey": flow_key,
            "FlowInstanceId": flow_instance_id or connection_flow_id,
            "ConnectionId": connection_id,
            "IntegrationKey": integration_key,
        },
        state=state,
        since=since,
        until=until,
    )
    return await reader.list_runs(
        await services.temporal(),
        query,
        limit=limit,
        cursor=cursor,
        secret=services.settings.workspace_secret,
    )


@router.post("/flow-runs/{run_id}/stop", responses=errors(404))
async def stop_flow_run(run_id: str, caller: CallerDep, services: ServicesDep) -> FlowRunStopped:
    described = await _described(services, caller, run_id)
    state = described.summary.state
    if state == "running":
        await described.handle.cancel()
    return FlowRunStopped(id=run_id, state="stopping" if state == "running" else state)


@router.post("/flow-runs/{run_id}/events", status_code=202, responses=errors(404, 409))
async def send_flow_run_event(
    run_id: str,
    caller: CallerDep,
    services: ServicesDep,
    event: Annotated[Any, Body(description="The event, any JSON value")],
) -> FlowRunEventDelivered:
    """Delivers an event to a running run; its `wait-for-event` nodes take those they match."""
    described = await _described(services, caller, run_id)
    not_running = OsmoError(
        "conflict", "flow_run_not_running", f"Flow run {run_id!r} is not running", status=409
    )
    if described.summary.state != "running":
        raise not_running
    try:
        await described.handle.signal(FlowRunWorkflow.event, event)
    except RPCError as exc:  # it finished in between
        raise not_running from exc
    return FlowRunEventDelivered(id=run_id, delivered=True)


def _current_snapshot(session: Session, flow_instance_id: str) -> FlowSnapshot:
    instance = session.get(Element, flow_instance_id)
    if instance is None:
        raise not_found("flow_instance", flow_instance_id)
    return _released(session, resolve_flow_instance(session, ElementStore(session), instance))


def _pending_rerun(read: reader.FlowRunRead, snapshot: FlowSnapshot) -> FlowRunInput | None:
    """A run that finishes what the failed run left (its failure's `pending` work), reading
    the outputs it refers to from the failed run's node runs; None for runs whose failure
    does not say (recorded before it did, or walked breadth first)."""
    original = read.input
    assert original is not None and read.run.failed_node_key is not None
    if read.pending is None:
        return None
    pending = lane_from(read.pending)
    missing = sorted(lane_node_keys(pending) - snapshot.nodes.keys())
    if missing:
        raise OsmoError(
            "bad_request",
            "pending_node_not_found",
            f"The definition has no node {', '.join(map(repr, missing))}, which the failed run "
            "had not finished; re-run from the start or restore the node",
            {
                "path": "definition",
                "nodeKeys": missing,
                "errors": [{"path": "definition", "message": f"no node {k!r}"} for k in missing],
            },
            status=422,
        )
    return FlowRunInput(
        snapshot,
        original.input,
        original.start_node_key,  # where the failed run started: what `from: start` re-runs
        original.trigger_type,
        start_outputs=original.start_outputs,
        resume=pending,
        node_runs=[NodeRun(**run) for run in read.node_runs],
        inherited=len(read.node_runs),
    )


@router.post("/flow-runs/{run_id}/rerun", status_code=201, responses=errors(400, 404, 422, 503))
async def rerun_flow_run(
    run_id: str, body: FlowRunRerun, caller: CallerDep, services: ServicesDep, session: SessionDep
) -> FlowRunPublic:
    """Runs again from the start or from the failed node, on the original or current definition.

    From the failed node, the new run finishes all the work the failed run had not: the failed
    node's job, the rest of its branch, and every item and branch still pending or cancelled
    when it failed; what finished is not run again.
    """
    client = await services.temporal()
    read = await reader.read(client, await _described(services, caller, run_id))
    original = read.input
    assert original is not None  # every execution's history starts with its input
    snapshot = original.snapshot
    if body.definition == "current":
        snapshot = await run_in_threadpool(_current_snapshot, session, snapshot.flow_instance_id)
    if body.from_ == "failed-node":
        failed = read.run.failed_node_key
        if not failed:
            raise OsmoError(
                "bad_request", "no_failed_node", "This run has no failed node", {"path": "from"}
            )
        resumed = _pending_rerun(read, snapshot)
        if resumed is not None:
            return await start_flow_run(services, resumed)
        failed_run = next(r for r in reversed(read.run.node_runs) if r.node_key == failed)
        rerun = FlowRunInput(snapshot, original.input, failed, original.trigger_type)
        rerun.start_outputs = dict(failed_run.input or {})
        return await start_flow_run(services, rerun)
    return await start_flow_run(
        services,
        FlowRunInput(snapshot, original.input, original.start_node_key, original.trigger_type),
    )

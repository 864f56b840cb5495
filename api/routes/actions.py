"""Action runs: one synchronous request through a connection, answered with its output.

The action instance is resolved for the connection into an immutable snapshot, the input is
checked against its input schema (422 before anything starts), and an `ActionRun` workflow runs
it while the request waits. Failures come back as `{type, key, message, data}`; connector errors
keep their normalized status (404, 409, 429 with `retryAfter`, 502...).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from sqlmodel import Session
from temporalio.client import WorkflowFailureError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

from api.compat_selectors import action_request, select_connection
from api.deps import Caller, CallerDep, ServicesDep, SessionDep
from api.models import ApiModel
from api.routes.connections import get_connection
from api.services import Services
from connectors.runtime.errors import ERROR_KEYS, ConnectorError
from core.elements.actions import input_problems
from core.elements.store import ElementStore
from core.errors import OsmoError, validation_error
from core.models import Connection, Customer, Integration
from workflows import search_attributes as sa
from workflows.action_run import RUN_TIMEOUT, ActionRunInput, ActionRunWorkflow
from workflows.nodes.run_action import ActionSnapshot

router = APIRouter(tags=["actions"])

# Statuses of errors raised outside the connector runtime, by type (connector errors carry keys).
STATUSES = {"bad_request": 400, "auth": 403, "not_found": 404, "conflict": 409, "connection": 409}


class ActionRunBody(ApiModel):
    input: Any = None
    instance_key: str | None = None


RUN_BODY = (
    "Osmo's `{input, instanceKey?, connectionId?}`, or the raw input as Membrane's SDK sends it: "
    "a body is Osmo's form only when it is a non-empty object whose keys all are among "
    "input, instanceKey and connectionId."
)


def with_collection(
    store: ElementStore, connection: Connection, config: dict[str, Any]
) -> dict[str, Any]:
    """A node config with its `dataSourceKey` resolved into the connection's collection."""
    if not config.get("dataSourceKey") or "collectionKey" in config:
        return config
    source = store.resolve(store.instance("data-sources", config["dataSourceKey"], connection))
    return {
        **config,
        "collectionKey": source.get("collectionKey"),
        "parameters": config.get("parameters", source.get("parameters") or {}),
    }


def action_snapshot(
    session: Session,
    store: ElementStore,
    connection: Connection,
    key: str,
    instance_key: str | None = None,
) -> ActionSnapshot:
    """The connection's instance of action `key` (404 if there is none), resolved."""
    instance = store.instance("actions", key, connection, instance_key)
    definition = store.resolve(instance)
    customer = session.get(Customer, connection.customer_id)
    integration = session.get(Integration, connection.integration_id)
    return ActionSnapshot(
        action_key=instance.key,
        action_instance_id=instance.id,
        type=definition["type"],
        config=with_collection(store, connection, dict(definition.get("config") or {})),
        input_schema=definition.get("inputSchema"),
        output_mapping=definition.get("outputMapping"),
        connection_id=connection.id,
        customer_id=connection.customer_id,
        tenant_key=customer.tenant_key if customer else None,
        integration_key=integration.key if integration else None,
        revision=instance.revision,
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


async def execute(services: Services, snapshot: ActionSnapshot, input: Any) -> dict[str, Any]:
    """Runs the action as an `ActionRun` workflow and waits for its output."""
    client = await services.temporal()
    run_id = f"action-run-{uuid.uuid4().hex}"
    attributes = [
        SearchAttributePair(name, value)
        for name, value in (
            (sa.CUSTOMER_ID, snapshot.customer_id),
            (sa.CONNECTION_ID, snapshot.connection_id),
            (sa.INTEGRATION_KEY, snapshot.integration_key),
        )
        if value
    ]
    try:
        output = await client.execute_workflow(
            ActionRunWorkflow.run,
            ActionRunInput(snapshot, input),
            id=run_id,
            task_queue=services.settings.task_queue,
            search_attributes=TypedSearchAttributes(attributes),
            static_summary=f"Action {snapshot.action_key}",
            execution_timeout=RUN_TIMEOUT,
            request_eager_start=True,
        )
    except WorkflowFailureError as exc:
        raise action_error(exc, run_id) from exc
    return {"output": output, "actionRunId": run_id}


async def run_for_connection(
    services: Services,
    session: Session,
    caller: Caller,
    selector: str,
    connection_id: str,
    body: ActionRunBody,
) -> dict[str, Any]:
    connection = get_connection(session, caller, connection_id)
    store = ElementStore(session)
    key = store.find("actions", selector).key
    snapshot = action_snapshot(session, store, connection, key, body.instance_key)
    problems = input_problems(snapshot.input_schema, body.input)
    if problems:
        raise validation_error(problems)
    session.commit()  # release the pooled connection while the run is awaited
    return await execute(services, snapshot, body.input)


@router.post("/actions/{selector}/run")
async def run_action(
    selector: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    body: Annotated[Any, Body(description=RUN_BODY)] = None,
    connection_id: str | None = Query(None, alias="connectionId"),
    integration_key: str | None = Query(None, alias="integrationKey"),
    connection_key: str | None = Query(None, alias="connectionKey"),
    instance_key: str | None = Query(None, alias="instanceKey"),
) -> dict[str, Any]:
    """Runs an action for a connection named by `connectionId` (body or query) or by
    `integrationKey` (the caller's only connection to it); answers `{output, actionRunId}`."""
    request = action_request(body, connection_id, instance_key)
    connection = select_connection(
        session, caller, request.connection_id, integration_key, connection_key
    )
    run_body = ActionRunBody(input=request.input, instance_key=request.instance_key)
    return await run_for_connection(services, session, caller, selector, connection.id, run_body)


@router.post("/connections/{connection_id}/actions/{selector}/run")
async def run_connection_action(
    connection_id: str,
    selector: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    body: Annotated[Any, Body(description=RUN_BODY)] = None,
    instance_key: str | None = Query(None, alias="instanceKey"),
) -> dict[str, Any]:
    """Runs an action for the connection; answers `{output, actionRunId}`."""
    request = action_request(body, connection_id, instance_key)
    run_body = ActionRunBody(input=request.input, instance_key=request.instance_key)
    return await run_for_connection(services, session, caller, selector, connection_id, run_body)

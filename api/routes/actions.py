"""Action runs: one synchronous request through a connection, answered with its output.

The action instance is resolved for the connection into an immutable snapshot, the input is
checked against its input schema (422 before anything starts), and an `ActionRun` workflow runs
it while the request waits. Failures come back as `{type, key, message, data}`; connector errors
keep their normalized status (404, 409, 429 with `retryAfter`, 502...).

Bodies come in Osmo's form (`{input, instanceKey?, connectionId?}`) or as the raw input, the
way Membrane's SDK sends it (see `api.compat_selectors.action_request`).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from api.actions import ActionRunBody, run_for_connection
from api.compat_selectors import action_request, select_connection
from api.deps import CallerDep, ServicesDep, SessionDep
from api.models.actions import ActionRunResult
from api.models.errors import errors

router = APIRouter(tags=["actions"])

RESPONSES = errors(400, 404, 409, 502, 504)
RUN_BODY = (
    "Osmo's `{input, instanceKey?, connectionId?}`, or the raw input as Membrane's SDK sends it: "
    "a body is Osmo's form only when it is a non-empty object whose keys all are among "
    "input, instanceKey and connectionId."
)


@router.post("/actions/{selector}/run", responses=RESPONSES)
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
) -> ActionRunResult:
    """Runs an action for a connection named by `connectionId` (body or query) or by
    `integrationKey` (the caller's only connection to it); answers `{output, actionRunId}`."""
    request = action_request(body, connection_id, instance_key)
    run_body = ActionRunBody(input=request.input, instance_key=request.instance_key)
    return await run_for_connection(
        services,
        session,
        caller,
        selector,
        # Selected in the worker thread that resolves the action, not on the event loop.
        partial(
            select_connection,
            session,
            caller,
            request.connection_id,
            integration_key,
            connection_key,
        ),
        run_body,
    )


@router.post("/connections/{connection_id}/actions/{selector}/run", responses=RESPONSES)
async def run_connection_action(
    connection_id: str,
    selector: str,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
    body: Annotated[Any, Body(description=RUN_BODY)] = None,
    instance_key: str | None = Query(None, alias="instanceKey"),
) -> ActionRunResult:
    """Runs an action for the connection; answers `{output, actionRunId}`."""
    request = action_request(body, connection_id, instance_key)
    run_body = ActionRunBody(input=request.input, instance_key=request.instance_key)
    return await run_for_connection(services, session, caller, selector, connection_id, run_body)

"""Action runs: one synchronous request through a connection, answered with its output.

The action instance is resolved for the connection into an immutable snapshot, the input is
checked against its input schema (422 before anything starts), and an `ActionRun` workflow runs
it while the request waits. Failures come back as `{type, key, message, data}`; connector errors
keep their normalized status (404, 409, 429 with `retryAfter`, 502...).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api.deps import Caller, CallerDep, ServicesDep, SessionDep, get_connection
from api.models.actions import ActionRunBody, ActionRunResult, ActionRunStart
from api.models.errors import errors
from api.runs import execute_action
from core.elements.actions import input_problems
from core.elements.resolve import resolve_action
from core.elements.snapshots import ActionSnapshot
from core.elements.store import ElementStore
from core.errors import validation_error

router = APIRouter(tags=["actions"])

RESPONSES = errors(400, 404, 409, 502, 504)


def _checked_snapshot(
    session: Session, caller: Caller, selector: str, connection_id: str, body: ActionRunBody
) -> ActionSnapshot:
    """The resolved action; a 422 (before anything runs) if the input fails its schema."""
    connection = get_connection(session, caller, connection_id)
    store = ElementStore(session)
    key = store.find("actions", selector).key
    snapshot = resolve_action(session, store, connection, key, body.instance_key)
    problems = input_problems(snapshot.input_schema, body.input)
    if problems:
        raise validation_error(problems)
    session.commit()  # release the pooled connection while the run is awaited
    return snapshot


async def _run(
    services: ServicesDep,
    session: Session,
    caller: Caller,
    selector: str,
    connection_id: str,
    body: ActionRunBody,
) -> ActionRunResult:
    snapshot = await run_in_threadpool(
        _checked_snapshot, session, caller, selector, connection_id, body
    )
    return await execute_action(services, snapshot, body.input)


@router.post("/actions/{selector}/run", responses=RESPONSES)
async def run_action(
    selector: str,
    body: ActionRunStart,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
) -> ActionRunResult:
    """Runs an action for `connectionId` (and `instanceKey`); answers `{output, actionRunId}`."""
    if body.connection_id is None:
        raise validation_error([{"path": "connectionId", "message": "is required"}])
    return await _run(services, session, caller, selector, body.connection_id, body)


@router.post("/connections/{connection_id}/actions/{selector}/run", responses=RESPONSES)
async def run_connection_action(
    connection_id: str,
    selector: str,
    body: ActionRunBody,
    caller: CallerDep,
    services: ServicesDep,
    session: SessionDep,
) -> ActionRunResult:
    """Runs an action for the connection; answers `{output, actionRunId}`."""
    return await _run(services, session, caller, selector, connection_id, body)

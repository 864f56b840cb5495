"""Running an action for a caller: resolve, check the input, run, answer the output."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api.deps import Caller, get_connection
from api.models.actions import ActionRunBody, ActionRunResult
from api.runs import execute_action
from api.services import Services
from core.elements.actions import input_problems
from core.elements.resolve import resolve_action
from core.elements.snapshot_cache import RecordingStore
from core.elements.snapshots import ActionSnapshot
from core.errors import validation_error
from core.models import Connection

ConnectionRef = str | Callable[[], Connection]
"""A connection id (checked against the caller), or a function selecting the connection."""

__all__ = ["ActionRunBody", "run_for_connection"]


def _checked_snapshot(
    services: Services,
    session: Session,
    caller: Caller,
    selector: str,
    ref: ConnectionRef,
    body: ActionRunBody,
) -> ActionSnapshot:
    """The resolved action (reused while its elements are unchanged, see `SnapshotCache`);
    a 422 (before anything runs) if the input fails its schema."""
    connection = get_connection(session, caller, ref) if isinstance(ref, str) else ref()

    def resolve(store: RecordingStore) -> ActionSnapshot:
        key = store.record(store.find("actions", selector)).key
        return resolve_action(session, store, connection, key, body.instance_key)

    snapshot = services.action_snapshots.get(
        session, (connection.id, selector, body.instance_key), resolve
    )
    problems = input_problems(snapshot.input_schema, body.input)
    if problems:
        raise validation_error(problems)
    session.commit()  # release the pooled connection while the run is awaited
    return snapshot


async def run_for_connection(
    services: Services,
    session: Session,
    caller: Caller,
    selector: str,
    connection: ConnectionRef,
    body: ActionRunBody,
) -> ActionRunResult:
    """Runs action `selector` for the connection and waits for its output; every database read
    (selecting the connection, resolving the action) happens in one worker-thread hop."""
    snapshot = await run_in_threadpool(
        _checked_snapshot, services, session, caller, selector, connection, body
    )
    return await execute_action(services, snapshot, body.input)

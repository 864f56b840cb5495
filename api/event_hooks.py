"""After a write that can change a connection's triggers, ask for an event sync pass.

A `flows` or `data-sources` element created, changed, reset, updated to latest or deleted at
any layer, or a connection deleted: each affected connection's `EventSync` workflow gets a
`sync` signal (`workflows.event_sync.request_sync`). The write never fails because of it: when
Temporal is unreachable a warning is logged and the sync's periodic reconcile catches up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

import anyio.from_thread
from sqlmodel import Session, col, select

from api.services import Services
from core.elements.models import Element
from workflows.event_sync import request_sync

log = logging.getLogger(__name__)

RETRY_CONNECT_SECONDS = 30.0
"""After Temporal could not be reached, writes skip the sync request this long (each would
wait for its own failed connect); the sync's periodic reconcile catches up."""
_unreachable_since: dict[int, float] = {}  # id(services) → when the connect failed

SYNCED_KINDS = ("flows", "data-sources")
"""Element kinds whose changes can change a connection's subscriptions or schedules."""


def affected_connections(session: Session, element: Element) -> list[str]:
    """The connections whose triggers `element` (at any layer) may change."""
    if element.kind not in SYNCED_KINDS:
        return []
    if element.connection_id is not None:
        return [element.connection_id]
    kinds = [element.kind] if element.kind == "flows" else list(SYNCED_KINDS)
    # A data source changes the flows that read it: every connection with a flow instance.
    statement = select(Element.connection_id).where(
        col(Element.kind).in_(kinds), col(Element.connection_id).is_not(None)
    )
    if element.kind == "flows":
        statement = statement.where(Element.key == element.key)
    if element.integration_id is not None:
        statement = statement.where(Element.integration_id == element.integration_id)
    return sorted({c for c in session.exec(statement).all() if c})


async def request_syncs(services: Services, connection_ids: Iterable[str]) -> None:
    """Signals each connection's `EventSync`; logs (never raises) when Temporal is down."""
    ids = list(dict.fromkeys(connection_ids))
    if not ids:
        return
    failed_at = _unreachable_since.get(id(services))
    recently_down = failed_at is not None and time.monotonic() - failed_at < RETRY_CONNECT_SECONDS
    if services.temporal_client is None and recently_down:
        log.warning("event sync not requested for %d connection(s): Temporal is down", len(ids))
        return
    try:
        client = await services.temporal()
    except Exception as exc:
        _unreachable_since[id(services)] = time.monotonic()
        log.warning("event sync not requested for %d connection(s): %s", len(ids), exc)
        return
    _unreachable_since.pop(id(services), None)
    try:
        queue = services.settings.task_queue
        await asyncio.gather(*(request_sync(client, queue, c) for c in ids))
    except Exception as exc:  # the write stands; the periodic reconcile catches up
        log.warning("event sync not requested for %d connection(s): %s", len(ids), exc)


def request_syncs_from_thread(services: Services, connection_ids: Iterable[str]) -> None:
    """`request_syncs` from a sync route (FastAPI's threadpool)."""
    ids = list(connection_ids)
    if ids:
        anyio.from_thread.run(request_syncs, services, ids)


def after_write(services: Services, session: Session, element: Element) -> None:
    """Requests a sync of every connection `element`'s write may affect (from a sync route;
    for a delete, call it before deleting: the instances are gone after)."""
    if element.kind not in SYNCED_KINDS:
        return
    ids = affected_connections(session, element)
    session.commit()  # no pooled connection held while Temporal is awaited
    request_syncs_from_thread(services, ids)

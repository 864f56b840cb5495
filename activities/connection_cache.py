"""The worker's cache of decrypted connections, checked against the database on every use.

Every connector activity needs its connection: three ORM rows read and up to three secrets
decrypted. Under load that was a tenth of the worker's CPU (issue 12), repeated for the same few
connections many times a second. The cache keeps the decrypted connection and, on each use,
reads one narrow row instead: the connection's credentials version, state and update times of
the connection, its integration and its customer. Any write that matters changes one of them
(a refresh bumps the version, a disconnect sets the state, an edit the update time), so a
refreshed token, a disconnect or a changed base URL is seen by the very next call, as without
the cache. Entries also expire after `ttl` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from core.models import Connection, Customer, Integration
from core.stores.connections import ConnectionStore, StoredConnection

DEFAULT_TTL_SECONDS = 60.0
MAX_ENTRIES = 1024


class ConnectionCache:
    """`ConnectionStore.load`, decrypting again only when the connection's rows changed."""

    def __init__(
        self,
        store: ConnectionStore,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[float, tuple[Any, ...] | None, StoredConnection]] = {}

    async def load(self, connection_id: str) -> StoredConnection:
        """A private copy of the connection (callers may replace its credentials).

        Raises:
            OsmoError: `not_found` for a connection that does not exist (any more).
        """
        stored = await asyncio.to_thread(self._load, connection_id)
        return replace(
            stored,
            credentials=dict(stored.credentials),
            inputs=dict(stored.inputs),
            integration_parameters=dict(stored.integration_parameters),
            scopes=list(stored.scopes),
        )

    def _load(self, connection_id: str) -> StoredConnection:
        now = self.clock()
        entry = self._entries.get(connection_id)
        if (
            entry is not None
            and now - entry[0] < self.ttl
            and self._fingerprint(connection_id) == entry[1]
        ):
            return entry[2]
        fingerprint = self._fingerprint(connection_id)
        stored = self.store.load(connection_id)  # raises not_found for a deleted connection
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        # The fingerprint read before the load: a write in between makes the next use reload.
        self._entries[connection_id] = (now, fingerprint, stored)
        return stored

    def _fingerprint(self, connection_id: str) -> tuple[Any, ...] | None:
        """What changes with every write to the connection, its integration or its customer."""
        statement = (
            select(
                col(Connection.credentials_version),
                col(Connection.state),
                col(Connection.updated_at),
                col(Integration.updated_at),
                col(Customer.updated_at),
            )
            .join(Integration, col(Integration.id) == col(Connection.integration_id))
            .join(Customer, col(Customer.id) == col(Connection.customer_id))
            .where(col(Connection.id) == connection_id)
        )
        with Session(self.store.engine) as session:
            row = session.execute(statement).first()
        return tuple(row) if row is not None else None

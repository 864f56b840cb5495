"""Answers formula lookups for one connection: data links from the database, records
through the connector (`match` / `create` of the referenced collection)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api.services import Services
from connectors.runtime import ConnectionContext
from connectors.runtime.collections import run_method
from core import data_links
from core.formulas import CollectionRef


class ConnectionLookups:
    """A `LookupResolver` bound to one connection."""

    def __init__(self, services: Services, session: Session, ctx: ConnectionContext) -> None:
        self.services = services
        self.session = session
        self.ctx = ctx

    @property
    def connection_id(self) -> str:
        assert self.ctx.connection_id is not None
        return self.ctx.connection_id

    async def find_records(
        self, collection: CollectionRef, queries: Sequence[Mapping[str, Any]]
    ) -> Sequence[Mapping[str, Any] | None]:
        results = []
        for query in queries:
            found = await run_method(
                self.services.runtime,
                self.ctx,
                collection.key,
                "match",
                parameters=collection.parameters,
                query=dict(query),
            )
            results.append(found["record"])
        return results

    async def create_records(
        self, collection: CollectionRef, records: Sequence[Mapping[str, Any]]
    ) -> Sequence[Mapping[str, Any]]:
        created = []
        for fields in records:
            result = await run_method(
                self.services.runtime,
                self.ctx,
                collection.key,
                "create",
                parameters=collection.parameters,
                fields=dict(fields),
            )
            created.append(result["record"])
        return created

    async def find_external_ids(
        self, table: str, app_record_ids: Sequence[str]
    ) -> Sequence[str | None]:
        found = await run_in_threadpool(
            self._released, data_links.external_ids, table, app_record_ids
        )
        return [found.get(i) for i in app_record_ids]

    async def find_app_ids(
        self, table: str, external_record_ids: Sequence[str]
    ) -> Sequence[str | None]:
        found = await run_in_threadpool(
            self._released, data_links.app_ids, table, external_record_ids
        )
        return [found.get(i) for i in external_record_ids]

    def _released(
        self,
        read: Callable[[Session, str, str, Sequence[str]], dict[str, str]],
        table: str,
        ids: Sequence[str],
    ) -> dict[str, str]:
        """`read` in a worker thread (never on the event loop), its transaction ended after so
        no pooled connection is held while the mapping awaits the connector."""
        try:
            return read(self.session, self.connection_id, table, ids)
        finally:
            self.session.commit()

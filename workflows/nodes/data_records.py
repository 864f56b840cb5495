"""Data record nodes: one collection method each, run by the `collection_method` activity.

Config: `collectionKey` (the API resolves a `dataSourceKey` into it when it snapshots the flow),
`parameters`, and per method `id`, `fields`, `query`, `cursor` — all formulas over the node's
variables. List and search also take `pages` (`one` or `all`) and `limit`, plain values.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType

with workflow.unsafe.imports_passed_through():
    from activities.connectors import CollectionMethodInput, ConnectorActivities


class DataRecordNode(NodeType):
    method: ClassVar[str]

    def request(self, ctx: NodeContext) -> CollectionMethodInput:
        config = ctx.config
        return CollectionMethodInput(
            connection_id=ctx.connection(self.type),
            collection=config["collectionKey"],
            method=self.method,
            parameters=ctx.evaluate(config.get("parameters")) or {},
            id=_text(ctx.evaluate(config.get("id"))),
            fields=ctx.evaluate(config.get("fields")),
            query=ctx.evaluate(config.get("query")),
            cursor=_text(ctx.evaluate(config.get("cursor"))),
            idempotency_key=ctx.idempotency_key(),
        )

    async def call(self, ctx: NodeContext, request: CollectionMethodInput) -> dict[str, Any]:
        ctx.summary = f"{self.method} {request.collection}"
        return await ctx.activity(ConnectorActivities.collection_method, request)

    async def run(self, ctx: NodeContext) -> list[Any]:
        return [await self.call(ctx, self.request(ctx))]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class PagedDataRecords(DataRecordNode):
    """A list or search: one page (`{records, cursor}`), or with `pages: all` every page.

    Every page is one node run with one output, so a page's records flow on as one value and
    the whole collection is never one payload. After a page's sub-graphs are done the node
    asks the interpreter to run it again (`ctx.again`) with the next page's cursor and how
    many records it has given so far, until the app has no next page or `limit` is reached.
    """

    async def run(self, ctx: NodeContext) -> list[Any]:
        config = ctx.config
        if config.get("pages", "one") != "all":
            return await super().run(ctx)
        carried = ctx.carried or {}
        request = self.request(ctx)
        if carried:
            request = replace(request, cursor=carried["cursor"])
        page = await self.call(ctx, request)
        records, cursor = list(page.get("records") or []), page.get("cursor")
        seen = int(carried.get("seen", 0)) + len(records)
        limit = config.get("limit")
        if limit is not None and seen >= limit:
            if seen > limit:  # the rest of this page has no cursor of its own
                records, cursor = records[: len(records) - (seen - limit)], None
        elif cursor:
            ctx.again = {"cursor": cursor, "seen": seen}
        return [{"records": records, "cursor": cursor}]


class ListDataRecords(PagedDataRecords):
    type = "list-data-records"
    method = "list"


class SearchDataRecords(PagedDataRecords):
    type = "search-data-records"
    method = "search"


class LookupDataRecord(DataRecordNode):
    type = "lookup-data-record"
    method = "match"


class FindDataRecordById(DataRecordNode):
    type = "find-data-record-by-id"
    method = "find_by_id"


class CreateDataRecord(DataRecordNode):
    type = "create-data-record"
    method = "create"


class UpdateDataRecord(DataRecordNode):
    type = "update-data-record"
    method = "update"


class DeleteDataRecord(DataRecordNode):
    type = "delete-data-record"
    method = "delete"


class FindOrCreateDataRecord(DataRecordNode):
    """Matches by `query`; creates from `fields` when nothing matches."""

    type = "find-or-create-data-record"
    method = "match"

    async def run(self, ctx: NodeContext) -> list[Any]:
        request = self.request(ctx)
        found = await self.call(ctx, request)
        if found.get("record"):
            return [{**found, "created": False}]
        create = replace(
            request,
            method="create",
            query=None,
            idempotency_key=f"{request.idempotency_key}:create",
        )
        created = await self.call(ctx, create)
        return [{**created, "created": True}]


DATA_RECORD_NODES: list[type[NodeType]] = [
    ListDataRecords,
    SearchDataRecords,
    LookupDataRecord,
    FindDataRecordById,
    CreateDataRecord,
    UpdateDataRecord,
    DeleteDataRecord,
    FindOrCreateDataRecord,
]

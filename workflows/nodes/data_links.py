"""Data link nodes: create, find and delete links in a connection's data link table.

Config: `dataLinkTable` (the table's key), `appRecordId` and `externalRecordId` (formulas over
the node's variables), and for create `direction` (`import`, `export` or `both`, the default).
find and delete need at least one of the two ids.

Outputs: create → the link `{id, appRecordId, externalRecordId, direction}`; find → the oldest
matching link in the same shape, or `{}` when there is none, so the run goes on either way and a
link filter (`{field: input.<node>.externalRecordId, operator: is_empty}`) picks the branch;
delete → `{deleted: <count>}`, `0` included (deleting what is gone is not an error).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType
from workflows.nodes.errors import node_error

with workflow.unsafe.imports_passed_through():
    from activities.data_links import CreateDataLinkInput, DataLinkActivities, DataLinkQuery


class DataLinkNode(NodeType):
    def record_ids(self, ctx: NodeContext) -> dict[str, str | None]:
        """The configured ids, evaluated; one configured but empty fails the node rather than
        widening what find and delete match."""
        config = ctx.config
        ids: dict[str, str | None] = {}
        missing = []
        for name in ("appRecordId", "externalRecordId"):
            value = ctx.evaluate(config[name]) if name in config else None
            ids[name] = None if value is None or value == "" else str(value)
            if name in config and ids[name] is None:
                missing.append(name)
        if missing:
            raise node_error(
                "data_link_record_missing",
                f"{' and '.join(missing)} evaluated to nothing",
                {"fields": missing},
            )
        return ids

    def query(self, ctx: NodeContext) -> DataLinkQuery:
        ids = self.record_ids(ctx)
        table_key = ctx.config["dataLinkTable"]
        ctx.summary = f"{self.type} in {table_key}"
        return DataLinkQuery(
            connection_id=ctx.connection(self.type),
            table_key=table_key,
            app_record_id=ids["appRecordId"],
            external_record_id=ids["externalRecordId"],
        )


class CreateDataLink(DataLinkNode):
    type = "create-data-link"

    async def run(self, ctx: NodeContext) -> list[Any]:
        ids = self.record_ids(ctx)
        table_key = ctx.config["dataLinkTable"]
        ctx.summary = f"{self.type} in {table_key}"
        request = CreateDataLinkInput(
            connection_id=ctx.connection(self.type),
            table_key=table_key,
            app_record_id=str(ids["appRecordId"]),
            external_record_id=str(ids["externalRecordId"]),
            direction=ctx.config.get("direction", "both"),
        )
        return [await ctx.activity(DataLinkActivities.create_data_link, request)]


class FindDataLink(DataLinkNode):
    type = "find-data-link"

    async def run(self, ctx: NodeContext) -> list[Any]:
        return [await ctx.activity(DataLinkActivities.find_data_link, self.query(ctx))]


class DeleteDataLink(DataLinkNode):
    type = "delete-data-link"

    async def run(self, ctx: NodeContext) -> list[Any]:
        return [await ctx.activity(DataLinkActivities.delete_data_link, self.query(ctx))]


DATA_LINK_NODES: list[type[NodeType]] = [CreateDataLink, FindDataLink, DeleteDataLink]

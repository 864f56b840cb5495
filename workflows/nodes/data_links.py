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

from typing import Any, ClassVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.nodes.base import NodeContext, NodeType

with workflow.unsafe.imports_passed_through():
    from activities.data_links import CreateDataLinkInput, DataLinkQuery

_ONE_SIDE = [{"required": ["appRecordId"]}, {"required": ["externalRecordId"]}]


def _schema(required: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["dataLinkTable", *required],
        "properties": {
            "dataLinkTable": {"type": "string", "minLength": 1},
            "appRecordId": {},
            "externalRecordId": {},
            **extra,
        },
    }


class DataLinkNode(NodeType):
    activity_name: ClassVar[str]

    def connection(self, ctx: NodeContext) -> str:
        if ctx.connection_id is None:
            raise ApplicationError(
                f"{self.type} needs a connection", type="connection_required", non_retryable=True
            )
        return ctx.connection_id

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
            raise ApplicationError(
                f"{' and '.join(missing)} evaluated to nothing",
                {"key": "data_link_record_missing", "fields": missing},
                type="bad_request",
                non_retryable=True,
            )
        return ids

    def request(self, ctx: NodeContext) -> CreateDataLinkInput | DataLinkQuery:
        ids = self.record_ids(ctx)
        return DataLinkQuery(
            connection_id=self.connection(ctx),
            table_key=ctx.config["dataLinkTable"],
            app_record_id=ids["appRecordId"],
            external_record_id=ids["externalRecordId"],
        )

    async def run(self, ctx: NodeContext) -> list[Any]:
        request = self.request(ctx)
        ctx.summary = f"{self.type} in {request.table_key}"
        return [await ctx.activity(self.activity_name, request)]


class CreateDataLink(DataLinkNode):
    type = "create-data-link"
    activity_name = "create_data_link"
    config_schema = _schema(
        ["appRecordId", "externalRecordId"], direction={"enum": ["import", "export", "both"]}
    )

    def request(self, ctx: NodeContext) -> CreateDataLinkInput | DataLinkQuery:
        ids = self.record_ids(ctx)
        return CreateDataLinkInput(
            connection_id=self.connection(ctx),
            table_key=ctx.config["dataLinkTable"],
            app_record_id=str(ids["appRecordId"]),
            external_record_id=str(ids["externalRecordId"]),
            direction=ctx.config.get("direction", "both"),
        )


class FindDataLink(DataLinkNode):
    type = "find-data-link"
    activity_name = "find_data_link"
    config_schema = {**_schema([]), "anyOf": _ONE_SIDE}


class DeleteDataLink(DataLinkNode):
    type = "delete-data-link"
    activity_name = "delete_data_link"
    config_schema = {**_schema([]), "anyOf": _ONE_SIDE}


DATA_LINK_NODES: list[type[NodeType]] = [CreateDataLink, FindDataLink, DeleteDataLink]

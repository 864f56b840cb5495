"""`for-each`: continues along its links once per item of a list (bounded by `concurrency`)."""

from __future__ import annotations

from typing import Any

from workflows.nodes.base import NodeContext, NodeType
from workflows.nodes.errors import node_error


class ForEach(NodeType):
    type = "for-each"

    async def run(self, ctx: NodeContext) -> list[Any]:
        items = ctx.evaluate(ctx.config["items"])
        if items is None:
            return []
        if not isinstance(items, list):
            raise node_error(
                "items_not_a_list",
                f"for-each items must be a list, got {type(items).__name__}",
                {"type": type(items).__name__},
            )
        return list(items)

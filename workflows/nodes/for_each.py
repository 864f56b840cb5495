"""`for-each`: continues along its links once per item of a list (bounded by `concurrency`)."""

from __future__ import annotations

from typing import Any

from workflows.nodes.base import NodeContext, NodeType


class ForEach(NodeType):
    type = "for-each"
    config_schema = {"type": "object", "required": ["items"], "properties": {"items": {}}}

    async def run(self, ctx: NodeContext) -> list[Any]:
        items = ctx.evaluate(ctx.config["items"])
        if items is None:
            return []
        if not isinstance(items, list):
            raise ValueError(f"for-each items must be a list, got {type(items).__name__}")
        return list(items)

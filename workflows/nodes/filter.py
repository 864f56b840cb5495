"""`filter`: passes its input on only when the conditions hold (pure)."""

from __future__ import annotations

from typing import Any

from workflows.nodes.base import NodeContext, NodeType


class Filter(NodeType):
    type = "filter"

    async def run(self, ctx: NodeContext) -> list[Any]:
        if ctx.matches(ctx.config["filter"]):
            return [ctx.upstream_output]
        return []

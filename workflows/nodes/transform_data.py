"""`transform-data`: builds a value from formulas over the upstream outputs (pure)."""

from __future__ import annotations

from typing import Any

from workflows.nodes.base import NodeContext, NodeType


class TransformData(NodeType):
    type = "transform-data"

    async def run(self, ctx: NodeContext) -> list[Any]:
        return [ctx.evaluate(ctx.config.get("value"))]

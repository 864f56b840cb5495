"""`delay`: waits on a durable timer (survives worker restarts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType


class Delay(NodeType):
    type = "delay"
    config_schema = {
        "type": "object",
        "required": ["seconds"],
        "properties": {"seconds": {"type": "number", "minimum": 0}},
    }

    async def run(self, ctx: NodeContext) -> list[Any]:
        seconds = float(ctx.evaluate(ctx.config["seconds"]))
        await workflow.sleep(timedelta(seconds=seconds), summary=f"{ctx.node_key}: delay")
        return [ctx.extra.get("upstream_output")]

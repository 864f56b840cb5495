"""`delay`: waits on a durable timer (survives worker restarts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType


class Delay(NodeType):
    type = "delay"

    async def run(self, ctx: NodeContext) -> list[Any]:
        seconds = float(ctx.evaluate(ctx.config["seconds"]))
        await workflow.sleep(timedelta(seconds=seconds), summary=f"{ctx.node_key}: delay")
        return [ctx.upstream_output]

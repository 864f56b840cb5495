"""`delay`: waits on a durable timer (survives worker restarts).

`seconds` is a number or a formula over the node's variables; what it evaluates to must be a
number of seconds ≥ 0, or the node fails with `validation_error` naming `config.seconds`.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType
from workflows.nodes.errors import failure

with workflow.unsafe.imports_passed_through():
    from core.errors import validation_error


class Delay(NodeType):
    type = "delay"

    async def run(self, ctx: NodeContext) -> list[Any]:
        seconds = ctx.evaluate(ctx.config["seconds"])
        if isinstance(seconds, str):
            try:
                seconds = float(seconds)
            except ValueError:
                pass
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds < math.inf:
            raise failure(
                validation_error(
                    [
                        {
                            "path": "config.seconds",
                            "message": f"must be a number of seconds ≥ 0, got {seconds!r}",
                        }
                    ]
                )
            )
        await workflow.sleep(timedelta(seconds=seconds), summary=f"{ctx.node_key}: delay")
        return [ctx.upstream_output]

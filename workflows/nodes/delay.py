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


def _seconds(value: Any) -> float | None:
    """`value` as a number of seconds ≥ 0 (a numeric string counts), or None."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value < math.inf else None


class Delay(NodeType):
    type = "delay"

    async def run(self, ctx: NodeContext) -> list[Any]:
        value = ctx.evaluate(ctx.config["seconds"])
        seconds = _seconds(value)
        if seconds is None:
            problem = {"path": "config.seconds", "message": f"must be seconds ≥ 0, got {value!r}"}
            raise failure(validation_error([problem]))
        await workflow.sleep(timedelta(seconds=seconds), summary=f"{ctx.node_key}: delay")
        return [ctx.upstream_output]

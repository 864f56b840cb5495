"""`run-operation`: runs one of the connector's operations through the run's connection.

Config: `operationKey` (a key from `GET /integrations/{key}/operations`) and `input` (formulas
over the node's variables, checked against the operation's input schema by the connector).
Output: the operation's output.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType

with workflow.unsafe.imports_passed_through():
    from activities.connectors import ConnectorActivities, RunOperationInput


class RunOperation(NodeType):
    type = "run-operation"

    async def run(self, ctx: NodeContext) -> list[Any]:
        connection_id = ctx.connection(self.type)
        operation_key = ctx.config["operationKey"]
        ctx.summary = f"run {operation_key}"
        output = await ctx.activity(
            ConnectorActivities.run_operation,
            RunOperationInput(
                connection_id=connection_id,
                operation_key=operation_key,
                input=ctx.evaluate(ctx.config.get("input")) or {},
                idempotency_key=ctx.idempotency_key(),
            ),
        )
        return [output]

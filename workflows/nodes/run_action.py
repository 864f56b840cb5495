"""`run-action`: runs an action as one step of a flow, and the run of an action itself.

Config: `actionKey` and `input` (formulas over the node's variables). When the API snapshots a
flow it resolves the connection's instance of the action into `config.action`, so a run never
reads live configuration. The input is checked against the action's input schema before
anything is sent. Output: the action's output (after its output mapping).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType
from workflows.nodes.errors import failure, node_error

with workflow.unsafe.imports_passed_through():
    from core.elements.actions import input_problems
    from core.elements.snapshots import ActionSnapshot
    from core.errors import validation_error
    from core.formulas import UNDEFINED, evaluate

NODE_SETTINGS = ("retry", "timeoutSeconds")
"""What an action's node takes from the context it runs in."""


async def run_action(snapshot: ActionSnapshot, input: Any, host: NodeContext) -> Any:
    """Runs the action's node type on `input`, then applies its output mapping.

    Args:
        snapshot: The resolved action.
        input: The action's input, already checked against its input schema.
        host: The context the action runs in: the `ActionRun` workflow's, or the `run-action`
            node's in a flow. It gives the run id and node key (idempotency keys, summaries)
            and the retry and timeout settings of the activity.

    Returns:
        `outputMapping` evaluated over `{output, input}`, or the node's output without one.
    """
    # Imported here: `run-action` is itself a node type, so the registry imports this module.
    # Passed through: this runs in workflow code, where a plain import would load the node
    # modules again inside the sandbox.
    with workflow.unsafe.imports_passed_through():
        from workflows.nodes import NODE_TYPES

    settings = {name: host.node[name] for name in NODE_SETTINGS if name in host.node}
    ctx = replace(
        host,
        node={**settings, "type": snapshot.type, "config": snapshot.config},
        variables={
            "input": input,
            "connection": {"id": snapshot.connection_id},
            "customer": {"id": snapshot.customer_id, "tenantKey": snapshot.tenant_key},
            "integration": {"key": snapshot.integration_key},
        },
        connection_id=snapshot.connection_id,
        summary="",
    )
    outputs = await NODE_TYPES[snapshot.type].run(ctx)
    output = outputs[0] if len(outputs) == 1 else outputs
    if snapshot.output_mapping is None:
        return output
    mapped = evaluate(snapshot.output_mapping, {"output": output, "input": input})
    return None if mapped is UNDEFINED else mapped


class RunAction(NodeType):
    type = "run-action"

    async def run(self, ctx: NodeContext) -> list[Any]:
        resolved = ctx.config.get("action")
        if not isinstance(resolved, dict):
            raise node_error(
                "action_not_resolved",
                f"Action {ctx.config['actionKey']!r} was not resolved for a connection",
            )
        snapshot = ActionSnapshot(**resolved)
        input = ctx.evaluate(ctx.config.get("input"))
        problems = input_problems(snapshot.input_schema, input)
        if problems:
            raise failure(validation_error(problems))
        return [await run_action(snapshot, input, ctx)]

"""Trigger nodes: where a run starts. Their output is what started the run."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType

with workflow.unsafe.imports_passed_through():
    from core.elements.node_schemas import TRIGGER_TYPES


class Trigger(NodeType):
    async def run(self, ctx: NodeContext) -> list[Any]:
        return [ctx.trigger_input]


def trigger_types() -> list[type[NodeType]]:
    """One node type per trigger kind (delivery is wired by the events machinery)."""
    return [
        type(name.title().replace("-", ""), (Trigger,), {"type": name, "__module__": __name__})
        for name in TRIGGER_TYPES
    ]

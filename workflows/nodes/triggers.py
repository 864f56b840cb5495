"""Trigger nodes: where a run starts. Their output is what started the run."""

from __future__ import annotations

from typing import Any

from workflows.nodes.base import NodeContext, NodeType

TRIGGER_TYPES = (
    "api-trigger",
    "schedule-trigger",
    "app-event-trigger",
    "data-record-created-trigger",
    "data-record-updated-trigger",
    "data-record-deleted-trigger",
    "connector-event-trigger",
)


class Trigger(NodeType):
    is_trigger = True

    async def run(self, ctx: NodeContext) -> list[Any]:
        return [ctx.extra.get("trigger_input")]


def trigger_types() -> list[type[NodeType]]:
    """One node type per trigger kind (delivery is wired by the events machinery)."""
    return [
        type(name.title().replace("-", ""), (Trigger,), {"type": name}) for name in TRIGGER_TYPES
    ]

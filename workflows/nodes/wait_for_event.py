"""`wait-for-event`: waits in workflow code for an event sent to the run.

Events reach a run through `POST /flow-runs/{id}/events` (the FlowRun `event` signal) and are
kept in arrival order until a waiting node takes one, so an event sent before the run reaches
this node is not lost. The node takes the first kept event its `filter` (conditions over the
event as the variable `event`, next to the node's usual variables) matches, and outputs it;
events it does not match stay for later nodes.

With `appEventType` the node takes only app events of that type (`{type: "app-event",
appEventType, appEventId, payload}`, sent by `POST /app-events/{typeKey}`); without it, only
events that are not app events.

Config: `filter` (optional: without it any event matches) and `timeoutSeconds` (optional:
without it the node waits as long as the run lives). On timeout the node fails with the
non-retryable key `timeout`, so `onError: continue` lets the run go on without it and
`onError: stop` (the default) fails the run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

from workflows.nodes.base import NodeContext, NodeType
from workflows.nodes.errors import node_error

with workflow.unsafe.imports_passed_through():
    from core.formulas import matches_filter


APP_EVENT = "app-event"


def is_app_event(event: Any) -> bool:
    return isinstance(event, dict) and event.get("type") == APP_EVENT


def takes(config: dict[str, Any], event: Any) -> bool:
    """Whether a node with `config` may take `event` at all (before its filter)."""
    wanted = config.get("appEventType")
    if wanted:
        return is_app_event(event) and event.get("appEventType") == wanted
    return not is_app_event(event)


def awaits_app_event(nodes: dict[str, dict[str, Any]], event: Any) -> bool:
    """Whether `event` is not an app event, or some `wait-for-event` node awaits its type."""
    if not is_app_event(event):
        return True
    return any(
        node.get("type") == WaitForEvent.type
        and (node.get("config") or {}).get("appEventType") == event.get("appEventType")
        for node in nodes.values()
    )


class WaitForEvent(NodeType):
    type = "wait-for-event"

    async def run(self, ctx: NodeContext) -> list[Any]:
        condition = ctx.config.get("filter")
        seconds = ctx.config.get("timeoutSeconds")
        deadline = workflow.time() + float(seconds) if seconds else None

        def matching() -> int | None:
            """Index of the first kept event the filter matches."""
            for index, event in enumerate(ctx.events):
                if not takes(ctx.config, event):
                    continue
                if condition is None or matches_filter(
                    condition, {**ctx.variables, "event": event}
                ):
                    return index
            return None

        timeout = float(seconds) if seconds else None
        while True:
            try:
                await workflow.wait_condition(
                    lambda: matching() is not None,
                    timeout=timedelta(seconds=timeout) if timeout is not None else None,
                    timeout_summary=f"{ctx.node_key}: wait for event",
                )
            except TimeoutError as exc:
                raise node_error(
                    "timeout",
                    f"no matching event within {seconds} seconds",
                    {"timeoutSeconds": seconds},
                ) from exc
            index = matching()
            if index is not None:
                return [ctx.events.pop(index)]
            # Another waiter running at the same time (a for-each with `concurrency`) took
            # the event first: wait again for what is left of the timeout.
            if deadline is not None:
                timeout = max(deadline - workflow.time(), 0.001)

"""The walk of flow runs started before the interpreter's `DEPTH_FIRST_PATCH`.

Those runs were recorded walking the graph breadth first, one node at a time, so they must
replay that way (workflows/interpreter.py chooses it with `workflow.patched`). Nothing new runs
this walk: it stays until no run started before the patch can still be replayed.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.formulas import matches_filter
    from workflows.flow_state import FlowRunInput, FlowRunResult, NodeRun


class Walk(Protocol):
    """What the breadth-first walk needs of the interpreter running it."""

    node_runs: list[NodeRun]
    base: dict[str, Any]
    """The variables every node sees besides `input` (flow instance, connection...)."""

    async def execute(
        self, node_run: NodeRun, node: dict[str, Any], inputs: dict[str, Any], upstream: Any
    ) -> list[Any]:
        """Runs one node, recording it; raises when it fails and must stop the run."""
        ...


async def run_breadth_first(walk: Walk, input: FlowRunInput, start: str) -> FlowRunResult:
    """Runs the flow from node `start`, each node once per upstream output, level by level."""
    upstream = list(input.start_outputs.values())[-1] if input.start_outputs else input.input
    queue: deque[tuple[str, dict[str, Any], Any]] = deque(
        [(start, dict(input.start_outputs), upstream)]
    )
    while queue:
        key, path_outputs, upstream = queue.popleft()
        node = input.snapshot.nodes[key]
        node_run = NodeRun(
            id=f"{key}:{len(walk.node_runs)}",
            node_key=key,
            node_type=node["type"],
            input=path_outputs,
            started_at=workflow.now().isoformat(),
        )
        outputs = await walk.execute(node_run, node, path_outputs, upstream)
        for output in outputs:
            next_outputs = {**path_outputs, key: output}
            for link in node.get("links", []):
                variables = {**walk.base, "input": next_outputs}
                if link.get("filter") is None or matches_filter(link["filter"], variables):
                    queue.append((link["key"], next_outputs, output))
    return FlowRunResult("completed", walk.node_runs)

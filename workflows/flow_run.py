"""`FlowRun`: one generic workflow that interprets a flow snapshot, node by node.

The graph is walked breadth-first from the start node. A node runs once per upstream output;
each of its outputs follows every outgoing link whose filter matches. Pure nodes evaluate in
workflow code; nodes with I/O run activities. Node runs are kept in workflow state (queryable
while running) and returned in the result.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.formulas import matches_filter
    from workflows.flow_state import FlowRunInput, FlowRunResult, NodeRun
    from workflows.nodes import NODE_TYPES, NodeContext


def start_node(input: FlowRunInput) -> str:
    if input.start_node_key:
        return input.start_node_key
    targets = {
        link["key"] for node in input.snapshot.nodes.values() for link in node.get("links", [])
    }
    roots = [key for key in input.snapshot.nodes if key not in targets]
    if len(roots) != 1:
        raise ApplicationError(
            f"cannot tell the start node among {roots}", type="invalid_flow", non_retryable=True
        )
    return roots[0]


def _error(exc: BaseException) -> dict[str, Any]:
    cause = exc.cause if isinstance(exc, ActivityError) and exc.cause else exc
    if isinstance(cause, ApplicationError):
        details = cause.details[0] if cause.details else {}
        return {
            "type": cause.type or "error",
            "key": (details or {}).get("key", cause.type or "error")
            if isinstance(details, dict)
            else cause.type,
            "message": cause.message,
            "data": details if isinstance(details, dict) else {},
        }
    return {"type": "error", "key": type(cause).__name__, "message": str(cause), "data": {}}


@workflow.defn(name="FlowRun")
class FlowRunWorkflow:
    def __init__(self) -> None:
        self.node_runs: list[NodeRun] = []
        self.events: list[Any] = []

    @workflow.query(name="state")
    def state(self) -> list[NodeRun]:
        return self.node_runs

    @workflow.signal(name="event")
    def event(self, payload: Any) -> None:
        """An event for `wait-for-event` nodes; kept until a node whose filter matches takes it."""
        self.events.append(payload)

    @workflow.run
    async def run(self, input: FlowRunInput) -> FlowRunResult:
        snapshot = input.snapshot
        base = {
            "flowInstance": {"id": snapshot.flow_instance_id, "parameters": snapshot.parameters},
            "connection": {"id": snapshot.connection_id},
            "customer": {"id": snapshot.customer_id, "tenantKey": snapshot.tenant_key},
            "integration": {"key": snapshot.integration_key},
            "flowRun": {"id": workflow.info().workflow_id},
        }
        upstream = list(input.start_outputs.values())[-1] if input.start_outputs else input.input
        queue: deque[tuple[str, dict[str, Any], Any]] = deque(
            [(start_node(input), dict(input.start_outputs), upstream)]
        )
        while queue:
            key, path_outputs, upstream = queue.popleft()
            node = snapshot.nodes[key]
            node_run = NodeRun(
                id=f"{key}:{len(self.node_runs)}",
                node_key=key,
                node_type=node["type"],
                input=path_outputs,
                started_at=workflow.now().isoformat(),
            )
            self.node_runs.append(node_run)
            ctx = NodeContext(
                node_key=key,
                node=node,
                variables={**base, "input": path_outputs},
                connection_id=snapshot.connection_id,
                run_id=workflow.info().workflow_id,
                events=self.events,
                extra={
                    "trigger_input": input.input,
                    "upstream_output": upstream,
                    "item_index": len(self.node_runs),
                },
            )
            started = workflow.time()
            try:
                outputs = await NODE_TYPES[node["type"]].run(ctx)
            except Exception as exc:  # recorded on the node run, then onError decides
                node_run.state, node_run.error = "failed", _error(exc)
                node_run.finished_at = workflow.now().isoformat()
                node_run.duration_ms = round((workflow.time() - started) * 1000, 3)
                if node.get("onError", "stop") == "continue":
                    continue
                # Fail the workflow itself so Temporal (UI, visibility) shows the run failed;
                # the node runs travel in the failure's details.
                raise ApplicationError(
                    f"node {key!r} failed: {node_run.error['message']}",
                    {"failedNodeKey": key, "nodeRuns": [asdict(run) for run in self.node_runs]},
                    type="flow_failed",
                    non_retryable=True,
                ) from exc
            node_run.state, node_run.outputs = "completed", outputs
            node_run.finished_at = workflow.now().isoformat()
            node_run.duration_ms = round((workflow.time() - started) * 1000, 3)
            for output in outputs:
                next_outputs = {**path_outputs, key: output}
                for link in node.get("links", []):
                    variables = {**base, "input": next_outputs}
                    if link.get("filter") is None or matches_filter(link["filter"], variables):
                        queue.append((link["key"], next_outputs, output))
        return FlowRunResult("completed", self.node_runs)

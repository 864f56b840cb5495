"""`FlowRun`: one generic workflow that interprets a flow snapshot, node by node.

The walk itself is `workflows.interpreter.Interpreter`; this module only declares the workflow,
its query and its signal.

It runs outside Temporal's sandbox. The interpreter and the node types are Osmo's own code in
modules passed through the sandbox, where its restrictions never applied anyway; what the
sandbox still cost was a module re-import per run and a sandboxed call per payload, about half
of the worker's time per run (bench/flow_overhead.py). Determinism is kept by the rules in
workflows/nodes/base.py, the replay suite, and a test that replays every recorded history with
the interpreter loaded inside the sandbox, so its restrictions catch a clock or I/O call.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.flow_state import FlowRunInput, FlowRunResult, NodeRun
    from workflows.interpreter import Interpreter
    from workflows.nodes.wait_for_event import awaits_app_event


@workflow.defn(name="FlowRun", sandboxed=False)  # see the module docstring
class FlowRunWorkflow:
    def __init__(self) -> None:
        self.interpreter = Interpreter()

    @workflow.query(name="state")
    def state(self) -> list[NodeRun]:
        return self.interpreter.node_runs

    @workflow.signal(name="event")
    def event(self, payload: Any) -> None:
        """An event for `wait-for-event` nodes; kept until a node whose filter matches takes it.

        An app event (`{type: "app-event", appEventType}`, sent to every waiting run of the
        customer) is dropped unless a `wait-for-event` node of this run awaits its type.
        """
        input: FlowRunInput | None = getattr(self.interpreter, "input", None)
        if input is not None and not awaits_app_event(input.snapshot.nodes, payload):
            return
        self.interpreter.events.append(payload)

    @workflow.run
    async def run(self, input: FlowRunInput) -> FlowRunResult:
        return await self.interpreter.run(input)

"""`FlowRun` with the interpreter loaded inside Temporal's sandbox, for the replay suite.

Production runs `FlowRun` unsandboxed (see workflows/flow_run.py). This module imports the
interpreter without passing it through, so in the sandbox the interpreter and the node types
are loaded afresh and the sandbox's restrictions (no clock, no I/O, no threads...) apply to
them. Keep workflows.flow_run out of this module: its passed-through imports would hand the
sandbox the unrestricted modules.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from workflows.interpreter import Interpreter

with workflow.unsafe.imports_passed_through():
    from workflows.flow_state import FlowRunInput, FlowRunResult


@workflow.defn(name="FlowRun")
class SandboxedFlowRun:
    @workflow.run
    async def run(self, input: FlowRunInput) -> FlowRunResult:
        return await Interpreter().run(input)


class ClockReadingInterpreter(Interpreter):
    """Breaks the rules the way a careless change to the interpreter would."""

    def _must_continue_as_new(self) -> bool:
        datetime.now()
        return super()._must_continue_as_new()


@workflow.defn(name="FlowRun")
class ClockReadingFlowRun:
    @workflow.run
    async def run(self, input: FlowRunInput) -> FlowRunResult:
        return await ClockReadingInterpreter().run(input)

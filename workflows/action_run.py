"""`ActionRun`: one action run for a caller waiting on the answer (`POST /actions/{key}/run`).

The API checks the input, starts this workflow eagerly and waits for its result. The action's
activity is tried once: a caller is waiting, so errors (a 429 with its `retryAfter` included)
go back to it at once instead of being waited out here. In a flow, `run-action` runs the same
action with the node's own retry settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.errors import OsmoError
    from workflows.nodes import NodeContext
    from workflows.nodes.errors import failure
    from workflows.nodes.run_action import ActionSnapshot, run_action

ACTIVITY_TIMEOUT_SECONDS = 60
RUN_TIMEOUT = timedelta(seconds=2 * ACTIVITY_TIMEOUT_SECONDS)
"""How long the API waits for a run (queueing included) before answering 504."""


@dataclass(frozen=True)
class ActionRunInput:
    snapshot: ActionSnapshot
    input: Any = None
    built_in_patches: list[str] = field(default_factory=list)
    """The patches its code takes for granted (core/patches.py, `FlowRunInput`'s field)."""


# Any exception fails the run rather than retrying its task: the caller is waiting for an answer.
# Unsandboxed like FlowRun (workflows/flow_run.py): its code is the node types, passed through.
@workflow.defn(name="ActionRun", failure_exception_types=[Exception], sandboxed=False)
class ActionRunWorkflow:
    @workflow.run
    async def run(self, input: ActionRunInput) -> Any:
        self.built_in_patches = frozenset(input.built_in_patches)  # read by patching.patched
        host = NodeContext(
            node_key=input.snapshot.action_key,
            node={"retry": {"maximumAttempts": 1}, "timeoutSeconds": ACTIVITY_TIMEOUT_SECONDS},
            variables={},
            connection_id=input.snapshot.connection_id,
            run_id=workflow.info().workflow_id,
        )
        try:
            return await run_action(input.snapshot, input.input, host)
        except OsmoError as exc:  # raised in workflow code, e.g. by a formula
            raise failure(exc) from exc

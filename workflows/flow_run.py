"""`FlowRun`: one generic workflow that interprets a flow snapshot, node by node.

The walk itself is `workflows.interpreter.Interpreter`; this module only declares the workflow,
its query and its signal, and takes a slot of the connection's run limit around the walk
(docs/limits.md).

It runs outside Temporal's sandbox. The interpreter and the node types are Osmo's own code in
modules passed through the sandbox, where its restrictions never applied anyway; what the
sandbox still cost was a module re-import per run and a sandboxed call per payload, about half
of the worker's time per run (bench/flow_overhead.py). Determinism is kept by the rules in
workflows/nodes/base.py, the replay suite, and a test that replays every recorded history with
the interpreter loaded inside the sandbox, so its restrictions catch a clock or I/O call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from workflows.patching import patched

with workflow.unsafe.imports_passed_through():
    from activities.limits import (
        GRANTED,
        QUEUED,
        REJECTED,
        AcquireInput,
        LimitActivities,
        ReleaseInput,
    )
    from core import patches
    from workflows.flow_state import FlowRunInput, FlowRunResult, NodeRun
    from workflows.interpreter import Interpreter
    from workflows.nodes.wait_for_event import awaits_app_event

LIMIT_PATCH = patches.CONNECTION_RUN_LIMIT

SLOT_CHECK_MAX = timedelta(hours=1)
"""The longest a queued run waits before it asks again whether it got a slot."""

ACQUIRE_TIMEOUT = timedelta(seconds=30)
ACQUIRE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)


@workflow.defn(name="FlowRun", sandboxed=False)  # see the module docstring
class FlowRunWorkflow:
    def __init__(self) -> None:
        self.interpreter = Interpreter()
        self.slot_state = "none"
        """`none` (no slot to take), `waiting` (for the acquire's answer), `queued`, `granted`
        or `rejected`."""
        self.slot_answer: str | None = None

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

    @workflow.signal(name="slot")
    def slot(self, answer: str = GRANTED) -> None:
        """A slot came free for this queued run (`granted`; runs recorded with the former
        limiter workflow also got `queued` and `rejected` this way)."""
        if self.slot_answer in (None, QUEUED):  # a repeated answer changes nothing
            self.slot_answer = answer

    @workflow.query(name="slot")
    def slot_query(self) -> str:
        """Where the run stands with its connection's run limit (`queued`: waits for a slot)."""
        return self.slot_state

    @workflow.run
    async def run(self, input: FlowRunInput) -> FlowRunResult:
        self.built_in_patches = frozenset(input.built_in_patches)  # read by patching.patched
        connection_id = input.snapshot.connection_id
        if connection_id is None or input.connection_limit is None:
            return await self.interpreter.run(input)
        if not patched(LIMIT_PATCH):
            return await self.interpreter.run(input)
        try:
            if not input.holds_slot:
                await self._acquire(input, connection_id)
            input.holds_slot = True  # carried by a continue-as-new: the next run keeps the slot
            result = await self.interpreter.run(input)
        except (workflow.ContinueAsNewError, GeneratorExit):
            raise  # the next run keeps the slot; or evicted from the worker's cache: not ended
        except BaseException:
            # Failed or stopped (a stop while queued leaves the queue). A terminated run never
            # gets here: the leak check of a queued run gives its slot back.
            if self.slot_state != "rejected":
                await self._release(connection_id)
            raise
        await self._release(connection_id)
        return result

    async def _acquire(self, input: FlowRunInput, connection_id: str) -> None:
        """Takes a slot of the connection's limit, waiting in its queue when all are taken."""
        assert input.connection_limit is not None
        snapshot = input.snapshot
        flow_limit = snapshot.max_parallel_runs
        request = AcquireInput(
            connection_id=connection_id,
            run_id=workflow.info().workflow_id,
            limit=input.connection_limit,
            queue_limit=input.queue_limit,
            flow=snapshot.flow_instance_id if flow_limit else None,
            flow_limit=flow_limit,
        )
        self.slot_state = "waiting"
        answer = await self._ask(request)
        if answer is None:
            # Recorded when a limiter workflow answered by signals (`queued`, then `granted`):
            # such a run replays as it ran — its memo upserts, no timer of its own.
            await workflow.wait_condition(lambda: self.slot_answer is not None)
            if self.slot_answer == QUEUED:
                self.slot_state = QUEUED
                workflow.upsert_memo({"slot": QUEUED})
                await workflow.wait_condition(lambda: self.slot_answer != QUEUED)
                workflow.upsert_memo({"slot": GRANTED})
        elif self.slot_answer in (None, QUEUED):
            self.slot_answer = answer
        if self.slot_answer == QUEUED:
            # Not written to the memo: an upsert is a visibility write per change, and a busy
            # connection queues most of its runs. The `slot` query and `run_slots` tell.
            self.slot_state = QUEUED
            await self._wait_for_slot(request, input.slot_check_seconds)
        if self.slot_answer == REJECTED:
            self.slot_state = REJECTED
            raise ApplicationError(
                f"connection {connection_id} has {input.queue_limit} flow runs waiting already",
                {
                    "key": "connection_queue_full",
                    "data": {"connectionId": connection_id, "queueLimit": input.queue_limit},
                },
                type="connection_queue_full",
                non_retryable=True,
            )
        self.slot_state = GRANTED

    async def _ask(self, request: AcquireInput) -> str | None:
        return await workflow.execute_local_activity_method(
            LimitActivities.acquire_run_slot,
            request,
            start_to_close_timeout=ACQUIRE_TIMEOUT,
            retry_policy=ACQUIRE_RETRY,
        )

    async def _wait_for_slot(self, request: AcquireInput, check_seconds: float) -> None:
        """Waits for the `slot` signal of the run that frees one; asks again after
        `check_seconds`, then twice as long each time up to `SLOT_CHECK_MAX` (a signal lost
        with a dying worker, a holder terminated without giving its slot back)."""
        wait = check_seconds
        while self.slot_answer == QUEUED:
            try:
                await workflow.wait_condition(
                    lambda: self.slot_answer != QUEUED, timeout=timedelta(seconds=wait)
                )
            except TimeoutError:
                answer = await self._ask(request)
                if self.slot_answer == QUEUED and answer is not None:
                    self.slot_answer = answer
                wait = min(wait * 2, SLOT_CHECK_MAX.total_seconds())

    async def _release(self, connection_id: str) -> None:
        """Gives the slot back (or leaves the queue): also when the run failed or was stopped."""
        await workflow.execute_local_activity_method(
            LimitActivities.release_run_slot,
            ReleaseInput(connection_id, workflow.info().workflow_id),
            start_to_close_timeout=ACQUIRE_TIMEOUT,
            retry_policy=ACQUIRE_RETRY,
        )

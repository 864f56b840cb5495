"""`ConnectionRunLimiter`: the flow run slots and the queue of one connection (docs/limits.md).

- id `core.events.messages.limiter_workflow_id(connection_id)`, on the task queue of the runs.
- signal `acquire({runId, limit, queueLimit, flow, flowLimit})`, answered by a `slot` signal
  to the run: `granted` | `queued` (then `granted`) | `rejected`; idempotent per run id (a
  run already holding a slot or waiting gets the same answer again). A signal rather than an
  update: Temporal admits at most 10 updates in flight per workflow, and a burst of runs of
  one connection (a webhook storm) would get `ResourceExhausted` and retry in a storm.
  A run is granted when fewer than `limit` runs of the connection hold a slot and, with a
  `flowLimit` (the flow's `maxParallelRuns`), fewer than that many of its flow do; otherwise
  it waits, unless `queueLimit` runs wait already: then it is rejected.
- signal `release(runId)`: the run ended (or gave up waiting); idempotent. Freed slots go to
  the waiting runs, first come first served, each told by a `slot` signal (sent by a local
  activity, one per batch of runs granted); a waiting run that no longer exists is skipped.
- query `state` → `{running, waiting, limit, queueLimit, rejected}`.
- Leak guard: while it holds runs, every `leak_check_seconds` an activity finds those that
  closed without releasing (a terminated run never does) and releases them.
- Ends after `idle_seconds` holding nothing; continues as new when Temporal suggests it.

Everything it holds is workflow state: it survives worker and server restarts.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.limits import (
        GRANTED,
        LIMITER_WORKFLOW,
        QUEUED,
        REJECTED,
        LimiterInput,
        Waiting,
        closed_runs,
        signal_slots,
    )


@workflow.defn(name=LIMITER_WORKFLOW, sandboxed=False)
class ConnectionRunLimiter:
    @workflow.init
    def __init__(self, input: LimiterInput) -> None:
        # From the input, so the updates of the first workflow task see the carried state.
        self.running: dict[str, str | None] = dict(input.running)
        self.waiting: list[Waiting] = list(input.waiting)
        self.flow_limits: dict[str, int] = dict(input.flow_limits)
        self.limit, self.queue_limit = input.limit, input.queue_limit
        self.rejected = input.rejected
        self.changed = bool(self.waiting)
        """Set when a slot may have been freed: the main loop grants waiting runs."""
        self.tick = False
        """Set by the leak guard's timer."""
        self.last_busy = workflow.time()
        self.signalling: set[str] = set()
        """Runs granted whose `slot` signal is on its way."""
        self.outbox: dict[str, str] = dict(input.outbox)
        """Answers to send (`slot` signals), by run id."""

    # -- messages ----------------------------------------------------------------------

    @workflow.signal(name="acquire")
    def acquire(self, request: dict[str, Any]) -> None:
        """A run asks for a slot; it is answered by a `slot` signal (`granted`, `queued`, then
        `granted`, or `rejected`). Idempotent per run id."""
        self.last_busy = workflow.time()
        self.changed = True
        run_id = str(request["runId"])
        self.limit = max(1, int(request.get("limit") or self.limit))
        self.queue_limit = max(0, int(request.get("queueLimit") or self.queue_limit))
        flow = request.get("flow")
        if flow is not None and request.get("flowLimit"):
            self.flow_limits[flow] = max(1, int(request["flowLimit"]))
        if run_id in self.running:
            self.outbox[run_id] = GRANTED
        elif any(w.run_id == run_id for w in self.waiting):
            self.outbox[run_id] = QUEUED
        elif not self.waiting and self._fits(flow):
            self.running[run_id] = flow
            self.outbox[run_id] = GRANTED
        elif len(self.waiting) >= self.queue_limit:
            self.rejected += 1
            self.outbox[run_id] = REJECTED
        else:
            # It may still fit where those before it do not (their flow's cap): the loop's
            # grant pass looks at it before the answer goes out.
            self.waiting.append(Waiting(run_id, flow))
            self.outbox[run_id] = QUEUED

    @workflow.signal(name="release")
    def release(self, run_id: str) -> None:
        self.last_busy = workflow.time()
        if run_id in self.running:
            del self.running[run_id]
        else:
            self.waiting = [w for w in self.waiting if w.run_id != run_id]
        self.changed = True

    @workflow.query(name="state")
    def state(self) -> dict[str, Any]:
        return {
            "running": list(self.running),
            "waiting": [w.run_id for w in self.waiting],
            "limit": self.limit,
            "queueLimit": self.queue_limit,
            "rejected": self.rejected,
        }

    # -- the loop ----------------------------------------------------------------------

    def _fits(self, flow: str | None) -> bool:
        if len(self.running) >= self.limit:
            return False
        cap = self.flow_limits.get(flow) if flow is not None else None
        return cap is None or sum(1 for f in self.running.values() if f == flow) < cap

    def _grant(self) -> list[str]:
        """Moves the waiting runs that fit into `running`, in order; returns them."""
        granted, kept = [], []
        for waiting in self.waiting:
            if len(self.running) < self.limit and self._fits(waiting.flow):
                self.running[waiting.run_id] = waiting.flow
                granted.append(waiting.run_id)
            else:
                kept.append(waiting)
        self.waiting = kept
        return granted

    async def _tell(self, answers: dict[str, str]) -> None:
        """Sends the answers (one local activity for the batch); a run granted that no longer
        exists gives its slot back."""
        self.signalling.update(answers)
        try:
            gone = await workflow.execute_local_activity(
                signal_slots,
                answers,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)),
            )
        finally:
            self.signalling.difference_update(answers)
        for run_id in gone:  # terminated while it waited, say
            workflow.logger.info("run %s is gone: its slot goes to the next", run_id)
            self.running.pop(run_id, None)
            self.waiting = [w for w in self.waiting if w.run_id != run_id]
            self.changed = True

    async def _ticker(self, seconds: float) -> None:
        while True:
            await workflow.sleep(timedelta(seconds=seconds))
            self.tick = True

    async def _release_leaked(self) -> None:
        held = [run for run in self.running if run not in self.signalling]
        if not held:
            return
        closed = await workflow.execute_local_activity(
            closed_runs,
            held,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        for run_id in closed:
            if run_id in self.running:
                workflow.logger.warning("run %s closed without releasing its slot", run_id)
                self.release(run_id)

    def _idle(self) -> bool:
        return not (self.running or self.waiting or self.signalling or self.changed)

    @workflow.run
    async def run(self, input: LimiterInput) -> None:
        tasks: set[asyncio.Task[None]] = set()
        ticker = asyncio.create_task(self._ticker(input.leak_check_seconds))
        while True:
            await workflow.wait_condition(
                lambda: self.changed or self.tick or workflow.info().is_continue_as_new_suggested()
            )
            if self.changed:
                self.changed = False
                for run_id in self._grant():
                    self.outbox[run_id] = GRANTED
                if self.outbox:
                    answers, self.outbox = self.outbox, {}
                    task = asyncio.create_task(self._tell(answers))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            if self.tick:
                self.tick = False
                if self.running:
                    try:
                        await self._release_leaked()
                    except ActivityError:  # describe failed: the next tick tries again
                        workflow.logger.warning("the leak check failed", exc_info=True)
                if self._idle() and workflow.time() - self.last_busy >= input.idle_seconds:
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    if self._idle():
                        ticker.cancel()
                        return
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(lambda: not tasks)
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self.changed:
                    ticker.cancel()
                    workflow.continue_as_new(self._carried(input))

    def _carried(self, input: LimiterInput) -> LimiterInput:
        return replace(
            input,
            limit=self.limit,
            queue_limit=self.queue_limit,
            running=dict(self.running),
            waiting=list(self.waiting),
            flow_limits=dict(self.flow_limits),
            rejected=self.rejected,
            outbox=dict(self.outbox),
        )

"""`EventSync`: brings one connection's event subscriptions and schedules in line with its
enabled flow instances (docs/events.md).

CONTRACT (the API depends on it; the body is being built):
- id `core.events.messages.event_sync_workflow_id(connection_id)`; input: the connection id;
  signal `sync` (no argument): look again (a flow instance, a data source or the connection
  changed). The workflow runs the sync activity until no `sync` signal arrived during the last
  pass, then ends; the next change starts it again.
- `request_sync()` below is how the API asks for a pass.

Each pass is the activity `sync_connection_events` (activities/event_sync.py). Requests that
arrive during a pass are coalesced into one more pass. When a registration the app expires
must be refreshed, or a registration failed for a reason that may pass, the activity says when
the next pass is due and the workflow waits for it on a durable timer (a `sync` signal ends the
wait early); without anything due it ends. Long-lived waits continue-as-new every
`PASSES_PER_RUN` passes so the history stays short.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy

with workflow.unsafe.imports_passed_through():
    from core.events.messages import event_sync_workflow_id

PASSES_PER_RUN = 50
"""Passes one run makes before it continues as new (its history stays small)."""
SYNC_ACTIVITY = "sync_connection_events"
SYNC_TIMEOUT = timedelta(minutes=10)
SYNC_HEARTBEAT = timedelta(seconds=30)
SYNC_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=8,
)


@workflow.defn(name="EventSync", sandboxed=False)
class EventSyncWorkflow:
    def __init__(self) -> None:
        self.requested = 0

    @workflow.signal(name="sync")
    def sync(self) -> None:
        self.requested += 1

    @workflow.run
    async def run(self, connection_id: str) -> None:
        passes = 0
        while True:
            self.requested = 0
            result: dict[str, Any] = await workflow.execute_activity(
                SYNC_ACTIVITY,
                connection_id,
                start_to_close_timeout=SYNC_TIMEOUT,
                heartbeat_timeout=SYNC_HEARTBEAT,
                retry_policy=SYNC_RETRY,
                result_type=dict,
            )
            passes += 1
            if self.requested > 0:
                if passes >= PASSES_PER_RUN:
                    workflow.continue_as_new(connection_id)
                continue
            wait = result.get("next_pass_seconds")
            if wait is None:
                return None
            if passes >= PASSES_PER_RUN:
                workflow.continue_as_new(connection_id)
            # A refresh or a retry is due later; a `sync` request ends the wait early.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.requested > 0, timeout=timedelta(seconds=int(wait))
                )


async def request_sync(client: Client, task_queue: str, connection_id: str) -> None:
    """Asks for a sync pass of the connection's subscriptions and schedules (signal-with-start:
    a running pass takes the request into its next loop)."""
    await client.start_workflow(
        EventSyncWorkflow.run,
        connection_id,
        id=event_sync_workflow_id(connection_id),
        task_queue=task_queue,
        start_signal="sync",
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"Event subscriptions of connection {connection_id}",
    )

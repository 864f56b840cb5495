"""`EventSync`: brings one connection's event subscriptions and schedules in line with its
enabled flow instances (docs/events.md).

CONTRACT (the API depends on it; the body is being built):
- id `core.events.messages.event_sync_workflow_id(connection_id)`; input: the connection id;
  signal `sync` (no argument): look again (a flow instance, a data source or the connection
  changed). The workflow runs the sync activity until no `sync` signal arrived during the last
  pass, then ends; the next change starts it again.
- `request_sync()` below is how the API asks for a pass.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

with workflow.unsafe.imports_passed_through():
    from core.events.messages import event_sync_workflow_id


@workflow.defn(name="EventSync", sandboxed=False)
class EventSyncWorkflow:
    def __init__(self) -> None:
        self.requested = 0

    @workflow.signal(name="sync")
    def sync(self) -> None:
        self.requested += 1

    @workflow.run
    async def run(self, connection_id: str) -> None:
        return None


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

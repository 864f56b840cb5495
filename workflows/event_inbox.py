"""`EventInbox`: one long-lived workflow per active event subscription (docs/events.md).

CONTRACT (the ingress and the sync depend on it; the body is being built):
- id `core.events.messages.inbox_workflow_id(subscription_id)`, task queue: Osmo's.
- input `EventInboxInput`; signal `delivery` (`WebhookDelivery`), signal `pull`
  (`{"fullScan": bool}`), signal `stop` (no argument: drain and finish); query `state`.
- `deliver()` below is how the API hands a delivery over: signal-with-start, so the first
  delivery starts the inbox and the answer to the app waits until Temporal accepted it.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

with workflow.unsafe.imports_passed_through():
    from core.events.messages import EventInboxInput, WebhookDelivery, inbox_workflow_id


@workflow.defn(name="EventInbox", sandboxed=False)
class EventInboxWorkflow:
    def __init__(self) -> None:
        self.deliveries: list[WebhookDelivery] = []
        self.stopping = False

    @workflow.signal(name="delivery")
    def delivery(self, delivery: WebhookDelivery) -> None:
        self.deliveries.append(delivery)

    @workflow.signal(name="pull")
    def pull(self, request: dict[str, Any]) -> None:
        pass

    @workflow.signal(name="stop")
    def stop(self) -> None:
        self.stopping = True

    @workflow.query(name="state")
    def state(self) -> dict[str, Any]:
        return {"deliveries": len(self.deliveries), "stopping": self.stopping}

    @workflow.run
    async def run(self, input: EventInboxInput) -> None:
        await workflow.wait_condition(lambda: self.stopping)


async def deliver(
    client: Client,
    task_queue: str,
    subscription_id: str,
    connection_id: str,
    delivery: WebhookDelivery,
) -> None:
    """Hands a webhook delivery to the subscription's inbox, starting it if needed; returns
    once Temporal has durably accepted the signal."""
    await client.start_workflow(
        EventInboxWorkflow.run,
        EventInboxInput(subscription_id=subscription_id, connection_id=connection_id),
        id=inbox_workflow_id(subscription_id),
        task_queue=task_queue,
        start_signal="delivery",
        start_signal_args=[delivery],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"Events of subscription {subscription_id}",
    )

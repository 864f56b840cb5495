"""`workflows/starts.py`: one way to start a `FlowRun` for the API and the event inbox: its
search attributes (`WaitsForAppEvents` when a `wait-for-event` node takes app events), and a
deterministic event run never started twice."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment

from core.elements.snapshots import FlowSnapshot
from workflows import search_attributes as sa
from workflows.starts import start_event_flow_run


def snapshot(wait_config: dict[str, str]) -> FlowSnapshot:
    return FlowSnapshot(
        flow_key="waits",
        flow_instance_id=f"fi-{uuid.uuid4().hex[:8]}",
        nodes={
            "trigger": {
                "type": "connector-event-trigger",
                "config": {"eventType": "*"},
                "links": [{"key": "wait"}],
            },
            "wait": {"type": "wait-for-event", "config": wait_config},
        },
        connection_id="conn-1",
        customer_id="cust-1",
        integration_key="crm",
    )


async def test_event_runs_carry_their_search_attributes_and_start_once(
    env: WorkflowEnvironment,
) -> None:
    task_queue = f"nobody-{uuid.uuid4()}"  # no worker: the runs are only started
    waits = snapshot({"appEventType": "order-paid"})
    plain = snapshot({})
    started = []
    for flow in (waits, plain, waits):
        started.append(
            await start_event_flow_run(
                env.client,
                task_queue,
                flow,
                run_id=f"flow-run-event-{flow.flow_instance_id}",
                input={"type": "connector-event"},
                trigger_type="connector-event-trigger",
                launched_by={"type": "external-event", "subscriptionId": "s", "eventId": "e"},
                history_limit=100,
            )
        )
    assert started == [True, True, False]  # the same id again: not started twice
    described = {}
    for flow in (waits, plain):
        handle = env.client.get_workflow_handle(f"flow-run-event-{flow.flow_instance_id}")
        described[flow.flow_instance_id] = (await handle.describe()).typed_search_attributes
        await handle.terminate()
    attributes = described[waits.flow_instance_id]
    assert attributes.get(sa.WAITS_FOR_APP_EVENTS) == "true"
    assert attributes.get(sa.TRIGGER_TYPE) == "connector-event-trigger"
    assert attributes.get(sa.CONNECTION_ID) == "conn-1"
    assert attributes.get(sa.FLOW_INSTANCE_ID) == waits.flow_instance_id
    assert described[plain.flow_instance_id].get(sa.WAITS_FOR_APP_EVENTS) is None

"""Runs started now carry their patches built in (core/patches.py): their histories hold no patch
marker and no `TemporalChangeVersion` upsert (a visibility write each), while a run whose input
lists none asks Temporal as runs recorded before did."""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core import patches
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowSnapshot

NODES: dict[str, dict[str, Any]] = {
    "t": {"type": "api-trigger", "links": [{"key": "pause"}]},
    "pause": {"type": "delay", "config": {"seconds": 0}},
}


async def history_of(env: WorkflowEnvironment, built_in: list[str]) -> list[EventType.ValueType]:
    queue = f"patches-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[FlowRunWorkflow]):
        handle = await env.client.start_workflow(
            FlowRunWorkflow.run,
            FlowRunInput(
                FlowSnapshot("f", "instance-f", NODES),
                {},
                connection_limit=None,
                built_in_patches=built_in,
            ),
            id=f"flow-run-{uuid.uuid4().hex}",
            task_queue=queue,
        )
        assert (await handle.result()).state == "completed"
        return [event.event_type async for event in handle.fetch_history_events()]


async def test_a_run_started_now_records_no_patch_marker_or_upsert(
    env: WorkflowEnvironment,
) -> None:
    events = await history_of(env, list(patches.BUILT_IN))
    assert EventType.EVENT_TYPE_MARKER_RECORDED not in events
    assert EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES not in events


async def test_a_run_without_built_in_patches_asks_temporal_as_before(
    env: WorkflowEnvironment,
) -> None:
    events = await history_of(env, [])
    assert EventType.EVENT_TYPE_MARKER_RECORDED in events  # the depth-first patch's marker
    assert EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES in events

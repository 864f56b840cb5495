"""Histories recorded by earlier interpreter code must keep replaying (see record_histories.py).

An interpreter change that would alter the commands of running flows must be guarded with
`workflow.patched`; this suite fails when it is not.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.converter import default
from temporalio.worker import Replayer

from tests.workflows.recorded import HISTORIES, load
from tests.workflows.sandboxed_flow_run import ClockReadingFlowRun, SandboxedFlowRun
from workflows.breadth_first import run_breadth_first
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowRunResult
from workflows.interpreter import CANCELLED_ACTIVITY_PATCH, start_node
from workflows.nodes import NODE_TYPES


def test_every_case_was_recorded() -> None:
    # Imported here: this module defines a workflow, and the sandbox re-imports its imports.
    from tests.workflows.record_histories import CASES

    assert {p.stem for p in HISTORIES} >= set(CASES) | {
        "pure-nodes",
        "delay",
        "data-records",
        "api-request-and-errors",
        "data-links-and-events",
    }


async def test_every_node_type_has_a_recorded_history() -> None:
    recorded: set[str] = set()
    for path in HISTORIES:
        started = load(path).events[0].workflow_execution_started_event_attributes
        [run_input] = await default().decode(started.input.payloads, [FlowRunInput])
        recorded |= {node["type"] for node in run_input.snapshot.nodes.values()}
    assert set(NODE_TYPES) - recorded == set()


def test_a_history_of_the_depth_first_walk_continues_as_new() -> None:
    events = load(HISTORIES[0].with_stem("lanes-and-continue-as-new")).events
    markers = [e for e in events if e.HasField("marker_recorded_event_attributes")]
    assert markers, "the depth-first walk is recorded behind its patch marker"
    assert events[-1].HasField("workflow_execution_continued_as_new_event_attributes")


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    result = await Replayer(workflows=[FlowRunWorkflow]).replay_workflow(load(path))
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_under_the_sandboxs_restrictions(path: Path) -> None:
    """FlowRun runs unsandboxed for speed; this keeps its code honest (no clock, no I/O)."""
    result = await Replayer(workflows=[SandboxedFlowRun]).replay_workflow(load(path))
    assert result.replay_failure is None, result.replay_failure


async def test_the_sandbox_catches_a_clock_read_in_interpreter_code() -> None:
    path = next(p for p in HISTORIES if p.stem == "lanes-and-continue-as-new")
    result = await Replayer(workflows=[ClockReadingFlowRun]).replay_workflow(
        load(path), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    assert "datetime" in str(result.replay_failure)


@workflow.defn(name="FlowRun")
class ReorderedFlowRun:
    """An unguarded interpreter change: a timer before anything else."""

    @workflow.run
    async def run(self, input: FlowRunInput) -> FlowRunResult:
        await workflow.sleep(timedelta(seconds=1))
        return await FlowRunWorkflow().run(input)


async def test_an_unguarded_change_is_caught() -> None:
    path = next(p for p in HISTORIES if p.stem == "data-records")
    result = await Replayer(workflows=[ReorderedFlowRun]).replay_workflow(
        load(path), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None


@workflow.defn(name="FlowRun")
class BreadthFirstOnly(FlowRunWorkflow):
    """The interpreter without its patch: every run walks breadth first."""

    @workflow.run
    async def run(self, input: FlowRunInput) -> FlowRunResult:
        walk = self.interpreter
        walk.input, walk.seed, walk.base = input, dict(input.start_outputs), {}
        return await run_breadth_first(walk, input, start_node(input))


async def test_dropping_the_depth_first_patch_breaks_recorded_runs() -> None:
    path = next(p for p in HISTORIES if p.stem == "lanes-and-continue-as-new")
    result = await Replayer(workflows=[BreadthFirstOnly]).replay_workflow(
        load(path), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None


async def test_dropping_the_cancelled_activity_patch_breaks_recorded_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The recorded run went on to item 3 after its cancelled write; unguarded, it would not."""
    patched = workflow.patched
    monkeypatch.setattr(
        workflow, "patched", lambda id: id == CANCELLED_ACTIVITY_PATCH or patched(id)
    )
    path = next(p for p in HISTORIES if p.stem == "fan-out-fails-while-writing")
    result = await Replayer(workflows=[FlowRunWorkflow]).replay_workflow(
        load(path), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None

"""Histories recorded by earlier interpreter code must keep replaying (see record_histories.py).

An interpreter change that would alter the commands of running flows must be guarded with
`workflow.patched`; this suite fails when it is not.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowRunResult

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", json.loads(path.read_text()))


def test_every_case_was_recorded() -> None:
    assert {p.stem for p in HISTORIES} >= {
        "pure-nodes",
        "delay",
        "data-records",
        "api-request-and-errors",
        "data-links-and-events",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    result = await Replayer(workflows=[FlowRunWorkflow]).replay_workflow(load(path))
    assert result.replay_failure is None, result.replay_failure


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

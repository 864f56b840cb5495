"""`GET /flow-runs/{id}` while no worker runs: the state query cannot be answered, so the run
is read by replaying its history, in seconds; if even that fails, a documented 503."""

from __future__ import annotations

import time
import uuid

import pytest
from temporalio.testing import WorkflowEnvironment

from api import flow_run_reader
from core.blobs import with_converter
from tests.conftest import Osmo
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowSnapshot

NODES = {"trigger": {"type": "api-trigger"}}


async def start_unserved_run(osmo: Osmo, env: WorkflowEnvironment) -> str:
    """A run on a task queue no worker polls."""
    client = with_converter(env.client, osmo.settings)
    osmo.services.temporal_client = client
    run_id = f"flow-run-{uuid.uuid4()}"
    await client.start_workflow(
        FlowRunWorkflow.run,
        FlowRunInput(FlowSnapshot("f", "i-1", NODES, connection_id="c-1")),
        id=run_id,
        task_queue=f"nobody-{uuid.uuid4()}",
    )
    return run_id


async def test_a_run_no_worker_answers_for_is_read_from_history_in_seconds(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    run_id = await start_unserved_run(osmo_sqlite, env)
    asked = time.monotonic()
    response = await osmo_sqlite.call("GET", f"/flow-runs/{run_id}")
    assert time.monotonic() - asked < 5
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["state"]) == (run_id, "running")
    # What the history holds, run here: at most the trigger, a pure node, has run.
    runs = [(r["nodeKey"], r["state"]) for r in response.json()["nodeRuns"]]
    assert runs in ([], [("trigger", "completed")])


async def test_a_run_that_cannot_be_read_answers_the_documented_error(
    osmo_sqlite: Osmo, env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = await start_unserved_run(osmo_sqlite, env)

    async def unreadable(*_: object) -> list[object]:
        raise RuntimeError("history unreadable")

    monkeypatch.setattr(flow_run_reader, "replay_state", unreadable)
    for path in (f"/flow-runs/{run_id}", f"/flow-runs/{run_id}/output"):
        response = await osmo_sqlite.call("GET", path)
        assert response.status_code == 503, response.text
        body = response.json()
        assert (body["type"], body["key"]) == ("unavailable", "flow_run_state_unavailable")
        assert set(body) == {"type", "key", "message", "data"}

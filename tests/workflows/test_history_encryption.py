"""A raw scan of Temporal's database file: no run input, activity output or failure in plaintext.

The dev server keeps everything (history, visibility, memo) in one SQLite file. A flow runs
with a canary in its input, an activity returns one (a CRM record that also echoes the access
token) and a node fails with one in its message; afterwards none of those bytes is anywhere in
the file, while a payload written without Osmo's codec is (so the scan does see plaintext).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from connectors.runtime.redaction import MASK
from core.blobs import data_converter
from tests.conftest import Osmo, make_settings
from tests.temporal_env import dev_server
from tests.workflows.flow_fixtures import crm_connection, finished, flow_worker
from tests.workflows.recorded import HISTORIES, load
from workflows.flow_run import FlowRunWorkflow

INPUT_CANARY = "canary-input-3c81d0"
OUTPUT_CANARY = "canary-output-9e27b4"
FAILURE_CANARY = "canary-failure-51fa6e"
CONTROL_CANARY = "canary-control-0d4c7a"


@pytest.fixture
async def temporal_db(tmp_path: Path) -> AsyncIterator[tuple[WorkflowEnvironment, Path]]:
    """The dev server persisting to a file in `tmp_path` (its path is yielded)."""
    db = tmp_path / "temporal.db"
    env = await dev_server("--db-filename", str(db))
    try:
        yield env, db
    finally:
        await env.shutdown()


def database_bytes(db: Path) -> bytes:
    """The database and its journal files (a WAL may hold what is not checkpointed yet)."""
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))


def flow(contact_id: str, crm_url: str) -> dict[str, object]:
    return {
        "key": "canaries",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "get"}]},
            "get": {
                "type": "api-request-to-external-app",
                "config": {"path": f"/api/v1/contacts/{contact_id}"},
                "links": [{"key": "fail"}],
            },
            "fail": {
                "type": "custom-http-request",
                "config": {"url": f"{crm_url}/missing/{FAILURE_CANARY}"},
            },
        },
    }


async def test_temporal_database_holds_no_plaintext_input_output_or_failure(
    osmo_sqlite: Osmo, crm, temporal_db: tuple[WorkflowEnvironment, Path]
) -> None:
    (fake, url), (env, db) = crm, temporal_db
    osmo = osmo_sqlite
    connection_id = await crm_connection(osmo, url)
    token = osmo.services.connections.load(connection_id).credentials["access_token"]
    contact = fake.new_contact({"firstname": f"echo {token}", "lastname": OUTPUT_CANARY})
    created = await osmo.call("POST", "/flows", json=flow(contact["id"], url))
    assert created.status_code == 201, created.text
    async with flow_worker(osmo, env, allow_private_http=True):
        started = await osmo.call(
            "POST",
            f"/connections/{connection_id}/flows/canaries/run",
            tenant="acme",
            json={"input": {"note": INPUT_CANARY}},
        )
        assert started.status_code == 201, started.text
        run = await finished(osmo, started.json()["flowRunId"])
        # Control: a workflow started without Osmo's converter, whose input is plaintext.
        await env.client.start_workflow(
            "Control", CONTROL_CANARY, id=f"control-{uuid.uuid4()}", task_queue="nobody"
        )

    # Through Osmo the run reads as usual (decoded), with the echoed token masked.
    assert run["state"] == "failed" and run["failedNodeKey"] == "fail", run
    assert run["input"] == {"note": INPUT_CANARY}
    got = next(r for r in run["nodeRuns"] if r["nodeKey"] == "get")["outputs"][0]
    assert got["body"]["properties"]["lastname"] == OUTPUT_CANARY
    assert got["body"]["properties"]["firstname"] == f"echo {MASK}"
    assert FAILURE_CANARY in str(run["error"]) + str(run["nodeRuns"])
    assert token not in str(run)

    await env.shutdown()  # the server closes (and checkpoints) its database
    stored = database_bytes(db)
    assert CONTROL_CANARY.encode() in stored  # the scan sees plaintext payloads
    for secret in (INPUT_CANARY, OUTPUT_CANARY, FAILURE_CANARY, token):
        assert secret.encode() not in stored, secret


async def test_an_action_run_masks_an_echoed_token_and_leaves_no_plaintext(
    osmo_sqlite: Osmo, crm, temporal_db: tuple[WorkflowEnvironment, Path]
) -> None:
    (fake, url), (env, db) = crm, temporal_db
    osmo = osmo_sqlite
    connection_id = await crm_connection(osmo, url)
    token = osmo.services.connections.load(connection_id).credentials["access_token"]
    contact = fake.new_contact({"firstname": f"echo {token}", "lastname": OUTPUT_CANARY})
    action = {
        "key": "get-contact",
        "type": "api-request-to-external-app",
        "config": {"path": {"$concat": ["/api/v1/contacts/", {"$var": "input.id"}]}},
    }
    assert (await osmo.call("POST", "/actions", json=action)).status_code == 201
    async with flow_worker(osmo, env):
        response = await osmo.call(
            "POST",
            f"/connections/{connection_id}/actions/get-contact/run",
            tenant="acme",
            json={"input": {"id": contact["id"], "note": INPUT_CANARY}},
        )
    assert response.status_code == 200, response.text
    properties = response.json()["output"]["body"]["properties"]
    assert properties["firstname"] == f"echo {MASK}" and properties["lastname"] == OUTPUT_CANARY
    assert token not in response.text

    await env.shutdown()
    stored = database_bytes(db)
    assert b"ActionRun" in stored  # the run is in this file
    for secret in (INPUT_CANARY, OUTPUT_CANARY, token):
        assert secret.encode() not in stored, secret


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_plaintext_histories_replay_on_workers_that_encrypt(
    path: Path, tmp_path: Path
) -> None:
    """Runs started before encryption was on keep running on workers that have it."""
    converter = data_converter(make_settings("sqlite://", blob_store=str(tmp_path)))
    replayer = Replayer(workflows=[FlowRunWorkflow], data_converter=converter)
    result = await replayer.replay_workflow(load(path))
    assert result.replay_failure is None, result.replay_failure

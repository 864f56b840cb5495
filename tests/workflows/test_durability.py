"""Nothing is lost: `kill -9` the worker mid-flow, start a new one, the run completes and the
external app saw each completed write exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from core.blobs import with_converter
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import CONNECTOR_PATHS, WORKSPACE_SECRET, Osmo, create_crm_integration
from tests.workflows.flow_fixtures import finished

ROOT = Path(__file__).resolve().parents[2]

FLOW = {
    "key": "two-writes",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "first"}]},
        "first": {
            "type": "create-data-record",
            "config": {"collectionKey": "contacts", "fields": {"email": "first@example.com"}},
            "timeoutSeconds": 10,
            "links": [{"key": "pause"}],
        },
        "pause": {"type": "delay", "config": {"seconds": 4}, "links": [{"key": "second"}]},
        "second": {
            "type": "create-data-record",
            "config": {"collectionKey": "contacts", "fields": {"email": "second@example.com"}},
            "timeoutSeconds": 10,
        },
    },
}


def start_worker(osmo: Osmo, address: str, task_queue: str) -> subprocess.Popen[bytes]:
    settings = osmo.settings
    env = {
        **os.environ,
        "OSMO_ENV": "test",
        "OSMO_WORKSPACE_KEY": settings.workspace_key,
        "OSMO_WORKSPACE_SECRET": WORKSPACE_SECRET,
        "OSMO_ENCRYPTION_KEYS": settings.encryption_keys,
        "OSMO_DATABASE_URL": settings.database_url,
        "OSMO_TEMPORAL_ADDRESS": address,
        "OSMO_TASK_QUEUE": task_queue,
        "OSMO_CONNECTOR_PATHS": CONNECTOR_PATHS,
        "OSMO_BLOB_STORE": settings.blob_store,
    }
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env)


def posts(fake, email: str) -> int:
    return sum(
        1
        for r in fake.api_requests
        if r["method"] == "POST"
        and r["path"] == "/api/v1/contacts"
        and r["status"] == 201
        and (r.get("json") or {}).get("properties", {}).get("email") == email
    )


async def test_killed_worker_resumes_without_losing_or_repeating_writes(
    osmo_sqlite: Osmo, crm, env: WorkflowEnvironment
) -> None:
    fake, url = crm
    await create_crm_integration(osmo_sqlite, url)
    await connect_oauth2(osmo_sqlite, "acme")
    connection_id = (await only_connection(osmo_sqlite, "acme"))["id"]
    task_queue = f"osmo-{uuid.uuid4()}"
    address = env.client.service_client.config.target_host
    # As `connect` builds it: the worker encrypts payloads, so the API must decode them.
    osmo_sqlite.services.temporal_client = with_converter(env.client, osmo_sqlite.settings)
    osmo_sqlite.services.settings.task_queue = task_queue
    worker = start_worker(osmo_sqlite, address, task_queue)
    replacement = None
    try:
        assert (await osmo_sqlite.call("POST", "/flows", json=FLOW)).status_code == 201
        started = await osmo_sqlite.call(
            "POST", f"/connections/{connection_id}/flows/two-writes/run", tenant="acme", json={}
        )
        run_id = started.json()["flowRunId"]
        for _ in range(300):  # until the first write completed and the run sleeps in `pause`
            run = (await osmo_sqlite.call("GET", f"/flow-runs/{run_id}", tenant="acme")).json()
            if any(r["nodeKey"] == "pause" for r in run.get("nodeRuns", [])):
                break
            await asyncio.sleep(0.05)
        assert posts(fake, "first@example.com") == 1
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        replacement = start_worker(osmo_sqlite, address, task_queue)
        run = await finished(osmo_sqlite, run_id)
        assert run["state"] == "completed", run
        assert posts(fake, "first@example.com") == 1
        assert posts(fake, "second@example.com") == 1
        assert [r["nodeKey"] for r in run["nodeRuns"]] == ["trigger", "first", "pause", "second"]
    finally:
        for process in (worker, replacement):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)

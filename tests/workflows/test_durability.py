"""Nothing is lost: `kill -9` the worker mid-flow, start a new one, the run completes and the
external app saw each completed write exactly once."""

from __future__ import annotations

import asyncio
import signal
import uuid

from temporalio.testing import WorkflowEnvironment

from core.blobs import with_converter
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration
from tests.processes import start_worker, stop
from tests.workflows.flow_fixtures import finished

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
    worker = start_worker(osmo_sqlite.settings, address, task_queue)
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
        replacement = start_worker(osmo_sqlite.settings, address, task_queue)
        run = await finished(osmo_sqlite, run_id)
        assert run["state"] == "completed", run
        assert posts(fake, "first@example.com") == 1
        assert posts(fake, "second@example.com") == 1
        assert [r["nodeKey"] for r in run["nodeRuns"]] == ["trigger", "first", "pause", "second"]
    finally:
        stop(worker, replacement)

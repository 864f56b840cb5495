"""A write in flight when the worker dies: `kill -9` the worker while the app holds its create
(the app frozen with SIGSTOP), start another; the run completes, the app holds each record
once, and the external API log shows every request, the one the dead worker never saw
answered included (still `pending`)."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from typing import Any

from temporalio.testing import WorkflowEnvironment

from core.blobs import with_converter
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import CRM_CLIENT, Osmo, create_crm_integration
from tests.fakes.crm_process import crm_process
from tests.processes import start_worker, stop
from tests.workflows.flow_fixtures import finished


def flow(first: str, second: str) -> dict[str, Any]:
    return {
        "key": "write-twice",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "first"}]},
            "first": {
                "type": "create-data-record",
                "config": {"collectionKey": "contacts", "fields": {"email": first}},
                "links": [{"key": "second"}],
            },
            "second": {
                "type": "create-data-record",
                "config": {"collectionKey": "contacts", "fields": {"email": second}},
            },
        },
    }


async def writes_logged(osmo: Osmo, connection_id: str, email: str) -> list[dict[str, Any]]:
    """The log entries of the creates of `email`, oldest first."""
    response = await osmo.call(
        "GET", "/external-api-logs", params={"connectionId": connection_id, "limit": 100}
    )
    assert response.status_code == 200, response.text
    return [
        log
        for log in reversed(response.json()["items"])
        if log["method"] == "POST"
        and log["url"].endswith("/api/v1/contacts")
        and email in (log["requestBody"] or "")
    ]


async def until(check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


async def test_worker_killed_mid_create_completes_the_run_with_each_record_once(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    osmo = osmo_sqlite
    first, second = f"first-{uuid.uuid4().hex[:8]}@example.com", "second@example.com"
    task_queue = f"osmo-{uuid.uuid4()}"
    address = env.client.service_client.config.target_host
    osmo.services.temporal_client = with_converter(env.client, osmo.settings)
    osmo.services.settings.task_queue = task_queue
    worker = replacement = None
    with crm_process(CRM_CLIENT) as crm:
        await create_crm_integration(osmo, crm.url)
        await connect_oauth2(osmo, "acme")
        connection_id = (await only_connection(osmo, "acme"))["id"]
        assert (await osmo.call("POST", "/flows", json=flow(first, second))).status_code == 201
        try:
            worker = start_worker(osmo.settings, address, task_queue)
            crm.stop()  # the create reaches the app's socket and waits there
            started = await osmo.call(
                "POST",
                f"/connections/{connection_id}/flows/write-twice/run",
                tenant="acme",
                json={},
            )
            run_id = started.json()["flowRunId"]

            async def sent(count: int) -> list[dict[str, Any]] | None:
                logs = await writes_logged(osmo, connection_id, first)
                return logs if len(logs) >= count else None

            [held] = await until(lambda: sent(1), 30)
            assert held["state"] == "pending" and held["status"] is None  # logged before sent
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            killed = time.monotonic()

            # No worker: the run is read from its history, quickly, not a 500 after 30 s.
            asked = time.monotonic()
            read = await osmo.call("GET", f"/flow-runs/{run_id}", tenant="acme")
            assert time.monotonic() - asked < 5
            assert read.status_code == 200, read.text
            assert read.json()["state"] == "running"
            assert [(r["nodeKey"], r["state"]) for r in read.json()["nodeRuns"]][:1] == [
                ("trigger", "completed")
            ]

            replacement = start_worker(osmo.settings, address, task_queue)
            # The lost worker is noticed in seconds (heartbeat timeout), and the create retried.
            await until(lambda: sent(2), 25)
            assert time.monotonic() - killed < 25
            crm.resume()
            run = await finished(osmo, run_id)
            assert run["state"] == "completed", run
            assert len(crm.contacts_with(first)) == 1
            assert len(crm.contacts_with(second)) == 1
            [created] = [r for r in run["nodeRuns"] if r["nodeKey"] == "first"]
            [output] = created["outputs"]
            assert output["record"]["fields"]["email"] == first
            logs = await writes_logged(osmo, connection_id, first)
            # The dead worker's request stays pending: it may have reached the app (it did).
            assert logs[0]["id"] == held["id"] and logs[0]["state"] == "pending"
            assert {log["state"] for log in logs[1:]} == {"completed"}
            assert {log["status"] for log in logs[1:]} <= {201, 409}
            assert len(await writes_logged(osmo, connection_id, second)) == 1
        finally:
            crm.resume()
            stop(worker, replacement)

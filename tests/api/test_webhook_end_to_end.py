"""Issue 13's proof, end to end with real processes and real sockets: a CRM that sends signed
webhooks to the URL Osmo registered with it. 1,000 deliveries, 10% of them redelivered, in
shuffled order → exactly the distinct events recorded and exactly one flow run per event; a
forged signature and a replayed timestamp are refused. Then the worker is killed (`kill -9`)
while the inbox holds deliveries and runs wait behind the connection's limit: after a new
worker starts, every event is processed exactly once."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from core.blobs import with_converter
from demo.fake_crm import FakeCRM
from dev import DEMO_EVENT_FLOW
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration
from tests.processes import start_worker, stop

FLOW_KEY = str(DEMO_EVENT_FLOW["key"])


def flow(key: str) -> dict[str, Any]:
    """A contact created in the CRM → one run that reads the event: the flow `make run` seeds."""
    return {**copy.deepcopy(DEMO_EVENT_FLOW), "key": key}


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"not within {seconds} s: {what}")


async def event_log(osmo: Osmo, subscription_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"subscriptionId": subscription_id, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = (await osmo.call("GET", "/external-event-log-records", params=params)).json()
        rows += page["items"]
        cursor = page.get("cursor")
        if not cursor or not page["items"]:
            return rows


async def runs_of(env: WorkflowEnvironment, flow_key: str, connection_id: str) -> int:
    query = (
        f"WorkflowType = 'FlowRun' AND FlowKey = '{flow_key}' AND ConnectionId = '{connection_id}'"
    )
    return (await env.client.count_workflows(query)).count


async def subscribed(osmo: Osmo, fake: FakeCRM, connection_id: str) -> dict[str, Any]:
    """The enabled flow's subscription, once Osmo registered its webhook with the CRM."""
    found: dict[str, Any] = {}

    async def registered() -> bool:
        listing = await osmo.call(
            "GET", "/external-event-subscriptions", params={"connectionId": connection_id}
        )
        items = [s for s in listing.json()["items"] if s["state"] == "subscribed"]
        if items and fake.webhooks.subscriptions:
            found.update(items[0])
        return bool(found)

    await until(registered, 60, "the webhook registered with the CRM")
    return found


def signed(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Crm-Request-Timestamp": str(timestamp),
        "X-Crm-Signature": "v1=" + digest.hexdigest(),
    }


async def connected_worker(
    osmo: Osmo, crm_url: str, env: WorkflowEnvironment, **settings: str
) -> tuple[str, Callable[[], subprocess.Popen[bytes]]]:
    """acme connected to the fake CRM, Osmo's API on the test's task queue; the connection's id
    and how to start a worker process (Osmo's webhook URL being the API's)."""
    await create_crm_integration(osmo, crm_url)
    await connect_oauth2(osmo, "acme")
    connection_id = (await only_connection(osmo, "acme"))["id"]
    task_queue = f"osmo-{uuid.uuid4()}"
    address = env.client.service_client.config.target_host
    osmo.services.temporal_client = with_converter(env.client, osmo.settings)
    osmo.services.settings.task_queue = task_queue
    env_vars = {"OSMO_WEBHOOK_PUBLIC_URL": osmo.url, **settings}
    return connection_id, lambda: start_worker(osmo.settings, address, task_queue, **env_vars)


async def test_a_thousand_redelivered_shuffled_webhooks_start_one_run_per_event(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], env: WorkflowEnvironment
) -> None:
    osmo, (fake, crm_url) = osmo_sqlite, crm
    connection_id, new_worker = await connected_worker(osmo, crm_url, env)
    worker = new_worker()
    try:
        key = f"{FLOW_KEY}-{uuid.uuid4().hex[:6]}"
        assert (await osmo.call("POST", "/flows", json=flow(key))).status_code == 201
        instance = f"/connections/{connection_id}/flows/{key}"
        assert (await osmo.call("GET", instance, tenant="acme")).status_code == 200
        enabled = await osmo.call("PATCH", instance, tenant="acme", json={"enabled": True})
        assert enabled.status_code == 200, enabled.text
        subscription = await subscribed(osmo, fake, connection_id)
        [registration] = fake.webhooks.subscriptions.values()
        assert registration.url == f"{osmo.url}/webhooks/subscriptions/{subscription['id']}"

        sent = await fake.webhooks.burst(registration.id, 1000, redeliver=0.1, concurrency=10)
        assert sent["deliveries"] == 1100
        assert set(sent["statuses"]) == {200}, sorted(set(map(str, sent["statuses"])))

        async def all_recorded() -> bool:
            return len(await event_log(osmo, subscription["id"])) >= 1000

        await until(all_recorded, 240, "1,000 events recorded")

        async def all_ran() -> bool:
            return await runs_of(env, key, connection_id) >= 1000

        await until(all_ran, 240, "1,000 flow runs")
        rows = await event_log(osmo, subscription["id"])
        assert sorted(r["eventId"] for r in rows) == sent["eventIds"]  # each once, none lost
        assert {r["status"] for r in rows} == {"launched"}
        run_ids = [run_id for r in rows for run_id in r["launchedFlowRunIds"]]
        assert len(run_ids) == len(set(run_ids)) == 1000
        await asyncio.sleep(1)  # nothing more arrives: redeliveries started no second run
        assert await runs_of(env, key, connection_id) == 1000
        run = (await osmo.call("GET", f"/flow-runs/{run_ids[0]}", tenant="acme")).json()
        assert run["launchedBy"]["type"] == "external-event"
        assert run["launchedBy"]["subscriptionId"] == subscription["id"]

        # Forged and replayed deliveries are refused and deliver nothing.
        url = f"{osmo.url}/webhooks/subscriptions/{subscription['id']}"
        body = json.dumps({"eventId": "forged", "eventType": "contact.created"}).encode()
        async with httpx.AsyncClient() as client:
            forged = await client.post(
                url, content=body, headers=signed("not-the-secret", body, int(time.time()))
            )
            replayed = await client.post(
                url, content=body, headers=signed(registration.secret, body, int(time.time()) - 900)
            )
        assert forged.status_code == 401 and replayed.status_code == 401
        assert forged.json()["key"] == replayed.json()["key"] == "invalid_signature"
        await asyncio.sleep(1)
        assert len(await event_log(osmo, subscription["id"])) == 1000
    finally:
        stop(worker)


async def test_killed_worker_with_deliveries_held_and_runs_queued_processes_each_once(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], env: WorkflowEnvironment
) -> None:
    osmo, (fake, crm_url) = osmo_sqlite, crm
    # One run at a time per connection, so runs queue behind the limit when the worker dies.
    connection_id, new_worker = await connected_worker(
        osmo, crm_url, env, OSMO_FLOW_RUNS_PER_CONNECTION="1"
    )
    worker = new_worker()
    replacement = None
    try:
        key = f"{FLOW_KEY}-{uuid.uuid4().hex[:6]}"
        slow = flow(key)
        slow["nodes"]["email"]["links"] = [{"key": "pause"}]
        slow["nodes"]["pause"] = {"type": "delay", "config": {"seconds": 0.2}}
        assert (await osmo.call("POST", "/flows", json=slow)).status_code == 201
        instance = f"/connections/{connection_id}/flows/{key}"
        assert (await osmo.call("GET", instance, tenant="acme")).status_code == 200
        await osmo.call("PATCH", instance, tenant="acme", json={"enabled": True})
        subscription = await subscribed(osmo, fake, connection_id)
        [registration] = fake.webhooks.subscriptions.values()

        sent = await fake.webhooks.burst(registration.id, 20, redeliver=0.1, concurrency=10)
        assert set(sent["statuses"]) == {200}

        async def some_recorded() -> bool:
            return len(await event_log(osmo, subscription["id"])) >= 3

        await until(some_recorded, 60, "the first events recorded")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        # Accepted while no worker runs: held by Temporal for the next one.
        late = await fake.webhooks.burst(registration.id, 8, redeliver=0.1, seed=8)
        assert set(late["statuses"]) == {200}
        replacement = new_worker()
        expected = sorted(sent["eventIds"] + late["eventIds"])

        async def all_completed() -> bool:
            query = (
                f"WorkflowType = 'FlowRun' AND FlowKey = '{key}' AND ExecutionStatus = 'Completed'"
            )
            return (await env.client.count_workflows(query)).count >= len(expected)

        await until(all_completed, 240, "every run completed")
        rows = await event_log(osmo, subscription["id"])
        assert sorted(r["eventId"] for r in rows) == expected
        assert await runs_of(env, key, connection_id) == len(expected)
    finally:
        stop(worker, replacement)

"""The `EventInbox`: webhook deliveries in, duplicates dropped (across deliveries and across
continue-as-new), one flow run per event per matching enabled flow instance, `stop` drains,
polls on a durable timer, and a worker killed with events held loses and repeats nothing."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.blobs import with_converter
from core.events.messages import (
    EventInboxInput,
    ExternalEvent,
    PullInput,
    PullOutput,
    WebhookDelivery,
    inbox_workflow_id,
)
from core.events.models import EventSubscription
from tests.conftest import Osmo
from tests.dev_stack import free_ports
from tests.events_fixtures import (
    add_subscription,
    connector_event_flow,
    flow_instance,
    hooks_connection,
    hooks_osmo,
    log_rows,
    logged,
    record_created_flow,
    runs_of,
)
from tests.processes import ROOT, osmo_env, stop
from tests.temporal_env import temporal_command
from tests.workflows.flow_fixtures import define, finished, flow_worker
from worker import WORKFLOWS, build_activities
from workflows.event_inbox import EventInboxWorkflow, deliver
from workflows.search_attributes import dev_server_args


@pytest.fixture
async def osmo(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Osmo]:
    async for running in hooks_osmo(sqlite_url, tmp_path / "connectors"):
        yield running


def delivery(*events: dict[str, Any]) -> WebhookDelivery:
    return WebhookDelivery(
        f"wh-{uuid.uuid4().hex[:8]}", {}, {"events": list(events)}, "2026-01-01T00:00:00+00:00"
    )


def thing(event_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": event_id, "type": "thing", **fields}


async def state(client: Client, subscription_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await client.get_workflow_handle(
        inbox_workflow_id(subscription_id)
    ).query("state")
    return result


async def test_duplicates_are_dropped_and_each_event_runs_each_matching_instance_once(
    osmo: Osmo, crm, env: WorkflowEnvironment
) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    big = {"field": "event.payload.size", "operator": "is", "value": "big"}
    for flow in (
        connector_event_flow("every"),
        connector_event_flow("big", filter=big),
        connector_event_flow("off"),
    ):
        await define(osmo, flow)
    every = await flow_instance(osmo, connection_id, "every")
    big_id = await flow_instance(osmo, connection_id, "big")
    off = await flow_instance(osmo, connection_id, "off", enabled=False)
    subscription = add_subscription(osmo, connection_id, connector_event_key="*")
    async with flow_worker(osmo, env) as settings:
        client = await osmo.services.temporal()
        e1, e2, e3, e4 = (
            thing("e1", size="big"),
            thing("e2", size="small"),
            thing("e3", size="big"),
            thing("e4", size="small"),
        )
        for events in ([e1, e2], [e1, e3], [e2, e4, e4]):
            await deliver(
                client, settings.task_queue, subscription, connection_id, delivery(*events)
            )
        rows = await logged(osmo, subscription, 4)
        assert {r.status for r in rows.values()} == {"launched"}
        assert {len(rows[e].launched_flow_run_ids) for e in ("e1", "e3")} == {2}
        assert {len(rows[e].launched_flow_run_ids) for e in ("e2", "e4")} == {1}
        assert await runs_of(client, every, 4) == 4
        assert await runs_of(client, big_id, 2) == 2
        assert await runs_of(client, off, 0) == 0
        assert (await state(client, subscription))["duplicatesDropped"] == 3
        run = await finished(osmo, rows["e3"].launched_flow_run_ids[0])
        assert run["state"] == "completed", run
        assert run["launchedBy"] == {
            "type": "external-event",
            "subscriptionId": subscription,
            "eventId": "e3",
        }
        assert run["input"] == {
            "type": "connector-event",
            "eventId": "e3",
            "subscriptionId": subscription,
            "eventType": "thing",
            "payload": e3,
        }


async def test_record_events_run_with_the_record_id(
    osmo: Osmo, crm, env: WorkflowEnvironment
) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    await define(osmo, record_created_flow("on-contact"))
    await flow_instance(osmo, connection_id, "on-contact")
    subscription = add_subscription(
        osmo, connection_id, "data-record-created", collection_key="contacts"
    )
    async with flow_worker(osmo, env) as settings:
        client = await osmo.services.temporal()
        created = {"id": "c1", "type": "contact.created", "objectId": 101}
        deleted = {"id": "c2", "type": "contact.deleted", "objectId": 102}
        await deliver(
            client, settings.task_queue, subscription, connection_id, delivery(created, deleted)
        )
        rows = await logged(osmo, subscription, 1)
        assert rows["c1"].record_id == "101"
        run = await finished(osmo, rows["c1"].launched_flow_run_ids[0])
        assert run["triggerType"] == "data-record-created-trigger"
        assert run["input"]["recordId"] == "101"
        assert run["input"]["type"] == "data-record-created"


async def test_the_dedup_window_survives_continue_as_new(
    osmo: Osmo, crm, env: WorkflowEnvironment
) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    await define(osmo, connector_event_flow("every"))
    every = await flow_instance(osmo, connection_id, "every")
    subscription = add_subscription(osmo, connection_id, connector_event_key="*")
    async with flow_worker(osmo, env) as settings:
        client = await osmo.services.temporal()
        handle = await client.start_workflow(
            EventInboxWorkflow.run,
            EventInboxInput(subscription, connection_id, history_limit=30, dedup_window=3),
            id=inbox_workflow_id(subscription),
            task_queue=settings.task_queue,
        )
        first_run = handle.result_run_id
        for n in range(1, 7):  # one delivery at a time: each costs its own activities
            await deliver(
                client, settings.task_queue, subscription, connection_id, delivery(thing(f"e{n}"))
            )
            await logged(osmo, subscription, n)
        first = await client.get_workflow_handle(handle.id, run_id=first_run).describe()
        assert first.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
        now = await state(client, subscription)
        assert now["seen"] == 3  # the window, carried over: e4, e5, e6
        dropped = now["duplicatesDropped"]
        await deliver(
            client, settings.task_queue, subscription, connection_id, delivery(thing("e6"))
        )
        for _ in range(100):
            now = await state(client, subscription)
            if now["duplicatesDropped"] == dropped + 1:
                break
            await asyncio.sleep(0.05)
        assert now["duplicatesDropped"] == dropped + 1
        await logged(osmo, subscription, 6)
        assert await runs_of(client, every, 6) == 6


async def test_stop_finishes_the_work_taken_in(osmo: Osmo, crm, env: WorkflowEnvironment) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    await define(osmo, connector_event_flow("every"))
    await flow_instance(osmo, connection_id, "every")
    subscription = add_subscription(osmo, connection_id, connector_event_key="*")
    async with flow_worker(osmo, env) as settings:
        client = await osmo.services.temporal()
        for n in range(5):
            await deliver(
                client, settings.task_queue, subscription, connection_id, delivery(thing(f"e{n}"))
            )
        handle = client.get_workflow_handle(inbox_workflow_id(subscription))
        await handle.signal("stop")
        await asyncio.wait_for(handle.result(), timeout=30)
        rows = await logged(osmo, subscription, 5)
        assert {r.status for r in rows.values()} == {"launched"}


def start_worker(osmo: Osmo, address: str, task_queue: str) -> subprocess.Popen[bytes]:
    """`python worker.py` knowing the test's connectors (`fake-crm-hooks`)."""
    env = {
        **osmo_env(osmo.settings, address, task_queue),
        "OSMO_CONNECTOR_PATHS": osmo.settings.connector_paths,
    }
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env)


async def test_a_worker_killed_while_the_inbox_holds_events_loses_and_repeats_nothing(
    osmo: Osmo, crm, env: WorkflowEnvironment
) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    await define(osmo, connector_event_flow("every"))
    every = await flow_instance(osmo, connection_id, "every")
    subscription = add_subscription(osmo, connection_id, connector_event_key="*")
    task_queue = f"osmo-{uuid.uuid4()}"
    address = env.client.service_client.config.target_host
    client = with_converter(env.client, osmo.settings)
    osmo.services.temporal_client = client
    osmo.services.settings.task_queue = task_queue
    count = 40
    # Held before any worker runs: the deliveries are only in the inbox's history.
    for n in range(0, count, 2):
        batch = [thing(f"e{n}"), thing(f"e{n + 1}"), thing(f"e{max(n - 1, 0)}")]  # + a repeat
        await deliver(client, task_queue, subscription, connection_id, delivery(*batch))
    worker = start_worker(osmo, address, task_queue)
    replacement = None
    try:
        await part_way_through(osmo, subscription)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        held = await logged_now(osmo, subscription)
        assert held < count, "the worker finished before it was killed"
        replacement = start_worker(osmo, address, task_queue)
        rows = await logged(osmo, subscription, count, timeout=60)
        assert all(len(r.launched_flow_run_ids) == 1 for r in rows.values())
        assert await runs_of(client, every, count) == count
    finally:
        stop(worker, replacement)


async def logged_now(osmo: Osmo, subscription_id: str) -> int:
    return len(log_rows(osmo, subscription_id))


async def part_way_through(osmo: Osmo, subscription_id: str) -> None:
    """Until the inbox has recorded its first event (up to 12 s)."""
    for _ in range(600):
        if await logged_now(osmo, subscription_id) >= 1:
            return
        await asyncio.sleep(0.02)


async def test_a_polled_subscription_pulls_on_its_timer_and_keeps_the_cursor_after_launching(
    osmo: Osmo, crm, time_skipping_env: WorkflowEnvironment
) -> None:
    connection_id = await hooks_connection(osmo, crm[1])
    # No flow takes these events (logged `no-flows`): the time-skipping server lacks Osmo's
    # search attributes, so it could not start the runs; the other tests start them.
    subscription = add_subscription(
        osmo,
        connection_id,
        "data-record-created",
        collection_key="contacts",
        source="pull-latest-records",
        interval=120,
    )
    pulls: list[PullInput] = []
    recorded_at_pull: list[int] = []

    @activity.defn(name="pull_events")
    async def pull_events(input: PullInput) -> PullOutput:
        """Stands in for activities/event_pulls.py: page n gives record n (created)."""
        recorded_at_pull.append(await logged_now(osmo, subscription))
        pulls.append(input)
        n = len(pulls)
        events = (
            []
            if n == 1
            else [ExternalEvent(id=f"r{n}:t{n}", type="data-record-created", record_id=f"r{n}")]
        )
        return PullOutput(events=events, cursor={"page": n}, complete=True, pull_id=f"p{n}")

    client = time_skipping_env.client
    task_queue = f"osmo-{uuid.uuid4()}"
    settings = osmo.settings.model_copy(update={"task_queue": task_queue})
    activities = build_activities(settings)
    saved: list[tuple[Any, int]] = []

    @activity.defn(name="save_cursor")
    async def save_cursor(subscription_id: str, cursor: Any) -> None:
        """The real one, noting how many events were recorded when the cursor was stored."""
        saved.append((cursor, await logged_now(osmo, subscription)))
        await activities.events.save_cursor(subscription_id, cursor)

    replaced = ("pull_events", "save_cursor")
    methods = [m for m in activities.methods() if getattr(m, "__name__", "") not in replaced]
    try:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            activities=[*methods, pull_events, save_cursor],
        ):
            handle = await client.start_workflow(
                EventInboxWorkflow.run,
                EventInboxInput(subscription, connection_id),
                id=inbox_workflow_id(subscription),
                task_queue=task_queue,
            )
            await time_skipping_env.sleep(1)
            for _ in range(100):
                if pulls:
                    break
                await asyncio.sleep(0.05)
            assert [p.cursor for p in pulls] == [None]  # the first pull at once
            await time_skipping_env.sleep(130)  # one interval (120 s, above the minimum)
            await logged(osmo, subscription, 1)
            assert [p.cursor for p in pulls] == [None, {"page": 1}]
            await handle.signal("pull", {"fullScan": True})
            await logged(osmo, subscription, 2)
            assert pulls[2].full_scan is True and pulls[2].cursor == {"page": 2}
            await handle.signal("stop")
            await handle.result()
            # Started again without a cursor (a delivery after the stop): the row's is used.
            handle = await client.start_workflow(
                EventInboxWorkflow.run,
                EventInboxInput(subscription, connection_id),
                id=inbox_workflow_id(subscription),
                task_queue=task_queue,
            )
            for _ in range(100):
                if len(pulls) == 4:
                    break
                await asyncio.sleep(0.05)
            assert pulls[3].cursor == {"page": 3}
            await logged(osmo, subscription, 3)
            await handle.signal("stop")
            await handle.result()
    finally:
        await activities.aclose()
    with Session(osmo.services.engine) as session:
        row = session.get(EventSubscription, subscription)
        assert row is not None and row.cursor == {"page": 4}
    assert recorded_at_pull == [0, 0, 1, 2]
    # Each cursor stored only once the events of its pull were recorded.
    assert saved == [({"page": 1}, 0), ({"page": 2}, 1), ({"page": 3}, 2), ({"page": 4}, 3)]


def start_temporal(db_file: Path, port: int) -> subprocess.Popen[bytes]:
    """A dev server keeping its state in `db_file`, as `make run` starts it."""
    command = [
        *temporal_command(),
        "--db-filename", str(db_file), "--port", str(port), "--headless",
        "--log-level", "error", *dev_server_args(),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def connect_when_up(address: str, timeout: float = 60) -> Client:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            client = await Client.connect(address)
            await client.count_workflows("WorkflowType = 'EventInbox'")  # the frontend answers
            return client
        except (RuntimeError, RPCError):  # not listening yet, or not serving yet
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.3)


async def test_a_temporal_server_killed_mid_stream_keeps_every_delivery_it_accepted(
    osmo: Osmo, crm, tmp_path: Path
) -> None:
    """kill -9 of the dev server (its database file kept) between two halves of a stream:
    what it accepted before is processed once after it is back, the second half too."""
    [port] = free_ports(1)
    address = f"127.0.0.1:{port}"
    db_file = tmp_path / "temporal.db"
    server = start_temporal(db_file, port)
    worker = None
    try:
        client = with_converter(await connect_when_up(address), osmo.settings)
        osmo.services.temporal_client = client
        task_queue = f"osmo-{uuid.uuid4()}"
        osmo.services.settings.task_queue = task_queue
        connection_id = await hooks_connection(osmo, crm[1])
        await define(osmo, connector_event_flow("every"))
        every = await flow_instance(osmo, connection_id, "every")
        subscription = add_subscription(osmo, connection_id, connector_event_key="*")
        count = 40

        async def send(first: int, last: int) -> None:
            for n in range(first, last, 2):
                batch = [thing(f"e{n}"), thing(f"e{n + 1}"), thing(f"e{max(n - 1, 0)}")]
                await deliver(client, task_queue, subscription, connection_id, delivery(*batch))

        await send(0, count // 2)  # accepted: held in the inbox's history only
        worker = start_worker(osmo, address, task_queue)
        await part_way_through(osmo, subscription)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        assert await logged_now(osmo, subscription) < count
        server = start_temporal(db_file, port)
        client = with_converter(await connect_when_up(address), osmo.settings)
        osmo.services.temporal_client = client
        await send(count // 2, count)  # the worker reconnects by itself
        rows = await logged(osmo, subscription, count, timeout=90)
        assert all(len(r.launched_flow_run_ids) == 1 for r in rows.values())
        assert await runs_of(client, every, count, timeout=30) == count
    finally:
        stop(worker)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)

"""EventSync: a connection's subscriptions follow its enabled flow instances — webhooks
registered with (vendor-shaped fakes of) the apps, rows kept by spec hash with their cursors,
inboxes started and stopped on the dev server — and the workflow coalesces requests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_sync import EventSyncActivities
from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from core.crypto import Encryptor
from core.events.messages import event_sync_workflow_id, inbox_workflow_id
from core.events.models import EventSubscription
from core.settings import Settings
from core.stores.connections import ConnectionStore
from tests.conftest import make_settings
from tests.core.subscription_seed import (
    database,
    delete_connection,
    put_flow,
    rows,
    seed_connection,
    trigger_flow,
)
from tests.fakes import serve
from tests.fakes.webhook_vendors import (
    Asana,
    GitHub,
    Jira,
    Receiver,
    Stripe,
    Vendor,
    VendorTransport,
)
from workflows.event_inbox import EventInboxWorkflow
from workflows.event_sync import EventSyncWorkflow, request_sync

ISSUES = {"collectionKey": "issues", "parameters": {"owner": "octo", "repo": "hello"}}
CLOUD_ID = "0b5c2a38-6b4e-4f8a-9a55-2a1f3c7e9d10"


@dataclass
class World:
    settings: Settings
    engine: Engine
    encryptor: Encryptor
    client: Client
    fakes: dict[str, Vendor]
    receiver: Receiver
    ingress: str
    sync: EventSyncActivities

    def connect(
        self,
        connector: str,
        auth: str,
        inputs: dict[str, Any],
        credentials: dict[str, Any] | None = None,
    ) -> str:
        return seed_connection(
            self.engine, self.encryptor, connector, auth, inputs, credentials=credentials
        )

    def row(self, subscription_id: str) -> EventSubscription:
        with Session(self.engine) as session:
            row = session.get(EventSubscription, subscription_id)
            assert row is not None
            return row

    def secret(self, row: EventSubscription) -> str:
        assert row.webhook_secret_encrypted
        return self.encryptor.decrypt(row.webhook_secret_encrypted)

    async def inbox_status(self, subscription_id: str) -> WorkflowExecutionStatus | None:
        described = await self.client.get_workflow_handle(
            inbox_workflow_id(subscription_id)
        ).describe()
        return described.status

    async def inbox_input(self, subscription_id: str) -> dict[str, Any]:
        handle = self.client.get_workflow_handle(inbox_workflow_id(subscription_id))
        async for event in handle.fetch_history_events():
            attributes = event.workflow_execution_started_event_attributes
            payloads = attributes.input.payloads
            (value,) = await self.client.data_converter.decode(payloads, [dict])
            return dict(value)
        raise AssertionError("no history")


@pytest.fixture
def vendors() -> Iterator[tuple[dict[str, Vendor], Receiver, str]]:
    fakes: dict[str, Vendor] = {
        "github": GitHub(),
        "asana": Asana(),
        "stripe": Stripe(),
        "jira": Jira(),
    }
    receiver = Receiver()
    with ExitStack() as stack:
        for fake in fakes.values():
            fake.base_url = stack.enter_context(serve(fake.app))  # type: ignore[attr-defined]
        yield fakes, receiver, stack.enter_context(serve(receiver.app))


@pytest.fixture
async def world(
    env: WorkflowEnvironment, tmp_path: Path, vendors: tuple[dict[str, Vendor], Receiver, str]
) -> AsyncIterator[World]:
    fakes, receiver, ingress = vendors
    settings = make_settings(
        f"sqlite:///{tmp_path / 'osmo.db'}",
        webhook_public_url=ingress + "/",
        task_queue=f"osmo-{uuid.uuid4()}",
    )
    engine, encryptor = database(settings)
    connections = ConnectionStore(engine, encryptor)
    runtime = ConnectorRuntime(
        ConnectorRegistry(settings.extra_connector_paths),
        connections,
        DatabaseApiLogSink(engine),
        transport=VendorTransport(
            {fake.host: fake.base_url for fake in fakes.values()}  # type: ignore[attr-defined]
        ),
    )
    sync = EventSyncActivities(settings, engine, runtime, connections, encryptor, env.client)
    # The worker's own, as worker.py builds it: its Temporal client is the worker's.
    worker_sync = EventSyncActivities(settings, engine, runtime, connections, encryptor)
    async with Worker(
        env.client,
        task_queue=settings.task_queue,
        workflows=[EventInboxWorkflow, EventSyncWorkflow],
        activities=[worker_sync.sync_connection_events],
    ):
        yield World(settings, engine, encryptor, env.client, fakes, receiver, ingress, sync)
    await runtime.aclose()


async def until_closed(world: World, subscription_id: str) -> None:
    for _ in range(100):
        if await world.inbox_status(subscription_id) != WorkflowExecutionStatus.RUNNING:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"inbox of {subscription_id} still running")


async def test_register_rerun_disable_reenable_delete(world: World) -> None:
    github = world.fakes["github"]
    connection_id = world.connect("github", "personal-access-token", {"token": "ghp_x"})
    flow = trigger_flow("data-record-created-trigger", ISSUES)
    put_flow(world.engine, connection_id, "on-issue", flow)
    # A second instance with the same trigger shares the subscription.
    put_flow(world.engine, connection_id, "also", {**flow, "name": "Also"})

    result = await world.sync.sync(connection_id)
    (row,) = rows(world.engine, connection_id)
    assert result.subscribed == [row.id] and result.errors == {}
    hook = github.only_hook()
    assert row.state == "subscribed" and row.source == "webhook"
    assert row.webhook == {
        "id": hook.id,
        "url": f"{world.ingress}/webhooks/subscriptions/{row.id}",
        "expiresAt": None,
    }
    assert hook.url == row.webhook["url"] and hook.events == ["issues"]
    assert world.secret(row) == hook.secret  # encrypted at rest, what GitHub signs with
    assert hook.secret not in (row.webhook_secret_encrypted or "")
    assert await world.inbox_status(row.id) == WorkflowExecutionStatus.RUNNING

    # Idempotent: a second pass sends nothing to the app and starts no second inbox.
    posts = len([r for r in github.requests if r[0] == "POST"])
    await world.sync.sync(connection_id)
    assert [r.id for r in rows(world.engine, connection_id)] == [row.id]
    assert len([r for r in github.requests if r[0] == "POST"]) == posts
    assert len(github.hooks) == 1

    # The inbox got somewhere; then both instances are disabled.
    with Session(world.engine) as session:
        stored = session.get(EventSubscription, row.id)
        assert stored is not None
        stored.cursor = {"since": "2026-12-01T00:00:00Z"}
        session.add(stored)
        session.commit()
    put_flow(world.engine, connection_id, "on-issue", {**flow, "enabled": False})
    result = await world.sync.sync(connection_id)
    assert result.unsubscribed == [] and len(github.hooks) == 1  # "also" still needs it
    put_flow(world.engine, connection_id, "also", {**flow, "enabled": False})
    result = await world.sync.sync(connection_id)
    assert result.unsubscribed == [row.id]
    off = world.row(row.id)
    assert (off.state, off.webhook, off.webhook_secret_encrypted) == ("unsubscribed", None, None)
    assert off.cursor == {"since": "2026-12-01T00:00:00Z"}
    assert github.hooks == {} and github.deleted == [hook.id]
    await until_closed(world, row.id)

    # Re-enabled: the same row (and cursor), a new registration, the inbox resumes from it.
    put_flow(world.engine, connection_id, "on-issue", flow)
    await world.sync.sync(connection_id)
    on = world.row(row.id)
    assert [r.id for r in rows(world.engine, connection_id)] == [row.id]
    assert on.state == "subscribed" and on.cursor == {"since": "2026-12-01T00:00:00Z"}
    rehook = github.only_hook()
    assert rehook.id != hook.id and on.webhook and on.webhook["id"] == rehook.id
    assert await world.inbox_status(row.id) == WorkflowExecutionStatus.RUNNING
    assert (await world.inbox_input(row.id))["cursor"] == {"since": "2026-12-01T00:00:00Z"}

    # Deleted connection: nothing is desired; every row ends unsubscribed, inboxes stop.
    delete_connection(world.engine, connection_id)
    result = await world.sync.sync(connection_id)
    assert result.unsubscribed == [row.id]
    gone = world.row(row.id)
    assert gone.state == "unsubscribed" and gone.cursor == {"since": "2026-12-01T00:00:00Z"}
    await until_closed(world, row.id)


async def test_registration_failure_is_an_error_with_its_reason_then_retried(
    world: World,
) -> None:
    github = world.fakes["github"]
    github.fail_next.append((403, {"message": "Resource not accessible by integration"}))
    connection_id = world.connect("github", "personal-access-token", {"token": "ghp_x"})
    put_flow(world.engine, connection_id, "f", trigger_flow("data-record-updated-trigger", ISSUES))
    result = await world.sync.sync(connection_id)
    (row,) = rows(world.engine, connection_id)
    assert result.errors == {row.id: row.error_key} and result.subscribed == []
    assert row.state == "error" and row.webhook is None
    assert row.error_key == "bad_request"
    assert "HTTP 403: Resource not accessible" in (row.error_message or "")
    assert result.next_pass_seconds is None  # a refusal waits for the next change
    with pytest.raises(RPCError):  # no inbox was started
        await world.inbox_status(row.id)

    github.fail_next.append((502, {"message": "Server Error"}))
    result = await world.sync.sync(connection_id)
    assert world.row(row.id).error_key == "server_error"
    assert result.next_pass_seconds == 300  # one that may pass is tried again later

    result = await world.sync.sync(connection_id)
    fixed = world.row(row.id)
    assert fixed.state == "subscribed" and (fixed.error_key, fixed.error_message) == (None, None)
    assert fixed.webhook and fixed.webhook["id"] == github.only_hook().id
    assert result.next_pass_seconds is None


async def test_unresolvable_instance_marks_its_subscription(world: World) -> None:
    connection_id = world.connect("github", "personal-access-token", {"token": "ghp_x"})
    flow = trigger_flow("data-record-created-trigger", ISSUES)
    put_flow(world.engine, connection_id, "f", flow)
    await world.sync.sync(connection_id)
    broken = trigger_flow(
        "data-record-created-trigger",
        ISSUES,
        act={"type": "run-action", "config": {"actionKey": "missing"}},
    )
    instance_id = put_flow(world.engine, connection_id, "f", broken)
    result = await world.sync.sync(connection_id)
    (row,) = rows(world.engine, connection_id)
    assert instance_id in result.skipped_flow_instances
    assert row.state == "error" and row.error_key == "flow_instance_unresolved"
    assert instance_id in (row.error_message or "") and "actionKey" in (row.error_message or "")
    assert len(world.fakes["github"].hooks) == 1  # kept: fixing the flow needs no new one


async def test_secrets_the_apps_choose_are_kept(world: World) -> None:
    # Asana hands its secret over in the handshake; the ingress keeps it on the row.
    def store_handshake(subscription_id: str, secret: str) -> None:
        with Session(world.engine) as session:
            row = session.get(EventSubscription, subscription_id)
            assert row is not None
            row.webhook_secret_encrypted = world.encryptor.encrypt(secret)
            session.add(row)
            session.commit()

    world.receiver.on_handshake = store_handshake
    asana_id = world.connect("asana", "personal-access-token", {"accessToken": "1/x"})
    put_flow(
        world.engine,
        asana_id,
        "tasks",
        trigger_flow(
            "data-record-created-trigger",
            {"collectionKey": "tasks", "parameters": {"projectId": "p1"}},
        ),
    )
    await world.sync.sync(asana_id)
    (asana_row,) = rows(world.engine, asana_id)
    hook = world.fakes["asana"].only_hook()
    assert asana_row.state == "subscribed" and world.secret(asana_row) == hook.secret
    assert world.receiver.handshakes == {asana_row.id: hook.secret}

    # Stripe answers with the endpoint's secret.
    stripe_id = world.connect("stripe", "api-key", {"apiKey": "sk_test_abc"})
    put_flow(
        world.engine,
        stripe_id,
        "customers",
        trigger_flow("data-record-deleted-trigger", {"collectionKey": "customers"}),
    )
    await world.sync.sync(stripe_id)
    (stripe_row,) = rows(world.engine, stripe_id)
    endpoint = world.fakes["stripe"].only_hook()
    assert endpoint.events == ["customer.deleted"]
    assert world.secret(stripe_row).startswith("whsec_")
    assert world.secret(stripe_row) == endpoint.secret


async def test_polling_and_app_level_sources_register_nothing(world: World) -> None:
    asana_id = world.connect("asana", "personal-access-token", {"accessToken": "1/x"})
    put_flow(
        world.engine,
        asana_id,
        "users",
        trigger_flow(
            "data-record-created-trigger",
            {"collectionKey": "users", "parameters": {"workspaceId": "w"}},
        ),
    )
    put_flow(
        world.engine,
        asana_id,
        "users-fast",
        trigger_flow(
            "data-record-deleted-trigger",
            {
                "collectionKey": "users",
                "parameters": {"workspaceId": "w"},
                "pullIntervalSeconds": 5,
            },
        ),
    )
    await world.sync.sync(asana_id)
    created, deleted = sorted(rows(world.engine, asana_id), key=lambda r: r.event_type)
    assert (created.source, created.state, created.webhook) == ("full-scan", "subscribed", None)
    assert created.pull_interval_seconds == 3600  # the connector's full-scan interval
    assert deleted.pull_interval_seconds == world.settings.min_poll_seconds  # never below
    assert world.fakes["asana"].requests == []
    assert await world.inbox_status(created.id) == WorkflowExecutionStatus.RUNNING

    hubspot_id = world.connect("hubspot", "private-app", {"accessToken": "pat-x"})
    put_flow(
        world.engine,
        hubspot_id,
        "contacts",
        trigger_flow("data-record-updated-trigger", {"collectionKey": "contacts"}),
    )
    put_flow(
        world.engine,
        hubspot_id,
        "nothing",
        trigger_flow("data-record-updated-trigger", {"collectionKey": "no-such-collection"}),
    )
    result = await world.sync.sync(hubspot_id)
    by_collection = {r.collection_key: r for r in rows(world.engine, hubspot_id)}
    app_level = by_collection["contacts"]
    assert (app_level.source, app_level.state, app_level.webhook) == ("webhook", "subscribed", None)
    unknown = by_collection["no-such-collection"]
    assert unknown.state == "error" and unknown.error_key == "event_source_not_supported"
    assert result.errors == {unknown.id: "event_source_not_supported"}


async def test_expiring_registration_is_refreshed(world: World) -> None:
    jira = world.fakes["jira"]
    token = {"access_token": "jira-token", "token_type": "Bearer"}
    connection_id = world.connect("jira", "oauth2", {"cloudId": CLOUD_ID}, token)
    put_flow(
        world.engine,
        connection_id,
        "issues",
        trigger_flow(
            "data-record-updated-trigger",
            {"collectionKey": "issues", "parameters": {"projectKey": "OSMO"}},
        ),
    )
    result = await world.sync.sync(connection_id)
    (row,) = rows(world.engine, connection_id)
    assert row.webhook and row.webhook["expiresAt"]
    # The next pass is due a week before the 30 days run out.
    assert result.next_pass_seconds is not None
    assert abs(result.next_pass_seconds - 23 * 86400) < 120
    puts = [r for r in jira.requests if r[0] == "PUT"]
    assert puts == []

    soon = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    with Session(world.engine) as session:
        stored = session.get(EventSubscription, row.id)
        assert stored is not None and stored.webhook is not None
        stored.webhook = {**stored.webhook, "expiresAt": soon}
        session.add(stored)
        session.commit()
    result = await world.sync.sync(connection_id)
    refreshed = world.row(row.id)
    assert [r for r in jira.requests if r[0] == "PUT"] != []
    assert refreshed.webhook and refreshed.webhook["id"] == row.webhook["id"]
    expires = datetime.fromisoformat(refreshed.webhook["expiresAt"])
    assert expires > datetime.now(UTC) + timedelta(days=29)
    assert len(jira.hooks) == 1


# -- the workflow ---------------------------------------------------------------------------


async def test_request_sync_runs_a_pass_on_the_worker(world: World) -> None:
    connection_id = world.connect("github", "personal-access-token", {"token": "ghp_x"})
    put_flow(world.engine, connection_id, "f", trigger_flow("data-record-deleted-trigger", ISSUES))
    await request_sync(world.client, world.settings.task_queue, connection_id)
    handle = world.client.get_workflow_handle(event_sync_workflow_id(connection_id))
    await asyncio.wait_for(handle.result(), 20)
    (row,) = rows(world.engine, connection_id)
    assert row.state == "subscribed"
    assert row.webhook and row.webhook["id"] == world.fakes["github"].only_hook().id
    assert await world.inbox_status(row.id) == WorkflowExecutionStatus.RUNNING
    # Nothing secret in the workflow's history: ids and counts only.
    async for event in handle.fetch_history_events():
        assert world.secret(row).encode() not in event.SerializeToString()


async def test_requests_during_a_pass_are_coalesced_into_one_more(
    env: WorkflowEnvironment,
) -> None:
    task_queue = f"sync-{uuid.uuid4()}"
    connection_id = f"c-{uuid.uuid4()}"
    passes: list[str] = []
    first_pass_started = asyncio.Event()
    release = asyncio.Event()

    @activity.defn(name="sync_connection_events")
    async def sync_connection_events(connection: str) -> dict[str, Any]:
        passes.append(connection)
        if len(passes) == 1:
            first_pass_started.set()
            await release.wait()
        return {"next_pass_seconds": None}

    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[EventSyncWorkflow],
        activities=[sync_connection_events],
    ):
        await request_sync(env.client, task_queue, connection_id)
        await asyncio.wait_for(first_pass_started.wait(), 10)
        for _ in range(5):
            await request_sync(env.client, task_queue, connection_id)
        release.set()
        handle = env.client.get_workflow_handle(event_sync_workflow_id(connection_id))
        await asyncio.wait_for(handle.result(), 10)
        assert passes == [connection_id, connection_id]
        # Ended: the next change starts it again.
        await request_sync(env.client, task_queue, connection_id)
        await asyncio.wait_for(
            env.client.get_workflow_handle(event_sync_workflow_id(connection_id)).result(), 10
        )
        assert len(passes) == 3


async def test_a_due_refresh_waits_on_a_durable_timer(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    task_queue = f"sync-{uuid.uuid4()}"
    answers: list[dict[str, Any]] = [{"next_pass_seconds": 20 * 86400}, {"next_pass_seconds": None}]
    passes: list[str] = []

    @activity.defn(name="sync_connection_events")
    async def sync_connection_events(connection: str) -> dict[str, Any]:
        passes.append(connection)
        return answers[len(passes) - 1]

    client = time_skipping_env.client
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[EventSyncWorkflow],
        activities=[sync_connection_events],
    ):
        started = await client.start_workflow(
            EventSyncWorkflow.run,
            "c1",
            id=f"event-sync-{uuid.uuid4()}",
            task_queue=task_queue,
            start_signal="sync",
        )
        await started.result()
    assert passes == ["c1", "c1"]

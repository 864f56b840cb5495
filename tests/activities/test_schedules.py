"""`sync_flow_schedule` against the dev server (`env`): the time-skipping server has no schedules.

Each test uses its own flow instance id (so its own schedule) and deletes what it created.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlmodel import Session
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Schedule,
    ScheduleAction,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleOverlapPolicy,
    ScheduleRange,
    ScheduleSpec,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities import schedules
from activities.event_sync import EventSyncActivities
from activities.schedules import sync_flow_schedule
from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from core.blobs import with_converter
from core.elements.models import Element
from core.elements.snapshots import FlowSnapshot
from core.errors import OsmoError
from core.events.messages import schedule_id
from core.stores.connections import ConnectionStore
from tests.conftest import Osmo, make_settings
from tests.core.subscription_seed import database, put_flow, seed_connection, trigger_flow
from tests.workflows.flow_fixtures import flow_worker, node
from workflows import search_attributes as sa

CRON = {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris", "overlap": "buffer-one"}
FAST = {"intervalSeconds": 1}
"""Test-only: the node schema asks for at least 60 s; the function takes what it is given."""


def snapshot(
    flow_instance_id: str, trigger: dict[str, Any] | None = None, connection_id: str | None = None
) -> FlowSnapshot:
    return FlowSnapshot(
        flow_key="nightly",
        flow_instance_id=flow_instance_id,
        nodes={
            "start": {
                "type": "schedule-trigger",
                "config": trigger or CRON,
                "links": [{"key": "due"}],
            },
            "due": {
                "type": "transform-data",
                "config": {"value": {"due": {"$var": "input.start.scheduledTime"}}},
            },
        },
        connection_id=connection_id,
        customer_id="customer-schedules",
        integration_key="crm",
        revision=3,
        tenant_key="acme",
    )


@pytest.fixture
async def client(sqlite_url: str, env: WorkflowEnvironment) -> Client:
    """A client with Osmo's data converter, as the sync activity has."""
    return with_converter(env.client, make_settings(sqlite_url))


@pytest.fixture
async def instance(client: Client) -> AsyncIterator[str]:
    """A fresh flow instance id; its schedule is deleted afterwards."""
    flow_instance_id = f"fi-{uuid.uuid4().hex[:12]}"
    yield flow_instance_id
    with contextlib.suppress(RPCError):
        await client.get_schedule_handle(schedule_id(flow_instance_id)).delete()


async def described(client: Client, flow_instance_id: str) -> ScheduleDescription:
    return await client.get_schedule_handle(schedule_id(flow_instance_id)).describe()


def payloads(action: ScheduleAction) -> list[Payload]:
    """The action's input as Temporal keeps it."""
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert all(isinstance(arg, Payload) for arg in action.args)
    return [arg for arg in action.args if isinstance(arg, Payload)]


async def decoded_input(client: Client, action: ScheduleAction) -> dict[str, Any]:
    """The `FlowRunInput` the action starts runs with, as JSON."""
    [value] = await client.data_converter.decode(payloads(action), [dict])
    return dict(value)


async def finished_as_admin(osmo: Osmo, run_id: str) -> dict[str, Any]:
    for _ in range(300):
        run = (await osmo.call("GET", f"/flow-runs/{run_id}", admin=True)).json()
        if run.get("state") not in ("running", "queued"):
            return dict(run)
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish: {run}")


async def sync(
    client: Client,
    flow_instance_id: str,
    trigger: dict[str, Any] | None,
    enabled: bool = True,
    task_queue: str = "osmo-schedules-test",
) -> None:
    shot = snapshot(flow_instance_id, trigger) if trigger is not None else None
    await sync_flow_schedule(client, task_queue, flow_instance_id, shot, trigger, enabled)


async def test_create_sets_the_cron_time_zone_overlap_and_action(
    client: Client, instance: str
) -> None:
    await sync(client, instance, {**CRON, "catchupWindowSeconds": 600})
    description = await described(client, instance)
    spec = description.schedule.spec
    [calendar] = spec.calendars  # Temporal keeps a cron as a calendar
    assert calendar.minute == (ScheduleRange(0),)
    assert calendar.hour == (ScheduleRange(9),)
    assert calendar.day_of_week == (ScheduleRange(1, 5),)
    assert spec.time_zone_name == "Europe/Paris"
    assert spec.intervals == []
    policy = description.schedule.policy
    assert policy.overlap == ScheduleOverlapPolicy.BUFFER_ONE
    assert policy.catchup_window == timedelta(seconds=600)
    assert description.schedule.state.paused is False
    action = description.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "FlowRun"
    assert action.id == f"flow-run-schedule-{instance}"
    assert action.task_queue == "osmo-schedules-test"
    attributes = action.typed_search_attributes
    assert attributes.get(sa.FLOW_INSTANCE_ID) == instance
    assert attributes.get(sa.FLOW_KEY) == "nightly"
    assert attributes.get(sa.TRIGGER_TYPE) == "schedule-trigger"
    assert attributes.get(sa.CUSTOMER_ID) == "customer-schedules"
    assert attributes.get(sa.INTEGRATION_KEY) == "crm"
    # The snapshot travels encrypted, like every payload Osmo sends to Temporal.
    run_input = await decoded_input(client, action)
    assert all(b"nightly" not in payload.data for payload in payloads(action))
    assert run_input["trigger_type"] == "schedule-trigger"
    assert run_input["launched_by"] == {"type": "schedule", "scheduleId": schedule_id(instance)}
    assert run_input["snapshot"]["revision"] == 3


async def test_defaults_are_skip_and_five_minutes_in_utc(client: Client, instance: str) -> None:
    await sync(client, instance, {"cron": "@daily"})
    description = await described(client, instance)
    assert description.schedule.spec.time_zone_name == "UTC"
    assert description.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert description.schedule.policy.catchup_window == timedelta(seconds=300)


async def test_a_scheduled_run_completes_with_its_scheduled_time_and_launched_by(
    osmo_sqlite: Osmo, env: WorkflowEnvironment, instance: str
) -> None:
    async with flow_worker(osmo_sqlite, env) as settings:
        client = osmo_sqlite.services.temporal_client
        assert client is not None
        await sync_flow_schedule(
            client, settings.task_queue, instance, snapshot(instance, FAST), FAST, True
        )
        handle = client.get_schedule_handle(schedule_id(instance))
        for _ in range(100):
            actions = (await handle.describe()).info.recent_actions
            if actions:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the schedule never fired")
        await sync(client, instance, None)  # deleted: no more runs
        first = actions[0]
        assert isinstance(first.action, ScheduleActionExecutionStartWorkflow)
        run_id = first.action.workflow_id
        assert first.started_at - first.scheduled_at < timedelta(seconds=3)  # on time
        assert run_id.startswith(f"flow-run-schedule-{instance}-")
        run = await finished_as_admin(osmo_sqlite, run_id)
        # A re-run from the start keeps the time of the run it re-runs.
        rerun = await osmo_sqlite.call(
            "POST", f"/flow-runs/{run_id}/rerun", admin=True, json={"from": "start"}
        )
        assert rerun.status_code == 201, rerun.text
        rerun_run = await finished_as_admin(osmo_sqlite, rerun.json()["id"])
    due = first.scheduled_at.astimezone(UTC).isoformat()
    assert run["state"] == "completed", run
    assert run["input"] == {"scheduledTime": due}
    assert run["launchedBy"] == {"type": "schedule", "scheduleId": schedule_id(instance)}
    assert run["triggerType"] == "schedule-trigger"
    assert run["flowInstanceId"] == instance
    assert node(run, "start")["outputs"] == [{"scheduledTime": due}]
    assert node(run, "due")["outputs"] == [{"due": due}]
    assert rerun_run["state"] == "completed", rerun_run
    assert rerun_run["input"] == {"scheduledTime": due}
    assert node(rerun_run, "due")["outputs"] == [{"due": due}]


async def test_update_changes_the_spec(client: Client, instance: str) -> None:
    await sync(client, instance, CRON)
    await sync(client, instance, {"cron": "30 18 * * *", "timezone": "America/New_York"})
    spec = (await described(client, instance)).schedule.spec
    [calendar] = spec.calendars
    assert (calendar.hour, calendar.minute) == ((ScheduleRange(18),), (ScheduleRange(30),))
    assert spec.time_zone_name == "America/New_York"
    await sync(client, instance, {"intervalSeconds": 3600, "overlap": "allow-all"})
    description = await described(client, instance)
    assert description.schedule.spec.calendars == []
    assert [i.every for i in description.schedule.spec.intervals] == [timedelta(hours=1)]
    assert description.schedule.policy.overlap == ScheduleOverlapPolicy.ALLOW_ALL


async def test_a_changed_snapshot_updates_the_action(client: Client, instance: str) -> None:
    await sync(client, instance, CRON)
    changed = FlowSnapshot(**{**snapshot(instance).__dict__, "revision": 4})
    await sync_flow_schedule(client, "osmo-schedules-test", instance, changed, CRON, True)
    run_input = await decoded_input(client, (await described(client, instance)).schedule.action)
    assert run_input["snapshot"]["revision"] == 4


async def test_disable_pauses_so_no_runs_start_and_enable_resumes(
    client: Client, instance: str
) -> None:
    await sync(client, instance, FAST)
    await sync(client, instance, FAST, enabled=False)
    paused = await described(client, instance)
    assert paused.schedule.state.paused is True
    assert paused.schedule.state.note == schedules.PAUSED_NOTE
    await asyncio.sleep(2.5)  # more than two intervals
    later = await described(client, instance)
    assert later.info.num_actions == paused.info.num_actions
    await sync(client, instance, FAST, enabled=True)
    assert (await described(client, instance)).schedule.state.paused is False


async def test_a_disabled_instance_without_a_schedule_gets_none(
    client: Client, instance: str
) -> None:
    await sync(client, instance, CRON, enabled=False)
    with pytest.raises(RPCError) as missing:
        await described(client, instance)
    assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_delete_removes_the_schedule_and_again_is_fine(client: Client, instance: str) -> None:
    await sync(client, instance, CRON)
    await sync(client, instance, None)
    with pytest.raises(RPCError) as missing:
        await described(client, instance)
    assert missing.value.status == RPCStatusCode.NOT_FOUND
    await sync(client, instance, None)  # already gone: nothing to do, no error
    # A snapshot without a schedule trigger (the flow's trigger changed) deletes it too.
    await sync(client, instance, CRON)
    await sync_flow_schedule(
        client, "osmo-schedules-test", instance, snapshot(instance), None, True
    )
    with pytest.raises(RPCError):
        await described(client, instance)


async def test_a_second_sync_with_the_same_trigger_changes_nothing(
    client: Client, instance: str
) -> None:
    await sync(client, instance, CRON)
    created = await described(client, instance)
    await sync(client, instance, CRON)
    await sync(client, instance, dict(CRON))
    again = await described(client, instance)
    assert again.info.last_updated_at == created.info.last_updated_at is None
    await sync(client, instance, CRON, enabled=False)
    paused = await described(client, instance)
    assert paused.info.last_updated_at is not None
    await sync(client, instance, CRON, enabled=False)
    assert (await described(client, instance)).info.last_updated_at == paused.info.last_updated_at


@pytest.mark.parametrize(
    ("trigger", "path"),
    [
        ({"cron": "61 * * * *"}, "config.cron"),
        ({"cron": "0 9 * *"}, "config.cron"),
        ({"cron": "0 9 * * 1", "timezone": "Mars/Olympus"}, "config.timezone"),
    ],
)
async def test_an_invalid_trigger_is_a_clear_error_and_creates_nothing(
    client: Client, instance: str, trigger: dict[str, Any], path: str
) -> None:
    with pytest.raises(OsmoError) as raised:
        await sync(client, instance, trigger)
    error = raised.value
    assert error.key == "invalid_schedule"
    assert error.data["path"] == path
    assert error.data["scheduleId"] == schedule_id(instance)
    with pytest.raises(RPCError):
        await described(client, instance)
    await sync(client, instance, trigger, enabled=False)  # disabled: nothing to report


async def test_an_invalid_trigger_on_a_disabled_instance_pauses_what_exists(
    client: Client, instance: str
) -> None:
    await sync(client, instance, CRON)
    await sync(client, instance, {"cron": "99 * * * *"}, enabled=False)
    state = (await described(client, instance)).schedule.state
    assert state.paused is True
    assert state.note == schedules.PAUSED_NOTE
    with pytest.raises(OsmoError):  # enabled again with the bad trigger: the sync reports it
        await sync(client, instance, {"cron": "99 * * * *"})


async def test_the_save_time_cron_check_agrees_with_temporal(
    env: WorkflowEnvironment, instance: str
) -> None:
    """What core/events/schedules.py accepts Temporal accepts, and what it refuses Temporal
    refuses too (so the check never blocks a schedule Temporal would take, nor lets through
    one it would not)."""
    from core.events.schedules import cron_problem

    action = ScheduleActionStartWorkflow("FlowRun", id=f"never-{instance}", task_queue="none")
    accepted = ["0 9 * * 1-5", "*/15 * * * *", "0 0 1 jan,jul *", "5 4 * * sun", "@hourly",
                "0 0-12/3 * * MON-FRI", "0 0 * * 7"]  # fmt: skip
    refused = ["60 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 * 13 *", "0 0 * * 8", "0 0 * * xyz"]
    for number, cron in enumerate(accepted + refused):
        handle_id = f"{schedule_id(instance)}-check-{number}"
        ours = cron_problem(cron)
        try:
            created = await env.client.create_schedule(
                handle_id,
                Schedule(action=action, spec=ScheduleSpec(cron_expressions=[cron])),
            )
        except RPCError as exc:
            assert exc.status == RPCStatusCode.INVALID_ARGUMENT, cron
            assert ours is not None and cron in refused, f"Temporal refused {cron!r}: {exc}"
        else:
            await created.delete()
            assert ours is None and cron in accepted, f"Temporal accepted {cron!r}: {ours}"


async def test_saving_a_flow_with_a_bad_cron_is_a_422(osmo_sqlite: Osmo) -> None:
    flow = {
        "key": "bad-schedule",
        "name": "Bad schedule",
        "nodes": {
            "start": {
                "type": "schedule-trigger",
                "config": {"cron": "0 25 * * *", "timezone": "Nowhere/City"},
            }
        },
    }
    response = await osmo_sqlite.call("POST", "/flows", json=flow)
    assert response.status_code == 422, response.text
    paths = {e["path"] for e in response.json()["data"]["errors"]}
    assert {"nodes.start.config.cron", "nodes.start.config.timezone"} <= paths
    both = {"cron": "0 9 * * *", "intervalSeconds": 3600}
    flow_both = {**flow, "nodes": {"start": {"type": "schedule-trigger", "config": both}}}
    response = await osmo_sqlite.call("POST", "/flows", json=flow_both)
    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["data"]["errors"]] == [
        "nodes.start.config.intervalSeconds"
    ]
    good = {**flow, "nodes": {"start": {"type": "schedule-trigger", "config": CRON}}}
    assert (await osmo_sqlite.call("POST", "/flows", json=good)).status_code == 201


def test_search_attribute_names_match_the_workflows() -> None:
    """activities/ may not import workflows/, so it names the attributes itself."""
    assert {
        schedules.CUSTOMER_ID,
        schedules.INTEGRATION_KEY,
        schedules.CONNECTION_ID,
        schedules.FLOW_KEY,
        schedules.FLOW_INSTANCE_ID,
        schedules.TRIGGER_TYPE_ATTRIBUTE,
        schedules.WAITS_FOR_APP_EVENTS,
    } == set(sa.ALL)


def test_runs_of_a_flow_waiting_for_app_events_are_marked() -> None:
    plain = snapshot("fi-plain")
    assert (
        schedules.flow_run_attributes(plain, "schedule-trigger").get(sa.WAITS_FOR_APP_EVENTS)
        is None
    )
    waiting = FlowSnapshot(
        **{
            **plain.__dict__,
            "nodes": {
                **plain.nodes,
                "wait": {"type": "wait-for-event", "config": {"appEventType": "task-created"}},
            },
        }
    )
    attributes = schedules.flow_run_attributes(waiting, "schedule-trigger")
    assert attributes.get(sa.WAITS_FOR_APP_EVENTS) == "true"


async def test_a_connections_schedules_are_listed_so_the_sync_can_delete_the_rest(
    client: Client, instance: str
) -> None:
    connection_id, other = f"conn-{uuid.uuid4().hex[:8]}", f"conn-{uuid.uuid4().hex[:8]}"
    second = f"{instance}-2"
    for flow_instance_id, connection in ((instance, connection_id), (second, other)):
        shot = snapshot(flow_instance_id, CRON, connection)
        await sync_flow_schedule(client, "osmo-schedules-test", flow_instance_id, shot, CRON, True)
    try:
        listed: list[str] = []
        for _ in range(50):  # visibility follows within a moment
            listed = await schedules.scheduled_flow_instances(client, connection_id)
            if listed:
                break
            await asyncio.sleep(0.1)
        assert listed == [instance]
        assert await schedules.scheduled_flow_instances(client, "conn-none") == []
        description = await described(client, instance)
        assert description.typed_search_attributes.get(sa.CONNECTION_ID) == connection_id
        assert description.typed_search_attributes.get(sa.FLOW_INSTANCE_ID) == instance
    finally:
        await sync(client, second, None)


async def test_the_event_sync_creates_pauses_and_updates_an_instances_schedule(
    env: WorkflowEnvironment, sqlite_url: str
) -> None:
    """Through `EventSyncActivities.sync` (activities/event_sync.py) as the worker runs it."""
    settings = make_settings(sqlite_url, task_queue=f"osmo-{uuid.uuid4()}")
    engine, encryptor = database(settings)
    connections = ConnectionStore(engine, encryptor)
    runtime = ConnectorRuntime(
        ConnectorRegistry(settings.extra_connector_paths), connections, DatabaseApiLogSink(engine)
    )
    client = with_converter(env.client, settings)
    sync_activities = EventSyncActivities(settings, engine, runtime, connections, encryptor, client)
    connection_id = seed_connection(
        engine, encryptor, "github", "personal-access-token", {"token": "ghp_x"}
    )
    instance = put_flow(engine, connection_id, "daily", trigger_flow("schedule-trigger", CRON))
    try:
        result = await sync_activities.sync(connection_id)
        assert result.schedules == [instance]
        description = await described(client, instance)
        assert description.schedule.spec.time_zone_name == "Europe/Paris"
        assert description.schedule.state.paused is False
        assert description.typed_search_attributes.get(sa.CONNECTION_ID) == connection_id
        disabled = trigger_flow("schedule-trigger", CRON, enabled=False)
        put_flow(engine, connection_id, "daily", disabled)
        await sync_activities.sync(connection_id)
        assert (await described(client, instance)).schedule.state.paused is True
        put_flow(
            engine, connection_id, "daily", trigger_flow("schedule-trigger", {"cron": "@hourly"})
        )
        await sync_activities.sync(connection_id)
        description = await described(client, instance)
        assert description.schedule.state.paused is False
        assert description.schedule.spec.time_zone_name == "UTC"
        with Session(engine) as session:  # the flow instance is deleted
            session.delete(session.get(Element, instance))
            session.commit()
        for _ in range(50):  # the sync finds the schedule by visibility, a moment behind
            await sync_activities.sync(connection_id)
            try:
                await described(client, instance)
            except RPCError as exc:
                assert exc.status == RPCStatusCode.NOT_FOUND
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the schedule of the deleted instance is still there")
    finally:
        await sync(client, instance, None)
        await runtime.aclose()
        engine.dispose()

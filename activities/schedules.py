"""A flow instance's `schedule-trigger` as a Temporal Schedule (docs/schedules.md).

`sync_flow_schedule` is what the event sync (`EventSync`, activities) calls for each flow
instance of a connection: it creates, updates, pauses or deletes the schedule
`schedule_id(flow_instance_id)` so it matches the instance's resolved snapshot and trigger. It
is idempotent: the schedule's action carries a fingerprint of everything Osmo sets (memo
`osmoSchedule`), and a pass that finds the same fingerprint and pause state changes nothing.

The schedule's action starts `FlowRun` with the snapshot resolved at sync time, trigger type
`schedule-trigger`, `launchedBy` `{type: schedule, scheduleId}`, and the search attributes an
API-started run gets; the run's input (`{scheduledTime}`) is filled in by the run itself from
the `TemporalScheduledStartTime` search attribute (workflows/schedule_input.py).

This layer may not import workflows/: the workflow is named by its type (`FlowRun`), its input
written as the JSON `FlowRunInput` decodes from, and the search attributes by name (a test
keeps them in step with workflows/search_attributes.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from core import patches
from core.elements.snapshots import FlowSnapshot
from core.errors import OsmoError
from core.events.messages import schedule_id
from core.events.schedules import (
    DEFAULT_CATCHUP_WINDOW_SECONDS,
    DEFAULT_OVERLAP,
    DEFAULT_TIMEZONE,
    schedule_problems,
)

log = logging.getLogger(__name__)

FLOW_RUN_WORKFLOW = "FlowRun"
TRIGGER_TYPE = "schedule-trigger"
FINGERPRINT_MEMO = "osmoSchedule"
"""Memo key of the action: the fingerprint of what Osmo set, to tell when a pass changes it."""
SCHEDULE_ID_PREFIX = schedule_id("")
PAUSED_NOTE = "Paused by Osmo: the flow instance is disabled"

OVERLAP = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer-one": ScheduleOverlapPolicy.BUFFER_ONE,
    "buffer-all": ScheduleOverlapPolicy.BUFFER_ALL,
    "cancel-other": ScheduleOverlapPolicy.CANCEL_OTHER,
    "allow-all": ScheduleOverlapPolicy.ALLOW_ALL,
}
"""`schedule-trigger` `overlap` → Temporal's overlap policy."""

# The names of workflows/search_attributes.py (tests/activities/test_schedules.py checks them).
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
INTEGRATION_KEY = SearchAttributeKey.for_keyword("IntegrationKey")
CONNECTION_ID = SearchAttributeKey.for_keyword("ConnectionId")
FLOW_KEY = SearchAttributeKey.for_keyword("FlowKey")
FLOW_INSTANCE_ID = SearchAttributeKey.for_keyword("FlowInstanceId")
TRIGGER_TYPE_ATTRIBUTE = SearchAttributeKey.for_keyword("TriggerType")
WAITS_FOR_APP_EVENTS = SearchAttributeKey.for_keyword("WaitsForAppEvents")


def invalid_schedule(flow_instance_id: str, field: str, message: str) -> OsmoError:
    """The error a sync records for a trigger Temporal cannot schedule."""
    return OsmoError(
        "bad_request",
        "invalid_schedule",
        f"schedule-trigger {field}: {message}",
        {
            "flowInstanceId": flow_instance_id,
            "scheduleId": schedule_id(flow_instance_id),
            "path": f"config.{field}",
        },
        status=422,
    )


def flow_run_workflow_id(flow_instance_id: str) -> str:
    """The id of the schedule's action; Temporal appends the due time to it for each run
    (`flow-run-schedule-<instance>-2026-01-05T09:00:00Z`)."""
    return f"flow-run-schedule-{flow_instance_id}"


def waits_for_app_events(snapshot: FlowSnapshot) -> bool:
    """Whether a `wait-for-event` node of the flow takes app events."""
    return any(
        node.get("type") == "wait-for-event" and (node.get("config") or {}).get("appEventType")
        for node in snapshot.nodes.values()
    )


def flow_run_attributes(snapshot: FlowSnapshot, trigger_type: str) -> TypedSearchAttributes:
    """The search attributes of a flow run of `snapshot`, as an API-started run has them."""
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(key, value)
        for key, value in (
            (FLOW_KEY, snapshot.flow_key),
            (FLOW_INSTANCE_ID, snapshot.flow_instance_id),
            (TRIGGER_TYPE_ATTRIBUTE, trigger_type),
            (CUSTOMER_ID, snapshot.customer_id),
            (CONNECTION_ID, snapshot.connection_id),
            (INTEGRATION_KEY, snapshot.integration_key),
            (WAITS_FOR_APP_EVENTS, "true" if waits_for_app_events(snapshot) else None),
        )
        if value
    ]
    return TypedSearchAttributes(pairs)


def schedule_attributes(snapshot: FlowSnapshot) -> TypedSearchAttributes:
    """The schedule's own search attributes: `scheduled_flow_instances` finds a connection's
    schedules by them (those of instances deleted since are deleted by the sync)."""
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(key, value)
        for key, value in (
            (FLOW_KEY, snapshot.flow_key),
            (FLOW_INSTANCE_ID, snapshot.flow_instance_id),
            (CUSTOMER_ID, snapshot.customer_id),
            (CONNECTION_ID, snapshot.connection_id),
        )
        if value
    ]
    return TypedSearchAttributes(pairs)


async def scheduled_flow_instances(client: Client, connection_id: str) -> list[str]:
    """The flow instances of the connection that have a schedule (visibility: a schedule
    created a moment ago may be missing, one deleted a moment ago may still be listed)."""
    quoted = connection_id.replace("\\", "\\\\").replace("'", "\\'")
    found: list[str] = []
    async for listed in await client.list_schedules(query=f"ConnectionId = '{quoted}'"):
        if listed.id.startswith(SCHEDULE_ID_PREFIX):
            found.append(listed.id.removeprefix(SCHEDULE_ID_PREFIX))
    return sorted(found)


def schedule_spec(config: dict[str, Any]) -> ScheduleSpec:
    """When the trigger fires: its cron (in its time zone) or its interval."""
    timezone = config.get("timezone") or DEFAULT_TIMEZONE
    if config.get("cron"):
        return ScheduleSpec(cron_expressions=[str(config["cron"]).strip()], time_zone_name=timezone)
    every = timedelta(seconds=int(config["intervalSeconds"]))
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)], time_zone_name=timezone)


def schedule_policy(config: dict[str, Any]) -> SchedulePolicy:
    return SchedulePolicy(
        overlap=OVERLAP[config.get("overlap") or DEFAULT_OVERLAP],
        catchup_window=timedelta(
            seconds=int(config.get("catchupWindowSeconds") or DEFAULT_CATCHUP_WINDOW_SECONDS)
        ),
    )


def flow_run_input(
    flow_instance_id: str, snapshot: FlowSnapshot, history_limit: int | None
) -> dict[str, Any]:
    """The `FlowRunInput` (workflows/flow_state.py) each scheduled run starts with, as JSON."""
    value: dict[str, Any] = {
        "snapshot": asdict(snapshot),
        "input": None,
        "start_node_key": None,
        "trigger_type": TRIGGER_TYPE,
        "launched_by": {"type": "schedule", "scheduleId": schedule_id(flow_instance_id)},
        "built_in_patches": list(patches.BUILT_IN),
    }
    if history_limit is not None:
        value["history_limit"] = history_limit
    return value


def _fingerprint(task_queue: str, run_input: dict[str, Any], config: dict[str, Any]) -> str:
    canonical = json.dumps(
        {
            "taskQueue": task_queue,
            "input": run_input,
            "trigger": {
                "cron": config.get("cron"),
                "intervalSeconds": config.get("intervalSeconds"),
                "timezone": config.get("timezone") or DEFAULT_TIMEZONE,
                "overlap": config.get("overlap") or DEFAULT_OVERLAP,
                "catchupWindowSeconds": config.get("catchupWindowSeconds")
                or DEFAULT_CATCHUP_WINDOW_SECONDS,
            },
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_schedule(
    task_queue: str,
    snapshot: FlowSnapshot,
    config: dict[str, Any],
    *,
    paused: bool,
    history_limit: int | None = None,
) -> Schedule:
    """The Temporal Schedule of a flow instance's `schedule-trigger` `config`."""
    flow_instance_id = snapshot.flow_instance_id
    run_input = flow_run_input(flow_instance_id, snapshot, history_limit)
    action = ScheduleActionStartWorkflow(
        FLOW_RUN_WORKFLOW,
        run_input,
        id=flow_run_workflow_id(flow_instance_id),
        task_queue=task_queue,
        memo={FINGERPRINT_MEMO: _fingerprint(task_queue, run_input, config)},
        typed_search_attributes=flow_run_attributes(snapshot, TRIGGER_TYPE),
        static_summary=f"Flow {snapshot.flow_key} (schedule)",
    )
    return Schedule(
        action=action,
        spec=schedule_spec(config),
        policy=schedule_policy(config),
        state=ScheduleState(paused=paused, note=PAUSED_NOTE if paused else None),
    )


async def _fingerprint_of(client: Client, schedule: Schedule) -> str | None:
    action = schedule.action
    if not isinstance(action, ScheduleActionStartWorkflow) or not action.memo:
        return None
    raw = action.memo.get(FINGERPRINT_MEMO)
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw
    [value] = await client.data_converter.decode([raw], [str])
    return str(value)


def _is(exc: RPCError, status: RPCStatusCode) -> bool:
    return exc.status == status


async def _delete(handle: ScheduleHandle) -> None:
    try:
        await handle.delete()
    except RPCError as exc:
        if not _is(exc, RPCStatusCode.NOT_FOUND):
            raise


async def _pause(handle: ScheduleHandle) -> None:
    try:
        await handle.pause(note=PAUSED_NOTE)
    except RPCError as exc:
        if not _is(exc, RPCStatusCode.NOT_FOUND):
            raise


def _rejected(flow_instance_id: str, exc: RPCError) -> OsmoError:
    """Temporal refused the spec (a cron or time zone the checks above let through)."""
    return invalid_schedule(flow_instance_id, "spec", exc.message)


async def sync_flow_schedule(
    client: Client,
    task_queue: str,
    flow_instance_id: str,
    snapshot: FlowSnapshot | None,
    trigger_config: dict[str, Any] | None,
    enabled: bool,
    *,
    history_limit: int | None = None,
) -> None:
    """Brings the flow instance's Temporal Schedule in line with its trigger.

    Args:
        client: A client with Osmo's data converter (the action's input is encrypted with it).
        task_queue: The worker's task queue, where the scheduled runs start.
        flow_instance_id: The flow instance; the schedule is `schedule_id(flow_instance_id)`.
        snapshot: The instance resolved now; None when the instance is gone (or its connection
            is): the schedule is deleted.
        trigger_config: The `schedule-trigger` node's config; None when the flow's trigger is
            not a schedule (any more): the schedule is deleted.
        enabled: Whether the instance is enabled. Disabled: an existing schedule is updated
            and paused; a missing one is not created (nothing would run).
        history_limit: `FlowRunInput.history_limit` of the runs (the workspace's
            `flow_history_limit`); None: the run's default.

    Raises:
        OsmoError: `invalid_schedule` when the cron expression or time zone is not valid.
    """
    handle = client.get_schedule_handle(schedule_id(flow_instance_id))
    if snapshot is None or trigger_config is None:
        await _delete(handle)
        return
    problems = schedule_problems(trigger_config)
    if problems and not enabled:  # nothing will run: keep what exists paused, say nothing
        await _pause(handle)
        return
    if problems:
        raise invalid_schedule(flow_instance_id, *problems[0])
    desired = build_schedule(
        task_queue, snapshot, trigger_config, paused=not enabled, history_limit=history_limit
    )
    try:
        current = (await handle.describe()).schedule
    except RPCError as exc:
        if not _is(exc, RPCStatusCode.NOT_FOUND):
            raise
        current = None
    if current is None:
        if not enabled:
            return
        try:
            await client.create_schedule(
                handle.id, desired, search_attributes=schedule_attributes(snapshot)
            )
            log.info("schedule created", extra={"scheduleId": handle.id})
            return
        except ScheduleAlreadyRunningError:
            pass  # created since the describe: bring it in line below
        except RPCError as exc:
            if _is(exc, RPCStatusCode.INVALID_ARGUMENT):
                raise _rejected(flow_instance_id, exc) from exc
            raise
    wanted = await _fingerprint_of(client, desired)

    async def update(given: ScheduleUpdateInput) -> ScheduleUpdate | None:
        schedule = given.description.schedule
        same = await _fingerprint_of(client, schedule) == wanted
        if same and schedule.state.paused == desired.state.paused:
            return None  # nothing to change: no update is sent
        return ScheduleUpdate(desired, search_attributes=schedule_attributes(snapshot))

    try:
        await handle.update(update)
    except RPCError as exc:
        if _is(exc, RPCStatusCode.INVALID_ARGUMENT):
            raise _rejected(flow_instance_id, exc) from exc
        raise

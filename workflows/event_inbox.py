"""`EventInbox`: one long-lived workflow per active event subscription (docs/events.md).

CONTRACT (the ingress and the sync depend on it):
- id `core.events.messages.inbox_workflow_id(subscription_id)`, task queue: Osmo's.
- input `EventInboxInput`; signal `delivery` (`WebhookDelivery`), signal `pull`
  (`{"fullScan": bool}`), signal `stop` (no argument: drain and finish); query `state`.
- `deliver()` below is how the API hands a delivery over: signal-with-start, so the first
  delivery starts the inbox and the answer to the app waits until Temporal accepted it.

The loop, everything in workflow state (so it survives a worker crash, a server restart and
continue-as-new, which carries it over):
1. deliveries taken in (up to `DELIVERY_BATCH` at once) → activity `parse_deliveries` →
   events; an event whose id is in `seen` (the last `dedupWindow` ids, oldest dropped first) or
   already pending is dropped;
2. pending events (up to `EVENT_BATCH` at once) → activity `launch_events` (event log row and
   flow runs, idempotent) → their ids join `seen`;
3. polled subscriptions (`pull-latest-records`, `full-scan`): a durable timer (the wait for
   signals times out at `next_pull_at`), or a `pull` signal → activity `pull_events` → its
   events launched → activity `save_cursor` → the cursor kept; a pull that fails keeps the
   cursor and tries again at the next interval.
4. `stop`: the work taken in is finished, then the workflow ends.
Activities retry a bounded number of times (`RETRY`); a step still failing keeps what it holds
and is tried again `STEP_BACKOFF` later (a durable timer), so nothing taken in is dropped.
Continue-as-new past `history_limit` events or when Temporal suggests it, carrying `seen`,
the pending deliveries, events, pull request and unsaved cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from core.events.messages import (
        EventInboxInput,
        ExternalEvent,
        PullInput,
        PullOutput,
        WebhookDelivery,
        inbox_workflow_id,
    )

DELIVERY_BATCH = 100
"""Deliveries parsed by one activity."""
EVENT_BATCH = 100
"""Events launched by one activity."""
DEFAULT_DEDUP_WINDOW = 10_000
HISTORY_LIMIT = 10_000
"""Continue as new once the history has this many events (or when Temporal suggests it)."""
POLLED_SOURCES = ("pull-latest-records", "full-scan")
LAUNCH_HEARTBEAT = timedelta(seconds=10)
"""`launch_events` heartbeats per event: a launch on a worker that died is retried after this
(retries are harmless: the launch is idempotent per event)."""

RETRY = RetryPolicy(maximum_interval=timedelta(seconds=60), maximum_attempts=10)
"""Database and Temporal hiccups. A step still failing after these keeps what it holds and is
tried again `STEP_BACKOFF` later (nothing taken in is dropped)."""
STEP_BACKOFF = timedelta(minutes=5)
PULL_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=5)
"""A pull that keeps failing gives up until the next interval (its `Retry-After` waits are
the activity's own `next_retry_delay`)."""


def _delivery(value: Any) -> WebhookDelivery:
    if isinstance(value, WebhookDelivery):
        return value
    return WebhookDelivery(**value)


def _event(value: Any) -> ExternalEvent:
    if isinstance(value, ExternalEvent):
        return value
    return ExternalEvent(**value)


@workflow.defn(name="EventInbox", sandboxed=False)
class EventInboxWorkflow:
    def __init__(self) -> None:
        self.subscription_id = ""
        self.deliveries: list[WebhookDelivery] = []
        self.events: list[ExternalEvent] = []
        self.seen: list[str] = []
        self.seen_set: set[str] = set()
        self.cursor: Any = None
        self.next_pull_at: str | None = None
        self.pull_request: dict[str, Any] | None = None
        self.stopping = False
        self.source: str | None = None
        self.interval: int | None = None
        self.dedup_window = DEFAULT_DEDUP_WINDOW
        self.history_limit = HISTORY_LIMIT
        self.launched = 0
        self.dropped = 0
        self.cursor_to_save: Any = None
        self.retry_at: datetime | None = None

    # -- signals and query ------------------------------------------------------------

    @workflow.signal(name="delivery")
    def delivery(self, delivery: WebhookDelivery) -> None:
        self.deliveries.append(delivery)

    @workflow.signal(name="pull")
    def pull(self, request: dict[str, Any]) -> None:
        full_scan = bool((request or {}).get("fullScan"))
        previous = bool((self.pull_request or {}).get("fullScan"))
        self.pull_request = {"fullScan": full_scan or previous}

    @workflow.signal(name="stop")
    def stop(self) -> None:
        self.stopping = True

    @workflow.query(name="state")
    def state(self) -> dict[str, Any]:
        return {
            "subscriptionId": self.subscription_id,
            "source": self.source,
            "deliveries": len(self.deliveries),
            "events": len(self.events),
            "seen": len(self.seen),
            "launched": self.launched,
            "duplicatesDropped": self.dropped,
            "cursor": self.cursor,
            "cursorToSave": self.cursor_to_save,
            "nextPullAt": self.next_pull_at,
            "retryAt": self.retry_at.isoformat() if self.retry_at else None,
            "pullRequested": self.pull_request,
            "stopping": self.stopping,
        }

    # -- the loop ---------------------------------------------------------------------

    @workflow.run
    async def run(self, input: EventInboxInput) -> None:
        self._restore(input)
        info = await self._subscription_info()
        if info is None:  # stopped before it knew its subscription, with nothing held
            return
        self.source = info.get("source")
        self.interval = info.get("intervalSeconds")
        self.dedup_window = input.dedup_window or info.get("dedupWindow") or DEFAULT_DEDUP_WINDOW
        self.history_limit = input.history_limit or HISTORY_LIMIT
        if self.cursor is None and self.cursor_to_save is None:
            # Started without one (a delivery after a stop): resume from the row's.
            self.cursor = info.get("cursor")
        self._trim_seen()
        if self._polled() and self.next_pull_at is None:
            # The first pull at once: it sets the cursor (a first pull emits nothing).
            self.next_pull_at = workflow.now().isoformat()
        while True:
            with contextlib.suppress(TimeoutError):  # a timer: a pull or a retry may be due
                await workflow.wait_condition(self._has_work, timeout=self._next_wake())
            if self._ready() and self.deliveries:
                await self._parse()
            elif self._ready() and self.events:
                await self._launch_batch()
            elif self._ready() and self.cursor_to_save is not None:
                await self._save_cursor()
            elif self._pull_due():
                await self._pull()
            elif self.stopping and not self._holds_work():
                return
            if self._should_continue() and not self.stopping:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carried(input))

    async def _subscription_info(self) -> dict[str, Any] | None:
        """What the inbox reads of its subscription (source, interval...); None when a `stop`
        came first and nothing is held (the inbox then ends without waiting for it)."""
        reading = asyncio.ensure_future(
            workflow.execute_activity(
                "subscription_info",
                self.subscription_id,
                result_type=dict,
                start_to_close_timeout=timedelta(seconds=20),
                retry_policy=RETRY,
            )
        )
        await workflow.wait_condition(
            lambda: reading.done() or (self.stopping and not self._holds_work())
        )
        if not reading.done():
            reading.cancel()
            return None
        try:
            info: dict[str, Any] = reading.result()
        except ActivityError as exc:  # read as a webhook subscription (no polling)
            workflow.logger.warning(
                "subscription %s: not read (%s); taking deliveries only",
                self.subscription_id,
                exc.cause or exc,
            )
            return {}
        return info

    def _restore(self, input: EventInboxInput) -> None:
        self.subscription_id = input.subscription_id
        self.seen = list(input.seen)
        self.seen_set = set(self.seen)
        self.cursor = input.cursor
        self.next_pull_at = input.next_pull_at
        self.stopping = self.stopping or input.stopping
        carried_deliveries = []
        for item in input.pending:
            if not isinstance(item, dict):
                continue
            if "delivery" in item:
                carried_deliveries.append(_delivery(item["delivery"]))
            elif "event" in item:
                self.events.append(_event(item["event"]))
            elif "pull" in item:
                self.pull_request = dict(item["pull"])
            elif "cursor" in item:
                self.cursor_to_save = item["cursor"]
        # Signals received before the first task are already in `self.deliveries`: after.
        self.deliveries[:0] = carried_deliveries

    def _carried(self, input: EventInboxInput) -> EventInboxInput:
        pending: list[Any] = [{"delivery": asdict(d)} for d in self.deliveries]
        pending += [{"event": asdict(e)} for e in self.events]
        if self.pull_request is not None:
            pending.append({"pull": self.pull_request})
        if self.cursor_to_save is not None:
            pending.append({"cursor": self.cursor_to_save})
        return EventInboxInput(
            subscription_id=self.subscription_id,
            connection_id=input.connection_id,
            seen=list(self.seen),
            pending=pending,
            cursor=self.cursor,
            next_pull_at=self.next_pull_at,
            stopping=self.stopping,
            history_limit=input.history_limit,
            dedup_window=input.dedup_window,
        )

    def _polled(self) -> bool:
        return self.source in POLLED_SOURCES

    def _holds_work(self) -> bool:
        return bool(self.deliveries or self.events or self.cursor_to_save is not None)

    def _ready(self) -> bool:
        """False while a step that failed for good waits for its retry (`retry_at`)."""
        return self.retry_at is None or workflow.now() >= self.retry_at

    def _pull_due(self) -> bool:
        if self.cursor_to_save is not None:  # the last pull's events are not recorded yet
            return False
        if self.pull_request is not None:
            return True
        if not self._polled() or self.next_pull_at is None or self.stopping:
            return False
        return workflow.now() >= datetime.fromisoformat(self.next_pull_at)

    def _next_wake(self) -> timedelta | None:
        times = []
        if self._polled() and self.next_pull_at is not None and not self.stopping:
            times.append(datetime.fromisoformat(self.next_pull_at))
        if self.retry_at is not None and self._holds_work():
            times.append(self.retry_at)
        if not times:
            return None
        return max(min(times) - workflow.now(), timedelta(0))

    def _has_work(self) -> bool:
        return (
            (self._ready() and self._holds_work())
            or self._pull_due()
            or (self.stopping and not self._holds_work())
            or (self._should_continue() and not self.stopping)
        )

    def _should_continue(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self.history_limit
        )

    def _failed(self, step: str, exc: ActivityError) -> None:
        """A step failed after its retries: what it holds is kept and tried again later."""
        workflow.logger.warning(
            "subscription %s: %s failed, retried in %s: %s",
            self.subscription_id,
            step,
            STEP_BACKOFF,
            exc.cause or exc,
        )
        self.retry_at = workflow.now() + STEP_BACKOFF

    # -- steps ------------------------------------------------------------------------

    async def _parse(self) -> None:
        batch = self.deliveries[:DELIVERY_BATCH]
        try:
            events = await workflow.execute_activity(
                "parse_deliveries",
                args=[self.subscription_id, batch],
                result_type=list[ExternalEvent],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RETRY,
            )
        except ActivityError as exc:
            self._failed("parse_deliveries", exc)
            return
        self.retry_at = None
        del self.deliveries[: len(batch)]
        self._take(events)

    def _take(self, events: list[ExternalEvent]) -> None:
        """Queues the events not seen before (nor already queued)."""
        queued = {event.id for event in self.events}
        for event in events:
            if event.id in self.seen_set or event.id in queued:
                self.dropped += 1
                continue
            queued.add(event.id)
            self.events.append(event)

    async def _launch_batch(self) -> None:
        batch = self.events[:EVENT_BATCH]
        try:
            results = await workflow.execute_activity(
                "launch_events",
                args=[self.subscription_id, batch],
                result_type=list[dict[str, Any]],
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=LAUNCH_HEARTBEAT,
                retry_policy=RETRY,
            )
        except ActivityError as exc:
            self._failed("launch_events", exc)
            return
        self.retry_at = None
        del self.events[: len(batch)]
        self.launched += sum(1 for r in results if r.get("status") == "launched")
        for event in batch:
            self.seen.append(event.id)
            self.seen_set.add(event.id)
        self._trim_seen()

    def _trim_seen(self) -> None:
        extra = len(self.seen) - self.dedup_window
        if extra > 0:
            for event_id in self.seen[:extra]:
                self.seen_set.discard(event_id)
            del self.seen[:extra]

    async def _save_cursor(self) -> None:
        """Stores the last pull's cursor, once its events are recorded."""
        try:
            await workflow.execute_activity(
                "save_cursor",
                args=[self.subscription_id, self.cursor_to_save],
                start_to_close_timeout=timedelta(seconds=20),
                retry_policy=RETRY,
            )
        except ActivityError as exc:
            self._failed("save_cursor", exc)
            return
        self.retry_at = None
        self.cursor, self.cursor_to_save = self.cursor_to_save, None

    async def _pull(self) -> None:
        request, self.pull_request = self.pull_request, None
        full_scan = bool((request or {}).get("fullScan")) or self.source == "full-scan"
        try:
            output = await workflow.execute_activity(
                "pull_events",
                PullInput(self.subscription_id, full_scan=full_scan, cursor=self.cursor),
                result_type=PullOutput,
                start_to_close_timeout=timedelta(minutes=30),
                heartbeat_timeout=timedelta(seconds=60),
                retry_policy=PULL_RETRY,
            )
        except ActivityError as exc:
            workflow.logger.warning(
                "subscription %s: pull failed, next at the next interval: %s",
                self.subscription_id,
                exc.cause or exc,
            )
            self._schedule_pull()
            return
        self._take(output.events)
        if output.cursor != self.cursor:
            # Stored (and used by the next pull) only once these events are recorded.
            self.cursor_to_save = output.cursor
        self._schedule_pull()

    def _schedule_pull(self) -> None:
        if self._polled():
            seconds = self.interval or 300
            self.next_pull_at = (workflow.now() + timedelta(seconds=seconds)).isoformat()


async def deliver(
    client: Client,
    task_queue: str,
    subscription_id: str,
    connection_id: str,
    delivery: WebhookDelivery,
) -> None:
    """Hands a webhook delivery to the subscription's inbox, starting it if needed; returns
    once Temporal has durably accepted the signal."""
    await client.start_workflow(
        EventInboxWorkflow.run,
        EventInboxInput(subscription_id=subscription_id, connection_id=connection_id),
        id=inbox_workflow_id(subscription_id),
        task_queue=task_queue,
        start_signal="delivery",
        start_signal_args=[delivery],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"Events of subscription {subscription_id}",
    )

"""Activities of the event inbox (workflows/event_inbox.py): read a subscription, turn webhook
deliveries into events, launch the flow runs of events, keep the polling cursor.

`launch_events` is idempotent per event: the event log row (unique per subscription and event
id) is written once the event's runs are started, and a row already written means the event
was handled, so a retried activity neither logs nor starts twice; the runs' ids are
deterministic (`event_flow_run_id`) and started with REJECT_DUPLICATE, so a run started by an
attempt that crashed before writing the row is found, not started again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import Client

from connectors.registry import ConnectorRegistry
from connectors.runtime.redaction import Redactor
from connectors.runtime.webhook_events import delivery_events
from connectors.spec import ConnectorSpec
from connectors.spec.collections import FullScan, PullLatestRecords
from core.elements.models import Element
from core.elements.resolve import resolve_flow_instance
from core.elements.snapshots import FlowSnapshot
from core.elements.store import ElementStore
from core.errors import OsmoError
from core.events.messages import (
    CONNECTOR_EVENT,
    TRIGGER_EVENT_TYPES,
    ExternalEvent,
    WebhookDelivery,
    event_flow_run_id,
)
from core.events.models import EventSubscription, ExternalEventLogRecord
from core.formulas import matches_filter
from core.models import Connection, Integration, utcnow
from core.settings import Settings
from core.stores.run_slots import RunSlots

logger = logging.getLogger("osmo.events")

POLLED_SOURCES = ("pull-latest-records", "full-scan")
DEFAULT_POLL_SECONDS = 300
FINAL = ("launched", "no-flows", "rejected", "failed")
LAUNCH_CONCURRENCY = 16
"""Events of a batch launched at once (each: a few database statements and Temporal starts)."""


class FlowStarter(Protocol):
    """`workflows.starts.start_event_flow_run` (handed over by worker.py: activities do not
    import workflows). Returns False when the run was started before."""

    async def __call__(
        self,
        client: Client,
        task_queue: str,
        snapshot: FlowSnapshot,
        *,
        run_id: str,
        input: Any,
        trigger_type: str,
        launched_by: dict[str, Any],
        history_limit: int,
        connection_limit: int | None = 10,
        queue_limit: int = 10_000,
    ) -> bool: ...


@dataclass
class Target:
    """An enabled flow instance of the connection whose trigger takes the subscription's
    events."""

    instance_id: str
    snapshot: FlowSnapshot
    trigger_type: str
    filter: Any = None


@dataclass
class Subscription:
    """What the activities read of a subscription row (detached from its session)."""

    id: str
    customer_id: str
    connection_id: str
    event_type: str
    collection_key: str | None
    collection_parameters: dict[str, Any]
    connector_event_key: str | None
    source: str
    pull_interval_seconds: int | None


@dataclass
class QueueState:
    """The connection's run slots as the database had them, counted on as runs start."""

    running: int = 0
    waiting: int = 0
    limit: int = 10
    queue_limit: int = 10_000
    known: bool = False

    def full(self) -> bool:
        return self.waiting >= self.queue_limit

    def took(self) -> None:
        if self.running < self.limit:
            self.running += 1
        else:
            self.waiting += 1


@dataclass
class Outcome:
    status: str
    run_ids: list[str] = field(default_factory=list)
    error_key: str | None = None
    error_message: str | None = None


def trigger_output(subscription: Subscription, event: ExternalEvent) -> dict[str, Any]:
    """What the trigger node outputs (the run's input) for an event (docs/events.md)."""
    if event.type == CONNECTOR_EVENT:
        return {
            "type": CONNECTOR_EVENT,
            "eventId": event.id,
            "subscriptionId": subscription.id,
            "eventType": event.connector_event_key,
            "payload": event.payload,
        }
    return {
        "type": event.type,
        "eventId": event.id,
        "subscriptionId": subscription.id,
        "recordId": event.record_id,
        "record": event.record,
        "payload": event.payload,
    }


def trigger_matches(subscription: Subscription, node: dict[str, Any]) -> bool:
    """Whether a trigger node takes the subscription's events."""
    if TRIGGER_EVENT_TYPES.get(node.get("type", "")) != subscription.event_type:
        return False
    config = node.get("config") or {}
    if subscription.event_type == CONNECTOR_EVENT:
        return bool(config.get("eventType") == subscription.connector_event_key)
    return bool(
        config.get("collectionKey") == subscription.collection_key
        and (config.get("parameters") or {}) == (subscription.collection_parameters or {})
    )


class EventActivities:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        registry: ConnectorRegistry,
        start_flow_run: FlowStarter,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.registry = registry
        self.start_flow_run = start_flow_run

    # -- reading ----------------------------------------------------------------------

    def _subscription(self, session: Session, subscription_id: str) -> Subscription | None:
        row = session.get(EventSubscription, subscription_id)
        if row is None:
            return None
        return Subscription(
            id=row.id,
            customer_id=row.customer_id,
            connection_id=row.connection_id,
            event_type=row.event_type,
            collection_key=row.collection_key,
            collection_parameters=dict(row.collection_parameters or {}),
            connector_event_key=row.connector_event_key,
            source=row.source,
            pull_interval_seconds=row.pull_interval_seconds,
        )

    def _connector(self, session: Session, connection_id: str) -> ConnectorSpec | None:
        connection = session.get(Connection, connection_id)
        integration = session.get(Integration, connection.integration_id) if connection else None
        return self.registry.get(integration.connector_key) if integration else None

    def _info(self, subscription_id: str) -> dict[str, Any]:
        with Session(self.engine) as session:
            subscription = self._subscription(session, subscription_id)
            row = session.get(EventSubscription, subscription_id)
            cursor = row.cursor if row is not None else None
            if subscription is None:
                return {"exists": False, "source": None, "intervalSeconds": None}
            interval = subscription.pull_interval_seconds
            if interval is None and subscription.source in POLLED_SOURCES:
                connector = self._connector(session, subscription.connection_id)
                interval = _declared_interval(connector, subscription)
            if subscription.source in POLLED_SOURCES:
                interval = max(interval or DEFAULT_POLL_SECONDS, self.settings.min_poll_seconds)
            return {
                "exists": True,
                "source": subscription.source,
                "intervalSeconds": interval,
                "dedupWindow": self.settings.event_dedup_window,
                "cursor": cursor,
            }

    @activity.defn(name="subscription_info")
    async def subscription_info(self, subscription_id: str) -> dict[str, Any]:
        """`{exists, source, intervalSeconds, dedupWindow, cursor}`: how the inbox gets its
        events (polled sources: every `intervalSeconds`, never below `OSMO_MIN_POLL_SECONDS`)
        and the cursor stored in the row (an inbox started without one resumes from it)."""
        return await asyncio.to_thread(self._info, subscription_id)

    # -- parsing ----------------------------------------------------------------------

    def _parse(
        self, subscription_id: str, deliveries: list[WebhookDelivery]
    ) -> list[ExternalEvent]:
        with Session(self.engine) as session:
            subscription = self._subscription(session, subscription_id)
            connector = (
                self._connector(session, subscription.connection_id) if subscription else None
            )
        if subscription is None or connector is None:
            logger.warning(
                "subscription %s: %d deliveries left unparsed (no subscription or connector)",
                subscription_id,
                len(deliveries),
            )
            return []
        events: list[ExternalEvent] = []
        for delivery in deliveries:
            events += delivery_events(
                connector,
                delivery,
                event_type=subscription.event_type,
                collection_key=subscription.collection_key,
                connector_event_key=subscription.connector_event_key,
            )
        return events

    @activity.defn(name="parse_delivery")
    async def parse_delivery(
        self, subscription_id: str, delivery: WebhookDelivery
    ) -> list[ExternalEvent]:
        """The subscription's events in one webhook delivery (none when unreadable)."""
        return await asyncio.to_thread(self._parse, subscription_id, [delivery])

    @activity.defn(name="parse_deliveries")
    async def parse_deliveries(
        self, subscription_id: str, deliveries: list[WebhookDelivery]
    ) -> list[ExternalEvent]:
        """`parse_delivery` for a batch: a burst of deliveries costs one activity."""
        return await asyncio.to_thread(self._parse, subscription_id, deliveries)

    # -- launching --------------------------------------------------------------------

    def _targets(self, subscription_id: str) -> tuple[Subscription | None, list[Target]]:
        """The subscription, and the enabled flow instances of its connection whose trigger
        takes its events (snapshots resolved once per batch)."""
        with Session(self.engine, expire_on_commit=False) as session:
            subscription = self._subscription(session, subscription_id)
            if subscription is None:
                return None, []
            store = ElementStore(session)
            instances = session.exec(
                select(Element).where(
                    Element.kind == "flows", Element.connection_id == subscription.connection_id
                )
            ).all()
            targets = []
            for instance in sorted(instances, key=lambda element: element.id):
                if not store.resolve(instance).get("enabled", True):
                    continue
                try:
                    snapshot = resolve_flow_instance(session, store, instance)
                except OsmoError as exc:
                    logger.warning("flow instance %s not launched: %s", instance.id, exc.message)
                    continue
                for node in snapshot.nodes.values():
                    if trigger_matches(subscription, node):
                        config = node.get("config") or {}
                        targets.append(
                            Target(instance.id, snapshot, node["type"], config.get("filter"))
                        )
                        break
            return subscription, targets

    def _logged(self, subscription_id: str, event_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The results of the events already handled (their log row is written), by id."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(ExternalEventLogRecord).where(
                    ExternalEventLogRecord.subscription_id == subscription_id,
                    ExternalEventLogRecord.event_id.in_(event_ids),  # type: ignore[attr-defined]
                )
            ).all()
            return {
                row.event_id: _result(
                    row.event_id, row.status, list(row.launched_flow_run_ids), row.error_key
                )
                for row in rows
                if row.status in FINAL
            }

    def _payload(self, event: ExternalEvent) -> str | None:
        value = event.payload if event.payload is not None else event.record
        if value is None:
            return None
        content = json.dumps(value, default=str).encode()
        return Redactor().body(content, "application/json", self.settings.log_body_limit)

    def _record(self, subscription: Subscription, event: ExternalEvent, outcome: Outcome) -> None:
        """Writes the event's log row (one transaction; a row written by an earlier attempt
        is updated, never doubled)."""
        values: dict[str, Any] = {
            "customer_id": subscription.customer_id,
            "connection_id": subscription.connection_id,
            "subscription_id": subscription.id,
            "event_id": event.id,
            "event_type": event.type,
            "record_id": event.record_id,
            "status": outcome.status,
            "launched_flow_run_ids": outcome.run_ids,
            "incoming_webhook_id": event.incoming_webhook_id,
            "pull_id": event.pull_id,
            "payload": self._payload(event),
            "error_key": outcome.error_key,
            "error_message": outcome.error_message,
        }
        for _ in range(2):
            with Session(self.engine) as session:
                row = session.exec(
                    select(ExternalEventLogRecord).where(
                        ExternalEventLogRecord.subscription_id == subscription.id,
                        ExternalEventLogRecord.event_id == event.id,
                    )
                ).first()
                if row is None:
                    session.add(ExternalEventLogRecord(**values))
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
                    session.add(row)
                try:
                    session.commit()
                    return
                except IntegrityError:  # written concurrently: update that row instead
                    session.rollback()
        raise RuntimeError(f"event {event.id}: the log row could not be written")

    async def _queue_state(self, client: Client, connection_id: str) -> QueueState:
        state = QueueState(
            limit=self.settings.flow_runs_per_connection,
            queue_limit=self.settings.connection_queue_limit,
        )
        counts = await asyncio.to_thread(RunSlots(self.engine).counts, connection_id)
        if counts is not None:
            state.running, state.waiting, state.limit, state.queue_limit = counts
            state.known = True
        return state

    async def _launch(
        self,
        client: Client,
        subscription: Subscription,
        targets: list[Target],
        event: ExternalEvent,
        queue: QueueState,
    ) -> Outcome:
        output = trigger_output(subscription, event)
        chosen: list[Target] = []
        problems: list[str] = []
        for target in targets:
            if target.filter is None:
                chosen.append(target)
                continue
            try:
                if matches_filter(target.filter, {"event": output, "trigger": output}):
                    chosen.append(target)
            except Exception as exc:  # a filter that cannot be evaluated launches nothing
                problems.append(f"flow instance {target.instance_id}: filter failed: {exc}")
        if not chosen:
            if problems:
                return Outcome("failed", [], "filter_failed", "; ".join(problems))
            return Outcome("no-flows")
        if queue.full():
            return Outcome(
                "rejected",
                [],
                "connection_queue_full",
                f"The connection's run queue is full ({queue.waiting} waiting, limit "
                f"{queue.queue_limit})",
            )
        run_ids = []
        launched_by = {
            "type": "external-event",
            "subscriptionId": subscription.id,
            "eventId": event.id,
        }
        for target in chosen:
            run_id = event_flow_run_id(subscription.id, event.id, target.instance_id)
            started = await self.start_flow_run(
                client,
                self.settings.task_queue,
                target.snapshot,
                run_id=run_id,
                input=output,
                trigger_type=target.trigger_type,
                launched_by=launched_by,
                history_limit=self.settings.flow_history_limit,
                connection_limit=self.settings.flow_runs_per_connection,
                queue_limit=self.settings.connection_queue_limit,
            )
            if started:
                queue.took()
            run_ids.append(run_id)
        return Outcome("launched", run_ids, None, "; ".join(problems) or None)

    @activity.defn(name="launch_events")
    async def launch_events(
        self, subscription_id: str, events: list[ExternalEvent]
    ) -> list[dict[str, Any]]:
        """Per event: the flow runs of the matching enabled flow instances (trigger filter
        applied), and its log row. `[{eventId, status, flowRunIds, errorKey}]`, status
        `launched` | `no-flows` | `rejected` (connection queue full) | `failed`."""
        subscription, targets = await asyncio.to_thread(self._targets, subscription_id)
        if subscription is None:
            logger.warning(
                "subscription %s is gone: %d events dropped", subscription_id, len(events)
            )
            return [_result(e.id, "failed", [], "subscription_not_found") for e in events]
        client = activity.client()
        done = await asyncio.to_thread(self._logged, subscription.id, [e.id for e in events])
        queue = QueueState()
        if targets and len(done) < len(events):
            queue = await self._queue_state(client, subscription.connection_id)
        gate = asyncio.Semaphore(LAUNCH_CONCURRENCY)
        started = 0

        async def launch(event: ExternalEvent) -> Outcome:
            nonlocal started
            async with gate:
                outcome = await self._launch(client, subscription, targets, event, queue)
            started += 1
            activity.heartbeat(started)
            return outcome

        todo = [event for event in events if event.id not in done]
        outcomes = await asyncio.gather(*(launch(event) for event in todo))
        # Then the log rows, one transaction each, one after the other (concurrent writers
        # only wait on each other's locks, on SQLite most of all).
        await asyncio.to_thread(
            self._record_all, subscription, list(zip(todo, outcomes, strict=True))
        )
        for event, outcome in zip(todo, outcomes, strict=True):
            done[event.id] = _result(event.id, outcome.status, outcome.run_ids, outcome.error_key)
        return [done[event.id] for event in events]

    def _record_all(
        self, subscription: Subscription, handled: list[tuple[ExternalEvent, Outcome]]
    ) -> None:
        for event, outcome in handled:
            self._record(subscription, event, outcome)

    # -- cursor -----------------------------------------------------------------------

    def _save_cursor(self, subscription_id: str, cursor: Any) -> None:
        with Session(self.engine) as session:
            row = session.get(EventSubscription, subscription_id)
            if row is None:
                return
            row.cursor = cursor
            row.updated_at = utcnow()
            session.add(row)
            session.commit()

    @activity.defn(name="save_cursor")
    async def save_cursor(self, subscription_id: str, cursor: Any) -> None:
        """Mirrors the inbox's cursor in the subscription row (after its events are
        recorded): re-enabling a flow, or an inbox started again, resumes from it."""
        await asyncio.to_thread(self._save_cursor, subscription_id, cursor)


def _result(
    event_id: str, status: str, run_ids: list[str], error_key: str | None
) -> dict[str, Any]:
    return {"eventId": event_id, "status": status, "flowRunIds": run_ids, "errorKey": error_key}


def _declared_interval(connector: ConnectorSpec | None, subscription: Subscription) -> int | None:
    """The interval the connector declares for the collection's polled events."""
    if connector is None or not subscription.collection_key:
        return None
    collection = connector.collection(subscription.collection_key)
    name = subscription.event_type.removeprefix("data-record-")
    source = getattr(collection.events, name, None) if collection else None
    if isinstance(source, (PullLatestRecords, FullScan)):
        return source.interval_seconds
    return None

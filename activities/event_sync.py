"""The activity of `EventSync`: one pass bringing a connection's event subscriptions (and
schedules) in line with its enabled flow instances (docs/events.md).

A pass is idempotent and safe to retry: rows are found by spec hash, a registration is sent
only for a row that has none, an inbox is started only if not running, and unregistering a
webhook the app no longer knows (404) is fine.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from activities.heartbeat import heartbeating
from activities.schedules import scheduled_flow_instances, sync_flow_schedule
from connectors.runtime import ConnectorError, ConnectorRuntime
from connectors.runtime.context import ConnectionContext
from connectors.runtime.webhook_registration import (
    EventSourceSpec,
    event_source,
    refresh,
    register,
    unregister,
)
from connectors.spec.collections import FullScan, PullLatestRecords, WebhookEvents
from core.crypto import Encryptor
from core.errors import OsmoError
from core.events import subscriptions as store
from core.events.messages import EventInboxInput, inbox_workflow_id
from core.events.models import EventSubscription, SubscriptionState
from core.settings import Settings
from core.stores.connections import ConnectionStore

log = logging.getLogger("osmo.events.sync")

REFRESH_AHEAD_SECONDS = 7 * 24 * 3600
"""A registration the app expires is refreshed once it expires within 7 days (Jira's last 30)."""
RETRY_ERRORS_SECONDS = 300
"""A registration that failed for a reason that may pass (5xx, network, rate limit) is tried
again by a pass this much later."""
MIN_NEXT_PASS_SECONDS = 60


@dataclass
class SyncResult:
    """What one pass did (the workflow's history keeps it: ids and counts, no secrets)."""

    subscribed: list[str] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    """Subscription id → error key."""
    skipped_flow_instances: dict[str, str] = field(default_factory=dict)
    """Flow instance id → why it could not be resolved."""
    schedules: list[str] = field(default_factory=list)
    next_pass_seconds: int | None = None
    """When a later pass is due (a registration to refresh, a failure to retry), if ever."""


def webhook_url(settings: Settings, subscription_id: str) -> str:
    base = store.webhook_base(settings.webhook_public_url, settings.public_url)
    return f"{base}/webhooks/subscriptions/{subscription_id}"


def source_name(source: EventSourceSpec) -> str:
    return source.type


def poll_interval(
    settings: Settings, need: store.SubscriptionNeed, source: EventSourceSpec
) -> int | None:
    if isinstance(source, PullLatestRecords | FullScan):
        chosen = need.pull_interval_seconds or source.interval_seconds
        return max(chosen, settings.min_poll_seconds)
    return None


class EventSyncActivities:
    """`sync_connection_events`, bound to the worker's database, runtime and key ring."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        runtime: ConnectorRuntime,
        connections: ConnectionStore,
        encryptor: Encryptor,
        client: Client | None = None,
    ) -> None:
        """`client`: the Temporal client that starts inboxes; default the worker's own
        (`activity.client()`)."""
        self.settings = settings
        self.engine = engine
        self.runtime = runtime
        self.connections = connections
        self.encryptor = encryptor
        self._client = client

    def client(self) -> Client:
        return self._client or activity.client()

    def task_queue(self) -> str:
        try:
            return activity.info().task_queue
        except RuntimeError:  # called outside an activity (tests of the pass itself)
            return self.settings.task_queue

    async def _db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            with Session(self.engine) as session:
                return fn(session, *args, **kwargs)

        return await asyncio.to_thread(run)

    @activity.defn(name="sync_connection_events")
    @heartbeating
    async def sync_connection_events(self, connection_id: str) -> SyncResult:
        """One pass over the connection's subscriptions and schedules."""
        return await self.sync(connection_id)

    async def sync(self, connection_id: str) -> SyncResult:
        result = SyncResult()
        desired: store.Desired = await self._db(store.desired_for, connection_id)
        result.skipped_flow_instances = dict(desired.failures)
        ctx = await self._context(connection_id)
        now = datetime.now(UTC)
        wanted: set[str] = set()
        for need in desired.needs.values():
            row = await self._wanted(ctx, need, now, result)
            if row is not None:
                wanted.add(row.id)
        rows: list[EventSubscription] = await self._db(store.subscriptions_of, connection_id)
        for row in rows:
            if row.id in wanted:
                continue
            failed = desired.failed_needs.get(row.spec_hash)
            if failed is not None and row.state != SubscriptionState.unsubscribed.value:
                # The instance needing it is broken: say why, keep the registration.
                await self._stop_inbox(row.id)
                await self._db(
                    store.update_subscription,
                    row.id,
                    state=SubscriptionState.error.value,
                    error_key="flow_instance_unresolved",
                    error_message=failed,
                )
                result.errors[row.id] = "flow_instance_unresolved"
                continue
            if row.state == SubscriptionState.unsubscribed.value and not row.webhook:
                continue
            await self._unsubscribe(ctx, row)
            result.unsubscribed.append(row.id)
        await self._sync_schedules(connection_id, desired, result)
        result.next_pass_seconds = await self._next_pass(connection_id, result, now)
        return result

    async def _context(self, connection_id: str) -> ConnectionContext | None:
        try:
            stored = await asyncio.to_thread(self.connections.load, connection_id)
            return self.runtime.context_for(stored)
        except OsmoError:
            return None  # deleted (or its connector gone): nothing can be sent to the app

    # -- wanted subscriptions ---------------------------------------------------------------

    async def _wanted(
        self,
        ctx: ConnectionContext | None,
        need: store.SubscriptionNeed,
        now: datetime,
        result: SyncResult,
    ) -> EventSubscription | None:
        if ctx is None:
            return None
        source = event_source(ctx.connector, need.event_type, need.collection_key)
        name = source_name(source) if source is not None else "webhook"
        interval = poll_interval(self.settings, need, source) if source is not None else None
        sized = store.SubscriptionNeed(
            need.event_type,
            need.collection_key,
            need.parameters,
            need.connector_event_key,
            interval,
        )
        row: EventSubscription = await self._db(
            store.upsert_subscription, ctx.connection_id, sized, name
        )
        if source is None:
            what = need.collection_key or need.connector_event_key
            await self._error(
                row,
                "event_source_not_supported",
                f"Connector {ctx.connector.key!r} declares no source of {need.event_type} "
                f"events for {what!r}",
                result,
            )
            return row
        if isinstance(source, WebhookEvents) and source.subscribe is not None:
            row = await self._registered(ctx, row, source, now, result)
            if row.state == SubscriptionState.error.value:
                return row
        elif row.state != SubscriptionState.subscribed.value:
            # App-level webhooks (deliveries come through /webhooks/integrations/{key}) and
            # polling: nothing to register with the app.
            row = await self._db(
                store.update_subscription, row.id, state=SubscriptionState.subscribed.value
            )
        await self._start_inbox(row)
        result.subscribed.append(row.id)
        return row

    async def _registered(
        self,
        ctx: ConnectionContext,
        row: EventSubscription,
        spec: WebhookEvents,
        now: datetime,
        result: SyncResult,
    ) -> EventSubscription:
        """The row with a live registration: registered if it has none (or lost it),
        refreshed when it expires soon."""
        parameters = dict(row.collection_parameters or {})
        if row.webhook and row.state != SubscriptionState.unsubscribed.value:
            if spec.refresh is None or not store.expiring_within(row, REFRESH_AHEAD_SECONDS, now):
                if row.state == SubscriptionState.subscribed.value:
                    return row
                return await self._db(  # an earlier error (e.g. a failed refresh) passed
                    store.update_subscription, row.id, state=SubscriptionState.subscribed.value
                )
            try:
                renewed = await refresh(self.runtime, ctx, spec, parameters, row.webhook)
            except ConnectorError as exc:
                if exc.key != "not_found":
                    return await self._error(row, exc.key, exc.message, result)
                # The app forgot it: register again below.
            else:
                return await self._db(
                    store.update_subscription,
                    row.id,
                    webhook={**row.webhook, "expiresAt": renewed.expires_at},
                    state=SubscriptionState.subscribed.value,
                )
        # The secret is stored before the app is asked: an app that hands over its own in a
        # handshake during the registration (Asana) has the ingress overwrite it meanwhile.
        secret = secrets.token_urlsafe(32)
        await self._db(
            store.update_subscription,
            row.id,
            webhook_secret_encrypted=self.encryptor.encrypt(secret),
        )
        url = webhook_url(self.settings, row.id)
        try:
            registration = await register(self.runtime, ctx, spec, parameters, url, secret)
        except (ConnectorError, OsmoError) as exc:
            return await self._error(row, exc.key, exc.message, result)
        values: dict[str, Any] = {
            "webhook": registration.public(),
            "state": SubscriptionState.subscribed.value,
        }
        if registration.secret is not None:
            values["webhook_secret_encrypted"] = self.encryptor.encrypt(registration.secret)
        row = await self._db(store.update_subscription, row.id, **values)
        log.info("registered webhook %s of subscription %s", registration.id, row.id)
        return row

    async def _error(
        self, row: EventSubscription, key: str, message: str, result: SyncResult
    ) -> EventSubscription:
        result.errors[row.id] = key
        log.warning("event subscription %s: %s: %s", row.id, key, message)
        updated: EventSubscription = await self._db(
            store.update_subscription,
            row.id,
            state=SubscriptionState.error.value,
            error_key=key[:100],
            error_message=message,
        )
        return updated

    # -- unwanted subscriptions -------------------------------------------------------------

    async def _unsubscribe(self, ctx: ConnectionContext | None, row: EventSubscription) -> None:
        """Unregisters the webhook (best effort when the connection is gone), stops the inbox,
        and marks the row unsubscribed; the cursor is kept."""
        values: dict[str, Any] = {"state": SubscriptionState.unsubscribed.value}
        if row.webhook:
            source = (
                event_source(ctx.connector, row.event_type, row.collection_key) if ctx else None
            )
            if ctx is not None and isinstance(source, WebhookEvents):
                try:
                    await unregister(
                        self.runtime,
                        ctx,
                        source,
                        dict(row.collection_parameters or {}),
                        row.webhook,
                    )
                except ConnectorError as exc:
                    if exc.retryable:
                        raise  # the pass is retried: the app is to forget it
                    log.warning(
                        "event subscription %s: the app refused to remove webhook %s: %s",
                        row.id,
                        row.webhook.get("id"),
                        exc.message,
                    )
            values["webhook"] = None
            values["webhook_secret_encrypted"] = None
        await self._stop_inbox(row.id)
        await self._db(store.update_subscription, row.id, **values)

    # -- Temporal -----------------------------------------------------------------------------

    async def _start_inbox(self, row: EventSubscription) -> None:
        await self.client().start_workflow(
            "EventInbox",
            EventInboxInput(
                subscription_id=row.id, connection_id=row.connection_id, cursor=row.cursor
            ),
            id=inbox_workflow_id(row.id),
            task_queue=self.task_queue(),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Events of subscription {row.id}",
        )

    async def _stop_inbox(self, subscription_id: str) -> None:
        handle = self.client().get_workflow_handle(inbox_workflow_id(subscription_id))
        try:
            await handle.signal("stop")
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise  # not running (never started, or finished): nothing to stop

    async def _sync_schedules(
        self, connection_id: str, desired: store.Desired, result: SyncResult
    ) -> None:
        """Each instance's schedule (activities/schedules.py); those of instances gone (or
        of a connection gone) deleted. An instance that could not be resolved keeps its own."""
        client, kept = self.client(), {s.flow_instance_id for s in desired.schedules}
        for schedule in desired.schedules:
            try:
                await sync_flow_schedule(
                    client,
                    self.task_queue(),
                    schedule.flow_instance_id,
                    schedule.snapshot,
                    schedule.trigger_config,
                    schedule.enabled,
                    history_limit=self.settings.flow_history_limit,
                )
            except OsmoError as exc:  # invalid_schedule: a definition saved before the check
                result.skipped_flow_instances[schedule.flow_instance_id] = exc.key
                continue
            result.schedules.append(schedule.flow_instance_id)
        for flow_instance_id in await scheduled_flow_instances(client, connection_id):
            if flow_instance_id not in kept and flow_instance_id not in desired.failures:
                await sync_flow_schedule(
                    client, self.task_queue(), flow_instance_id, None, None, False
                )

    async def _next_pass(self, connection_id: str, result: SyncResult, now: datetime) -> int | None:
        rows: list[EventSubscription] = await self._db(store.subscriptions_of, connection_id)
        due: list[float] = []
        for row in rows:
            if row.state == SubscriptionState.subscribed.value:
                expires = store.expires_at(row)
                if expires is not None:
                    due.append((expires - now).total_seconds() - REFRESH_AHEAD_SECONDS)
            elif row.state == SubscriptionState.error.value and row.error_key in RETRYABLE_KEYS:
                due.append(RETRY_ERRORS_SECONDS)
        if not due:
            return None
        return int(max(min(due), MIN_NEXT_PASS_SECONDS))


RETRYABLE_KEYS = {"rate_limit_exceeded", "server_error", "network_error", "timeout"}

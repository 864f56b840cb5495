"""What a connection's enabled flow instances need to hear about, and the subscription rows
that hold it (docs/events.md).

Pure functions turn a resolved flow snapshot into a need (an event subscription or a
schedule); store functions read the connection's flow instances and keep the
`event_subscriptions` rows in line. Talking to the app (registering webhooks) and to Temporal
(inboxes, schedules) is the sync activity's part (activities/event_sync.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from core.elements.models import Element
from core.elements.resolve import resolve_flow_instance, with_collection
from core.elements.snapshots import FlowSnapshot
from core.elements.store import ElementStore
from core.errors import OsmoError
from core.events.messages import CONNECTOR_EVENT, TRIGGER_EVENT_TYPES, spec_hash
from core.events.models import EventSubscription, SubscriptionState
from core.models import Connection, Integration

SCHEDULE_TRIGGER = "schedule-trigger"


@dataclass(frozen=True)
class SubscriptionNeed:
    """One kind of event a flow instance's trigger listens to."""

    event_type: str
    collection_key: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    connector_event_key: str | None = None
    pull_interval_seconds: int | None = None

    @property
    def spec_hash(self) -> str:
        return spec_hash(
            self.event_type, self.collection_key, self.parameters, self.connector_event_key
        )


@dataclass(frozen=True)
class ScheduleNeed:
    """A flow instance's `schedule-trigger` (or its absence: `trigger_config` None)."""

    flow_instance_id: str
    snapshot: FlowSnapshot | None
    trigger_config: dict[str, Any] | None
    enabled: bool


@dataclass
class Desired:
    """Everything a connection's flow instances need, keyed by subscription spec hash."""

    needs: dict[str, SubscriptionNeed] = field(default_factory=dict)
    flow_instances: dict[str, list[str]] = field(default_factory=dict)
    """Spec hash → ids of the flow instances needing it."""
    schedules: list[ScheduleNeed] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    """Flow instance id → why it could not be resolved (skipped)."""
    failed_needs: dict[str, str] = field(default_factory=dict)
    """Spec hash → the resolution error of a skipped instance that needs it."""

    def add(self, need: SubscriptionNeed, flow_instance_id: str) -> None:
        key = need.spec_hash
        known = self.needs.get(key)
        if known is not None:
            # Two instances share the subscription; the shorter poll interval wins.
            intervals = [i for i in (known.pull_interval_seconds, need.pull_interval_seconds) if i]
            need = SubscriptionNeed(
                need.event_type,
                need.collection_key,
                need.parameters,
                need.connector_event_key,
                min(intervals) if intervals else None,
            )
        self.needs[key] = need
        self.flow_instances.setdefault(key, []).append(flow_instance_id)


def trigger_node(nodes: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The flow's trigger node `(type, config)` among `nodes`, if it has one."""
    for node in nodes.values():
        node_type = node.get("type")
        if isinstance(node_type, str) and node_type.endswith("-trigger"):
            return node_type, dict(node.get("config") or {})
    return None


def need_of_trigger(node_type: str, config: dict[str, Any]) -> SubscriptionNeed | None:
    """The subscription a trigger needs (its config resolved: `collectionKey`, `parameters`),
    or None for triggers no subscription delivers (API, schedule, app event)."""
    event_type = TRIGGER_EVENT_TYPES.get(node_type)
    if event_type is None:
        return None
    if event_type == CONNECTOR_EVENT:
        event_key = config.get("eventType")
        if not isinstance(event_key, str) or not event_key:
            return None
        return SubscriptionNeed(event_type, connector_event_key=event_key)
    collection_key = config.get("collectionKey")
    if not isinstance(collection_key, str) or not collection_key:
        return None
    parameters = config.get("parameters")
    interval = config.get("pullIntervalSeconds")
    return SubscriptionNeed(
        event_type,
        collection_key=collection_key,
        parameters=dict(parameters) if isinstance(parameters, dict) else {},
        pull_interval_seconds=interval if isinstance(interval, int) else None,
    )


def need_of(snapshot: FlowSnapshot) -> SubscriptionNeed | None:
    """The subscription a resolved flow instance's trigger needs, if any."""
    trigger = trigger_node(snapshot.nodes)
    return need_of_trigger(*trigger) if trigger else None


def schedule_of(snapshot: FlowSnapshot) -> dict[str, Any] | None:
    """The `schedule-trigger` config of a resolved flow instance, if it has one."""
    trigger = trigger_node(snapshot.nodes)
    return trigger[1] if trigger and trigger[0] == SCHEDULE_TRIGGER else None


# -- reading the connection's flow instances ---------------------------------------------


def flow_instances(session: Session, connection_id: str) -> list[Element]:
    """The connection's flow instances (connection-level `flows` elements)."""
    return list(
        session.exec(
            select(Element)
            .where(Element.kind == "flows", Element.connection_id == connection_id)
            .order_by(Element.created_at, Element.id)  # type: ignore[arg-type]
        ).all()
    )


def _unresolved_snapshot(instance: Element, definition: dict[str, Any]) -> FlowSnapshot:
    """A disabled instance's snapshot, nodes as defined (its schedule is only paused)."""
    return FlowSnapshot(
        flow_key=instance.key,
        flow_instance_id=instance.id,
        nodes=dict(definition.get("nodes") or {}),
        parameters=dict(definition.get("parameters") or {}),
        connection_id=instance.connection_id,
        revision=instance.revision,
    )


def desired_for(session: Session, connection_id: str) -> Desired:
    """What the connection's enabled flow instances need; nothing for a deleted connection.

    An instance whose resolution fails is skipped; its error is kept (`failures`), and where
    its trigger alone still tells which subscription it needs, against that need.
    """
    desired = Desired()
    connection = session.get(Connection, connection_id)
    if connection is None:
        return desired
    store = ElementStore(session)
    for instance in flow_instances(session, connection_id):
        try:
            definition = store.resolve(instance)
        except OsmoError as exc:
            desired.failures[instance.id] = exc.message
            continue
        enabled = bool(definition.get("enabled", True))
        trigger = trigger_node(dict(definition.get("nodes") or {}))
        if not enabled:
            if trigger and trigger[0] == SCHEDULE_TRIGGER:
                snapshot = _unresolved_snapshot(instance, definition)
                desired.schedules.append(ScheduleNeed(instance.id, snapshot, trigger[1], False))
            continue
        try:
            snapshot = resolve_flow_instance(session, store, instance)
        except OsmoError as exc:
            desired.failures[instance.id] = exc.message
            if trigger is not None:
                try:
                    config = with_collection(store, connection, trigger[1])
                except OsmoError:
                    continue
                need = need_of_trigger(trigger[0], config)
                if need is not None:
                    desired.failed_needs.setdefault(
                        need.spec_hash, f"flow instance {instance.id}: {exc.message}"
                    )
            continue
        need = need_of(snapshot)
        if need is not None:
            desired.add(need, instance.id)
        schedule = schedule_of(snapshot)
        if schedule is not None:
            desired.schedules.append(ScheduleNeed(instance.id, snapshot, schedule, True))
    # Subscriptions created through the API are kept, whatever the flows need, until
    # unsubscribed.
    for row in subscriptions_of(session, connection_id):
        if row.explicit and row.state != SubscriptionState.unsubscribed.value:
            need = SubscriptionNeed(
                row.event_type,
                row.collection_key,
                dict(row.collection_parameters or {}),
                row.connector_event_key,
                row.pull_interval_seconds,
            )
            desired.add(need, f"explicit:{row.id}")
    return desired


# -- subscription rows ----------------------------------------------------------------------


def webhook_base(webhook_public_url: str | None, public_url: str) -> str:
    """Where apps reach Osmo's webhook ingress (`OSMO_WEBHOOK_PUBLIC_URL`, else the API's)."""
    return (webhook_public_url or public_url).rstrip("/")


def ingress_url(base: str, row: EventSubscription, scope: str | None) -> str | None:
    """The URL the app delivers this subscription's webhooks to: the subscription's own for
    per-connection webhooks (registered by Osmo, or set up by hand where the connector cannot
    register them), the integration's for app-level webhooks; None for polling."""
    if row.source != "webhook":
        return None
    if scope == "app":
        return f"{base}/webhooks/integrations/{row.integration_key}"
    return f"{base}/webhooks/subscriptions/{row.id}"


def subscriptions_of(session: Session, connection_id: str) -> list[EventSubscription]:
    return list(
        session.exec(
            select(EventSubscription)
            .where(EventSubscription.connection_id == connection_id)
            .order_by(EventSubscription.created_at, EventSubscription.id)  # type: ignore[arg-type]
        ).all()
    )


def upsert_subscription(
    session: Session, connection_id: str, need: SubscriptionNeed, source: str
) -> EventSubscription:
    """The connection's row for `need` (found by spec hash, else created), with `source` and
    the poll interval brought up to date. Its state, cursor and webhook are left as they are.
    Committed."""
    row = session.exec(
        select(EventSubscription).where(
            EventSubscription.connection_id == connection_id,
            EventSubscription.spec_hash == need.spec_hash,
        )
    ).first()
    if row is None:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise OsmoError(
                "not_found", "connection_not_found", f"No connection {connection_id!r}", status=404
            )
        integration = session.get(Integration, connection.integration_id)
        row = EventSubscription(
            customer_id=connection.customer_id,
            connection_id=connection_id,
            integration_key=integration.key if integration else "",
            spec_hash=need.spec_hash,
            event_type=need.event_type,
            collection_key=need.collection_key,
            collection_parameters=dict(need.parameters),
            connector_event_key=need.connector_event_key,
            source=source,
            pull_interval_seconds=need.pull_interval_seconds,
            state=SubscriptionState.unsubscribed.value,
        )
    else:
        row.source = source
        row.pull_interval_seconds = need.pull_interval_seconds
        row.updated_at = datetime.now(UTC)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def update_subscription(session: Session, subscription_id: str, **values: Any) -> EventSubscription:
    """Sets `values` on the row (state, error, webhook, secret...) and commits.

    Setting `state` to anything but `error` clears the error.
    """
    row = session.get(EventSubscription, subscription_id)
    if row is None:
        raise OsmoError(
            "not_found",
            "event_subscription_not_found",
            f"No event subscription {subscription_id!r}",
            status=404,
        )
    if values.get("state") not in (None, SubscriptionState.error.value):
        values.setdefault("error_key", None)
        values.setdefault("error_message", None)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = datetime.now(UTC)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def expiring_within(row: EventSubscription, seconds: float, now: datetime) -> bool:
    """Whether the row's registration expires within `seconds` of `now` (or has)."""
    expires = expires_at(row)
    return expires is not None and (expires - now).total_seconds() <= seconds


def expires_at(row: EventSubscription) -> datetime | None:
    """When the row's registered webhook expires (`webhook.expiresAt`), if it does."""
    value = (row.webhook or {}).get("expiresAt")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

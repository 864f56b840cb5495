"""What a connection's flow instances need (core/events/subscriptions.py): pure needs from
snapshots, and the subscription rows upserted by spec hash."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from core.elements.snapshots import FlowSnapshot
from core.events import subscriptions as subs
from core.events.messages import spec_hash
from tests.conftest import make_settings
from tests.core.subscription_seed import (
    database,
    delete_connection,
    put_data_source,
    put_flow,
    seed_connection,
    trigger_flow,
)


def snapshot(trigger_type: str, config: dict) -> FlowSnapshot:
    nodes = {
        "trigger": {"type": trigger_type, "config": config},
        "next": {"type": "transform-data", "config": {}},
    }
    return FlowSnapshot(flow_key="f", flow_instance_id="fi1", nodes=nodes)


def test_record_trigger_needs_its_collection_event_and_parameters() -> None:
    need = subs.need_of(
        snapshot(
            "data-record-updated-trigger",
            {
                "collectionKey": "issues",
                "parameters": {"owner": "o", "repo": "r"},
                "filter": [{"field": "event.action", "operator": "is", "value": "closed"}],
                "pullIntervalSeconds": 120,
            },
        )
    )
    assert need == subs.SubscriptionNeed(
        "data-record-updated", "issues", {"owner": "o", "repo": "r"}, None, 120
    )
    # The filter is the flow's business, not the subscription's: same hash without it.
    assert need.spec_hash == spec_hash(
        "data-record-updated", "issues", {"owner": "o", "repo": "r"}, None
    )


def test_connector_event_and_other_triggers() -> None:
    need = subs.need_of(snapshot("connector-event-trigger", {"eventType": "push"}))
    assert need == subs.SubscriptionNeed("connector-event", connector_event_key="push")
    assert subs.need_of(snapshot("api-trigger", {})) is None
    assert subs.need_of(snapshot("app-event-trigger", {"appEventType": "x"})) is None
    schedule = snapshot("schedule-trigger", {"cron": "0 9 * * *"})
    assert subs.need_of(schedule) is None
    assert subs.schedule_of(schedule) == {"cron": "0 9 * * *"}
    assert subs.schedule_of(snapshot("api-trigger", {})) is None
    # A record trigger whose collection is not resolved needs nothing it can name.
    assert subs.need_of(snapshot("data-record-created-trigger", {"dataSourceKey": "x"})) is None


def test_different_parameters_or_events_are_different_subscriptions() -> None:
    a = subs.SubscriptionNeed("data-record-created", "issues", {"repo": "a"})
    b = subs.SubscriptionNeed("data-record-created", "issues", {"repo": "b"})
    c = subs.SubscriptionNeed("data-record-deleted", "issues", {"repo": "a"})
    assert len({a.spec_hash, b.spec_hash, c.spec_hash}) == 3


def test_two_instances_share_one_need_with_the_shorter_interval() -> None:
    desired = subs.Desired()
    desired.add(subs.SubscriptionNeed("data-record-created", "tasks", {}, None, 600), "fi1")
    desired.add(subs.SubscriptionNeed("data-record-created", "tasks", {}, None, 120), "fi2")
    desired.add(subs.SubscriptionNeed("data-record-created", "tasks", {}, None, None), "fi3")
    (key,) = desired.needs
    assert desired.needs[key].pull_interval_seconds == 120
    assert desired.flow_instances[key] == ["fi1", "fi2", "fi3"]


def test_desired_for_reads_enabled_instances_resolves_data_sources_and_skips_broken_ones(
    tmp_path: Path,
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'osmo.db'}")
    engine, encryptor = database(settings)
    connection_id = seed_connection(engine, encryptor, "github", "personal-access-token", {})
    put_data_source(
        engine,
        connection_id,
        "repo-issues",
        {"collectionKey": "issues", "parameters": {"owner": "o", "repo": "r"}},
    )
    enabled = put_flow(
        engine,
        connection_id,
        "on-issue",
        trigger_flow("data-record-created-trigger", {"dataSourceKey": "repo-issues"}),
    )
    put_flow(
        engine,
        connection_id,
        "off",
        trigger_flow("data-record-deleted-trigger", {"collectionKey": "issues"}, enabled=False),
    )
    scheduled = put_flow(
        engine, connection_id, "daily", trigger_flow("schedule-trigger", {"cron": "0 9 * * *"})
    )
    paused = put_flow(
        engine,
        connection_id,
        "paused",
        trigger_flow("schedule-trigger", {"intervalSeconds": 3600}, enabled=False),
    )
    broken = put_flow(
        engine,
        connection_id,
        "broken",
        trigger_flow(
            "data-record-updated-trigger",
            {"collectionKey": "issues", "parameters": {"repo": "x"}},
            run={"type": "run-action", "config": {"actionKey": "missing"}},
        ),
    )
    with Session(engine) as session:
        desired = subs.desired_for(session, connection_id)
    need = subs.SubscriptionNeed("data-record-created", "issues", {"owner": "o", "repo": "r"})
    assert desired.needs == {need.spec_hash: need}
    assert desired.flow_instances == {need.spec_hash: [enabled]}
    assert [(s.flow_instance_id, s.enabled, s.trigger_config) for s in desired.schedules] == [
        (scheduled, True, {"cron": "0 9 * * *"}),
        (paused, False, {"intervalSeconds": 3600}),
    ]
    assert desired.schedules[0].snapshot is not None
    assert set(desired.failures) == {broken}
    broken_need = subs.SubscriptionNeed("data-record-updated", "issues", {"repo": "x"})
    assert "actionKey" in desired.failed_needs[broken_need.spec_hash]

    delete_connection(engine, connection_id)
    with Session(engine) as session:
        gone = subs.desired_for(session, connection_id)
    assert gone.needs == {} and gone.schedules == []


def test_upsert_finds_the_row_by_spec_hash_and_keeps_its_cursor(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'osmo.db'}")
    engine, encryptor = database(settings)
    connection_id = seed_connection(engine, encryptor, "asana", "personal-access-token", {})
    need = subs.SubscriptionNeed("data-record-created", "users", {"workspaceId": "w"}, None, 300)
    with Session(engine) as session:
        row = subs.upsert_subscription(session, connection_id, need, "full-scan")
        assert row.state == "unsubscribed" and row.integration_key.startswith("asana-")
        subs.update_subscription(session, row.id, state="subscribed", cursor={"snapshot": "b1"})
        subs.update_subscription(session, row.id, state="error", error_key="k", error_message="m")
        again = subs.upsert_subscription(
            session,
            connection_id,
            subs.SubscriptionNeed(**{**need.__dict__, "pull_interval_seconds": 90}),
            "full-scan",
        )
        assert again.id == row.id
        assert again.cursor == {"snapshot": "b1"} and again.pull_interval_seconds == 90
        assert (again.state, again.error_key) == ("error", "k")
        cleared = subs.update_subscription(session, row.id, state="unsubscribed")
        assert (cleared.error_key, cleared.error_message) == (None, None)
        assert cleared.cursor == {"snapshot": "b1"}
        assert [r.id for r in subs.subscriptions_of(session, connection_id)] == [row.id]

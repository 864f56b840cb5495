"""External event subscriptions through the API: created by spec (checked against the
connector), listed per customer, and their inbox and sync signalled on Temporal."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core.events.messages import event_sync_workflow_id, inbox_workflow_id
from core.events.models import EventSubscription
from core.events.subscriptions import desired_for, ingress_url, webhook_base
from tests.api.element_samples import FLOW
from tests.api.event_helpers import connection, integration, use_temporal
from tests.conftest import Osmo
from tests.fakes import FakeCRM
from tests.workflows.flow_fixtures import crm_connection, define_all

ISSUES_CREATED = {
    "eventType": "data-record-created",
    "collectionKey": "issues",
    "collectionParameters": {"owner": "octo", "repo": "hello"},
}


async def signals(osmo: Osmo, workflow_id: str) -> list[tuple[str, list[Any]]]:
    """The signals a workflow received, decoded with the API's (encrypting) converter."""
    client = osmo.services.temporal_client
    assert client is not None
    handle = client.get_workflow_handle(workflow_id)
    found = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            attributes = event.workflow_execution_signaled_event_attributes
            args = await client.data_converter.decode(attributes.input.payloads)
            found.append((attributes.signal_name, args))
    return found


def github(osmo: Osmo, tenant: str) -> str:
    integration_id = integration(osmo, f"gh-{tenant}", "github")
    return connection(osmo, integration_id, tenant, "oauth-app", {"access_token": "gho_x"})


async def create(osmo: Osmo, tenant: str, conn: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await osmo.call(
        "POST", f"/connections/{conn}/external-event-subscriptions", tenant=tenant, json=body
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_by_spec_asks_for_a_sync_and_is_idempotent(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    conn = github(osmo_sqlite, "acme")

    first = await create(osmo_sqlite, "acme", conn, ISSUES_CREATED)
    again = await create(osmo_sqlite, "acme", conn, ISSUES_CREATED)

    assert first["id"] == again["id"]
    assert (first["source"], first["state"], first["explicit"]) == ("webhook", "subscribed", True)
    assert first["collectionParameters"] == {"owner": "octo", "repo": "hello"}
    # GitHub's webhooks are per connection: the subscription's own ingress URL.
    assert first["webhookUrl"].endswith(f"/webhooks/subscriptions/{first['id']}")
    listed = await osmo_sqlite.call("GET", "/external-event-subscriptions", tenant="acme")
    assert [s["webhookUrl"] for s in listed.json()["items"]] == [first["webhookUrl"]]
    sync = await signals(osmo_sqlite, event_sync_workflow_id(conn))
    assert [name for name, _ in sync] == ["sync", "sync"]


async def test_spec_the_connector_does_not_have_is_422_with_the_path(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    conn = github(osmo_sqlite, "acme")
    cases = [
        ({"eventType": "data-record-created", "collectionKey": "nope"}, "collectionKey"),
        ({"eventType": "data-record-deleted", "collectionKey": "pull-requests"}, "eventType"),
        ({"eventType": "data-record-updated"}, "collectionKey"),
        ({"eventType": "connector-event"}, "connectorEventKey"),
        ({"eventType": "record-exploded", "collectionKey": "issues"}, "eventType"),
    ]
    for body, path in cases:
        response = await osmo_sqlite.call(
            "POST", f"/connections/{conn}/external-event-subscriptions", tenant="acme", json=body
        )
        assert response.status_code == 422, (body, response.text)
        paths = [e["path"] for e in response.json()["data"]["errors"]]
        assert f"body.{path}" in paths, response.text


async def test_customers_see_only_their_own_subscriptions(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    mine = await create(osmo_sqlite, "acme", github(osmo_sqlite, "acme"), ISSUES_CREATED)
    theirs = await create(osmo_sqlite, "beta", github(osmo_sqlite, "beta"), ISSUES_CREATED)

    listed = (await osmo_sqlite.call("GET", "/external-event-subscriptions", tenant="acme")).json()
    assert [s["id"] for s in listed["items"]] == [mine["id"]]
    everyone = (await osmo_sqlite.call("GET", "/external-event-subscriptions")).json()
    assert {s["id"] for s in everyone["items"]} == {mine["id"], theirs["id"]}
    filtered = await osmo_sqlite.call(
        "GET", "/external-event-subscriptions", params={"connectionId": theirs["connectionId"]}
    )
    assert [s["id"] for s in filtered.json()["items"]] == [theirs["id"]]
    for method, suffix in (("GET", ""), ("POST", "/unsubscribe"), ("POST", "/pull-events")):
        path = f"/external-event-subscriptions/{theirs['id']}{suffix}"
        response = await osmo_sqlite.call(method, path, tenant="acme")
        assert response.status_code == 404, (path, response.text)
        assert response.json()["key"] == "event_subscription_not_found"


async def test_pull_unsubscribe_reset_and_subscribe_signal_the_inbox_and_sync(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    conn = github(osmo_sqlite, "acme")
    sub = (await create(osmo_sqlite, "acme", conn, ISSUES_CREATED))["id"]
    base = f"/external-event-subscriptions/{sub}"
    with Session(osmo_sqlite.services.engine) as session:
        row = session.get(EventSubscription, sub)
        assert row is not None
        row.cursor = {"since": "2026-01-01T00:00:00Z"}
        session.add(row)
        session.commit()

    pulled = await osmo_sqlite.call(
        "POST", f"{base}/pull-events", tenant="acme", json={"fullScan": True}
    )
    assert pulled.status_code == 200, pulled.text
    early_reset = await osmo_sqlite.call("POST", f"{base}/reset", tenant="acme")
    assert early_reset.status_code == 409
    assert early_reset.json()["key"] == "subscription_subscribed"
    gone = await osmo_sqlite.call("POST", f"{base}/unsubscribe", tenant="acme")
    assert gone.status_code == 200 and gone.json()["state"] == "unsubscribed"
    assert gone.json()["cursor"] == {"since": "2026-01-01T00:00:00Z"}  # kept
    idle = await osmo_sqlite.call("POST", f"{base}/pull-events", tenant="acme")
    assert idle.status_code == 409 and idle.json()["key"] == "subscription_not_subscribed"
    reset = await osmo_sqlite.call("POST", f"{base}/reset", tenant="acme")
    assert reset.status_code == 200 and reset.json()["cursor"] is None
    back = await osmo_sqlite.call("POST", f"{base}/subscribe", tenant="acme")
    assert back.status_code == 200 and back.json()["state"] == "subscribed"

    inbox = await signals(osmo_sqlite, inbox_workflow_id(sub))
    assert inbox == [("pull", [{"fullScan": True}]), ("stop", [])]
    sync = await signals(osmo_sqlite, event_sync_workflow_id(conn))
    assert [name for name, _ in sync] == ["sync", "sync", "sync"]  # create, unsubscribe, subscribe


async def test_enabling_disabling_and_changing_flows_ask_for_a_sync(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    conn = await crm_connection(osmo_sqlite, crm[1])
    await define_all(osmo_sqlite, ("/flows", FLOW))
    read = await osmo_sqlite.call("GET", f"/connections/{conn}/flows/notify", tenant="acme")
    assert read.status_code == 200
    sync_id = event_sync_workflow_id(conn)

    async def synced() -> int:
        try:
            return len(await signals(osmo_sqlite, sync_id))
        except RPCError:  # not started yet
            return 0

    assert await synced() == 0  # reads ask for nothing
    acme, admin = "acme", None
    steps = [
        (
            acme,
            "PATCH",
            "/flow-instance",
            {"connectionId": conn, "flowKey": "notify"},
            {"enabled": False},
        ),
        (acme, "PATCH", f"/connections/{conn}/flows/notify", None, {"enabled": True}),
        (admin, "PATCH", "/flows/notify", None, {"name": "Notify them"}),
        (acme, "POST", f"/connections/{conn}/flows/notify/reset", None, None),
    ]
    for count, (tenant, method, path, params, body) in enumerate(steps, start=1):
        response = await osmo_sqlite.call(method, path, tenant=tenant, params=params, json=body)
        assert response.status_code == 200, (path, response.text)
        assert await synced() == count, path
    deleted = await osmo_sqlite.call("DELETE", f"/connections/{conn}", tenant="acme")
    assert deleted.status_code == 204
    assert await synced() == len(steps) + 1


async def test_a_write_succeeds_when_temporal_is_down(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str]
) -> None:
    osmo_sqlite.services.settings.temporal_address = "127.0.0.1:1"
    conn = await crm_connection(osmo_sqlite, crm[1])
    await define_all(osmo_sqlite, ("/flows", FLOW))
    response = await osmo_sqlite.call(
        "PATCH", f"/connections/{conn}/flows/notify", tenant="acme", json={"enabled": False}
    )
    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is False


async def test_the_sync_keeps_an_explicit_subscription_until_it_is_unsubscribed(
    osmo_sqlite: Osmo, env: WorkflowEnvironment
) -> None:
    use_temporal(osmo_sqlite, env.client)
    conn = github(osmo_sqlite, "acme")
    sub = await create(osmo_sqlite, "acme", conn, ISSUES_CREATED)

    def needed() -> set[str]:
        with Session(osmo_sqlite.services.engine) as session:
            return set(desired_for(session, conn).needs)

    assert needed() == {row_hash(osmo_sqlite, sub["id"])}  # though no flow needs it
    gone = await osmo_sqlite.call(
        "POST", f"/external-event-subscriptions/{sub['id']}/unsubscribe", tenant="acme"
    )
    assert gone.status_code == 200 and gone.json()["explicit"] is False
    assert needed() == set()


def row_hash(osmo: Osmo, subscription_id: str) -> str:
    with Session(osmo.services.engine) as session:
        row = session.get(EventSubscription, subscription_id)
        assert row is not None
        return row.spec_hash


def test_the_ingress_url_is_the_integrations_for_app_level_webhooks_and_none_for_polling() -> None:
    row = EventSubscription(
        id="sub1",
        customer_id="c",
        connection_id="conn",
        integration_key="hub",
        event_type="data-record-created",
        spec_hash="h",
        source="webhook",
    )
    base = webhook_base("https://hooks.example.com/", "https://api.example.com")
    assert ingress_url(base, row, "app") == "https://hooks.example.com/webhooks/integrations/hub"
    assert ingress_url(base, row, "connection") == (
        "https://hooks.example.com/webhooks/subscriptions/sub1"
    )
    row.source = "pull-latest-records"
    assert ingress_url(base, row, "connection") is None
    assert webhook_base(None, "https://api.example.com/") == "https://api.example.com"

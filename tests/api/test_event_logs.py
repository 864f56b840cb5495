"""Event logs: filters, cursor pages, and each customer seeing only their own rows."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core.events.models import (
    AppEventLog,
    ExternalEventLogRecord,
    ExternalEventPull,
    IncomingWebhook,
)
from core.models import Connection
from tests.api.event_helpers import connection, integration, subscription
from tests.conftest import Osmo


def seed_logs(osmo: Osmo) -> dict[str, tuple[str, str, str]]:
    """Per tenant: (customer id, connection id, subscription id), three rows of each log."""
    integration_id = integration(osmo, "gh", "github")
    owners = {}
    with Session(osmo.services.engine) as session:
        for tenant in ("acme", "beta"):
            conn = connection(osmo, integration_id, tenant, "oauth-app", {"access_token": "t"})
            sub = subscription(osmo, conn)
            row = session.get(Connection, conn)
            assert row is not None
            owners[tenant] = (row.customer_id, conn, sub)
            for n, status in enumerate(("delivered", "rejected", "delivered")):
                ids: dict[str, Any] = {"customer_id": row.customer_id, "connection_id": conn}
                session.add(
                    IncomingWebhook(
                        **ids,
                        subscription_id=sub,
                        status=status,
                        method="POST",
                        path=f"/webhooks/subscriptions/{sub}",
                    )
                )
                session.add(
                    ExternalEventLogRecord(
                        **ids,
                        subscription_id=sub,
                        event_id=f"e{n}",
                        event_type="connector-event",
                        status="launched" if n else "no-flows",
                    )
                )
                session.add(
                    ExternalEventPull(
                        **ids, subscription_id=sub, status="completed", full_scan=n == 2
                    )
                )
                session.add(AppEventLog(customer_id=row.customer_id, type_key=f"t{n}"))
        session.add(
            IncomingWebhook(status="unrouted", method="POST", path="/webhooks/integrations/gh")
        )
        session.commit()
    return owners


ROUTES = (
    "/incoming-webhooks",
    "/external-event-log-records",
    "/external-event-pulls",
    "/app-events",
)


async def test_customers_see_only_their_own_rows(osmo_sqlite: Osmo) -> None:
    owners = seed_logs(osmo_sqlite)
    for route in ROUTES:
        mine = (await osmo_sqlite.call("GET", route, tenant="acme")).json()["items"]
        assert len(mine) == 3, route
        assert {r["customerId"] for r in mine} == {owners["acme"][0]}, route
        theirs = (await osmo_sqlite.call("GET", route, tenant="beta")).json()["items"]
        for row in theirs:
            own = await osmo_sqlite.call("GET", f"{route}/{row['id']}", tenant="beta")
            assert own.status_code == 200
            leaked = await osmo_sqlite.call("GET", f"{route}/{row['id']}", tenant="acme")
            assert leaked.status_code == 404, (route, leaked.text)
        everyone = (await osmo_sqlite.call("GET", route)).json()["items"]
        assert len(everyone) == (7 if route == "/incoming-webhooks" else 6), route


async def test_filters_and_cursor_pages(osmo_sqlite: Osmo) -> None:
    owners = seed_logs(osmo_sqlite)
    _, conn, sub = owners["beta"]

    rejected = await osmo_sqlite.call(
        "GET", "/incoming-webhooks", params={"status": "rejected", "connectionId": conn}
    )
    assert [(r["status"], r["connectionId"]) for r in rejected.json()["items"]] == [
        ("rejected", conn)
    ]
    launched = await osmo_sqlite.call(
        "GET", "/external-event-log-records", params={"subscriptionId": sub, "status": "launched"}
    )
    assert sorted(r["eventId"] for r in launched.json()["items"]) == ["e1", "e2"]
    scans = await osmo_sqlite.call("GET", "/external-event-pulls", params={"fullScan": True})
    assert len(scans.json()["items"]) == 2
    unrouted = await osmo_sqlite.call("GET", "/incoming-webhooks", params={"status": "unrouted"})
    assert [r["customerId"] for r in unrouted.json()["items"]] == [None]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await osmo_sqlite.call("GET", "/incoming-webhooks", params=params)).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7

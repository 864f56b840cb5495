"""Starting a flow run releases the request's database connection before it awaits Temporal.

A start route that kept its pooled connection checked out while Temporal answered stalled the
whole API once as many starts were in flight as the pool has connections.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.routes import flow_runs
from core.errors import OsmoError
from tests.api.element_samples import FLOW
from tests.conftest import Osmo
from tests.workflows.flow_fixtures import crm_connection, define


async def test_start_routes_hold_no_database_connection_while_starting(
    osmo_sqlite: Osmo, crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = await crm_connection(osmo_sqlite, crm[1])
    await define(osmo_sqlite, FLOW)
    instance = await osmo_sqlite.call(
        "GET", f"/connections/{connection_id}/flows/notify", tenant="acme"
    )
    held: list[int] = []

    async def start_flow_run(services: Any, run_input: Any) -> Any:
        # Stands in for Temporal: the route awaits here, so count what it holds meanwhile.
        held.append(services.engine.pool.checkedout())
        raise OsmoError("unavailable", "temporal_unavailable", "not started here", status=503)

    monkeypatch.setattr(flow_runs, "start_flow_run", start_flow_run)
    starts = [
        ("POST", f"/connections/{connection_id}/flows/notify/run", {}),
        ("POST", "/flows/notify/run", {"connectionId": connection_id}),
        ("POST", "/flow-runs", {"flowInstanceId": instance.json()["id"]}),
    ]
    for method, path, body in starts:
        answer = await osmo_sqlite.call(method, path, tenant="acme", json=body)
        assert answer.status_code == 503, answer.text
    assert held == [0, 0, 0]

"""Resolved snapshots are reused between runs, and never once anything they came from changed.

The run itself is replaced by a function answering the snapshot it was given, so what is
checked is exactly what a workflow would have received; the caches are the API's own.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest
from sqlmodel import Session

from api import actions
from api.models.actions import ActionRunResult
from api.routes import flow_runs
from core.elements.snapshots import ActionSnapshot
from core.elements.store import ElementStore
from core.errors import OsmoError
from tests.conftest import Osmo
from tests.workflows.flow_fixtures import CONTACTS_SOURCE, CREATE_CONTACT, crm_connection, define

RUN_INPUT = {"input": {"email": "ada@example.com"}}


@pytest.fixture
def answered_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    async def execute_action(services: Any, snapshot: ActionSnapshot, input: Any) -> Any:
        return ActionRunResult(output=asdict(snapshot), action_run_id="not-run")

    monkeypatch.setattr(actions, "execute_action", execute_action)


async def _snapshot(osmo: Osmo, connection_id: str) -> dict[str, Any]:
    run = await osmo.call(
        "POST",
        f"/connections/{connection_id}/actions/create-contact/run",
        tenant="acme",
        json=RUN_INPUT,
    )
    assert run.status_code == 200, run.text
    return dict(run.json()["output"])


async def test_action_snapshots_are_reused_until_any_layer_changes(
    osmo: Osmo, crm, answered_snapshots: None
) -> None:
    connection_id = await crm_connection(osmo, crm[1])
    for path, body in (CONTACTS_SOURCE, ("/actions", CREATE_CONTACT)):
        assert (await osmo.call("POST", path, json=body)).status_code == 201
    cache = osmo.services.action_snapshots

    first = await _snapshot(osmo, connection_id)
    assert first["config"]["collectionKey"] == "contacts"
    assert (cache.hits, cache.misses) == (0, 1)
    assert await _snapshot(osmo, connection_id) == first
    assert (cache.hits, cache.misses) == (1, 1)

    # The universal layer changes: the next run takes the new definition.
    mapping = {"id": {"$var": "output.record.id"}}
    patched = await osmo.call("PATCH", "/actions/create-contact", json={"outputMapping": mapping})
    assert patched.status_code == 200, patched.text
    second = await _snapshot(osmo, connection_id)
    assert second["output_mapping"] == mapping and second["revision"] == first["revision"]
    assert cache.misses == 2

    # The connection's own layer changes.
    instance = f"/connections/{connection_id}/actions/create-contact"
    own = {"id": {"$var": "output.record.id"}, "mine": True}
    patched = await osmo.call("PATCH", instance, json={"outputMapping": own})
    assert patched.status_code == 200, patched.text
    third = await _snapshot(osmo, connection_id)
    assert third["output_mapping"] == own and third["revision"] == first["revision"] + 1

    # A data source the action points at changes.
    source = await osmo.call(
        "PATCH", "/data-sources/contacts", json={"parameters": {"segment": "vip"}}
    )
    assert source.status_code == 200, source.text
    fourth = await _snapshot(osmo, connection_id)
    assert fourth["config"]["parameters"] == {"segment": "vip"}

    # Another process (its own engine, no shared memory) changes the universal layer.
    with Session(osmo.services.engine) as session:
        store = ElementStore(session)
        universal = store.find("actions", "create-contact")
        store.update(universal, {"outputMapping": {"x": 1}})
    fifth = await _snapshot(osmo, connection_id)
    assert fifth["output_mapping"] == own  # the connection's own value still shadows it
    assert cache.misses == 5 and cache.hits == 1

    # Deleting the instance (a reset by deletion) is seen too: a new instance is made.
    reset = await osmo.call("POST", f"{instance}/reset")
    assert reset.status_code == 200, reset.text
    assert (await _snapshot(osmo, connection_id))["output_mapping"] == {"x": 1}


async def test_flow_snapshots_are_reused_until_the_flow_changes(
    osmo: Osmo, crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = await crm_connection(osmo, crm[1])
    flow: dict[str, Any] = {
        "key": "cached",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "map"}]},
            "map": {"type": "transform-data", "config": {"value": 1}},
        },
    }
    await define(osmo, flow)
    started: list[Any] = []

    async def start_flow_run(services: Any, run_input: Any) -> Any:
        started.append(run_input.snapshot)
        raise OsmoError("unavailable", "temporal_unavailable", "not started here", status=503)

    monkeypatch.setattr(flow_runs, "start_flow_run", start_flow_run)
    path = f"/connections/{connection_id}/flows/cached/run"
    for _ in range(2):
        assert (await osmo.call("POST", path, tenant="acme", json={})).status_code == 503
    assert started[0] == started[1]
    assert osmo.services.flow_snapshots.hits == 1
    nodes = {**flow["nodes"], "map": {"type": "transform-data", "config": {"value": 2}}}
    patched = await osmo.call("PATCH", "/flows/cached", json={"nodes": nodes})
    assert patched.status_code == 200, patched.text
    assert (await osmo.call("POST", path, tenant="acme", json={})).status_code == 503
    assert started[2].nodes["map"]["config"]["value"] == 2
    # Another customer's connection is a 404, cached or not.
    other = await osmo.call("POST", path, tenant="intruder", json={})
    assert other.status_code == 404 and other.json()["key"] == "connection_not_found"

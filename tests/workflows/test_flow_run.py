"""Flows end to end on the dev server: define at three layers, run, inspect, list, fail, re-run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import Osmo
from tests.workflows.flow_fixtures import crm_connection, finished, flow_worker

FLOW: dict[str, Any] = {
    "key": "sync-contact",
    "name": "Sync a contact",
    "parameters": {"vipDomain": "example.com"},
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "fields"}]},
        "fields": {
            "type": "transform-data",
            "config": {
                "value": {
                    "email": {"$var": "input.trigger.email"},
                    "firstname": {"$firstName": {"$var": "input.trigger.name"}},
                    "lastname": {"$lastName": {"$var": "input.trigger.name"}},
                }
            },
            "links": [{"key": "create"}],
        },
        "create": {
            "type": "create-data-record",
            "config": {"collectionKey": "contacts", "fields": {"$var": "input.fields"}},
            "links": [
                {
                    "key": "vip",
                    "filter": {
                        "field": "input.trigger.email",
                        "operator": "contains",
                        "value": {"$var": "flowInstance.parameters.vipDomain"},
                    },
                },
                {"key": "regular"},
            ],
        },
        "vip": {"type": "transform-data", "config": {"value": "vip"}},
        "regular": {
            "type": "transform-data",
            "config": {"value": {"$var": "input.create.record.id"}},
        },
    },
}


@pytest.fixture
async def running(
    osmo_sqlite: Osmo, crm, env: WorkflowEnvironment
) -> AsyncIterator[tuple[Osmo, str]]:
    _, url = crm
    connection_id = await crm_connection(osmo_sqlite, url)
    async with flow_worker(osmo_sqlite, env):
        yield osmo_sqlite, connection_id


async def test_flow_runs_with_branches_and_is_inspectable(running, crm) -> None:
    osmo, connection_id = running
    fake, _ = crm
    assert (await osmo.call("POST", "/flows", json=FLOW)).status_code == 201
    started = await osmo.call(
        "POST",
        f"/connections/{connection_id}/flows/sync-contact/run",
        tenant="acme",
        json={"input": {"email": "ada@example.com", "name": "Ada Lovelace"}},
    )
    assert started.status_code == 201, started.text
    # The start answers the run itself, in the shape GET /flow-runs/{id} answers.
    begun = started.json()
    assert begun["state"] == "running" and begun["startTime"].endswith("Z")
    assert begun["flowRunId"] == begun["id"] and begun["connectionId"] == connection_id
    assert begun["connectionFlowId"] == begun["flowInstanceId"] is not None
    assert begun["userId"] == begun["customerId"] is not None
    run = await finished(osmo, begun["id"])
    assert run["state"] == "completed", run
    assert run["input"] == {"email": "ada@example.com", "name": "Ada Lovelace"}
    assert run["flowInstanceId"] == begun["flowInstanceId"] and run["startTime"].endswith("Z")
    assert {"id", "nodeKey", "nodeType", "startedAt", "durationMs"} <= run["nodeRuns"][0].keys()
    keys = [r["nodeKey"] for r in run["nodeRuns"]]
    assert keys == ["trigger", "fields", "create", "vip", "regular"]
    created = run["nodeRuns"][2]["outputs"][0]["record"]
    assert fake.contacts[created["id"]]["properties"]["firstname"] == "Ada"
    assert run["nodeRuns"][4]["outputs"] == [created["id"]]
    # a non-VIP takes only the unfiltered branch
    other = await osmo.call(
        "POST",
        f"/connections/{connection_id}/flows/sync-contact/run",
        tenant="acme",
        json={"input": {"email": "grace@navy.mil", "name": "Grace Hopper"}},
    )
    run = await finished(osmo, other.json()["flowRunId"])
    assert [r["nodeKey"] for r in run["nodeRuns"]] == ["trigger", "fields", "create", "regular"]


async def test_failed_node_stops_the_run_and_rerun_from_it(running, crm) -> None:
    osmo, connection_id = running
    fake, _ = crm
    await osmo.call("POST", "/flows", json=FLOW)
    started = await osmo.call(
        "POST",
        "/flows/sync-contact/run",
        tenant="acme",
        json={"connectionId": connection_id, "input": {"email": "not-unique", "name": "A B"}},
    )
    # the fake CRM refuses a duplicate email with 409 → conflict is not retried
    first = await finished(osmo, started.json()["flowRunId"])
    assert first["state"] == "completed"
    again = await osmo.call(
        "POST",
        "/flows/sync-contact/run",
        tenant="acme",
        json={"connectionId": connection_id, "input": {"email": "not-unique", "name": "A B"}},
    )
    failed = await finished(osmo, again.json()["flowRunId"])
    assert failed["state"] == "failed", failed
    assert failed["failedNodeKey"] == "create"
    assert failed["nodeRuns"][-1]["error"]["key"] == "conflict"
    # remove the clash, then re-run from the failed node with the original definition
    duplicate = next(
        i for i, c in fake.contacts.items() if c["properties"]["email"] == "not-unique"
    )
    del fake.contacts[duplicate]
    rerun = await osmo.call(
        "POST",
        f"/flow-runs/{failed['id']}/rerun",
        tenant="acme",
        json={"from": "failed-node", "definition": "original"},
    )
    assert rerun.status_code == 201, rerun.text
    resumed = await finished(osmo, rerun.json()["flowRunId"])
    assert resumed["state"] == "completed"
    assert resumed["nodeRuns"][0]["nodeKey"] == "create"
    listed = (await osmo.call("GET", "/flow-runs?state=failed", tenant="acme")).json()
    for _ in range(50):
        if listed["items"]:
            break
        await asyncio.sleep(0.1)
        listed = (await osmo.call("GET", "/flow-runs?state=failed", tenant="acme")).json()
    assert [item["id"] for item in listed["items"]] == [failed["id"]]
    by_instance = f"/flow-runs?flowInstanceId={failed['flowInstanceId']}&state=failed"
    assert [
        r["id"] for r in (await osmo.call("GET", by_instance, tenant="acme")).json()["items"]
    ] == [failed["id"]]
    elsewhere = "/flow-runs?flowInstanceId=no-such-instance"
    assert (await osmo.call("GET", elsewhere, tenant="acme")).json()["items"] == []
    assert (await osmo.call("GET", "/flow-runs", tenant="globex")).json()["items"] == []
    assert (
        await osmo.call("GET", f"/flow-runs/{failed['id']}", tenant="globex")
    ).status_code == 404


async def test_a_long_loop_continues_as_new_and_reads_as_one_run(
    osmo_sqlite: Osmo, crm, env: WorkflowEnvironment
) -> None:
    fake, url = crm
    connection_id = await crm_connection(osmo_sqlite, url)
    flow = {
        "key": "import-many",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "each"}]},
            "each": {
                "type": "for-each",
                "config": {"items": {"$var": "input.trigger.people"}},
                "concurrency": 4,
                "links": [{"key": "create"}],
            },
            "create": {
                "type": "create-data-record",
                "config": {
                    "collectionKey": "contacts",
                    "fields": {"email": {"$var": "input.each"}},
                },
            },
        },
    }
    people = [f"person{n}@example.com" for n in range(24)]
    async with flow_worker(osmo_sqlite, env, flow_history_limit=60):
        osmo_sqlite.services.settings.flow_history_limit = 60
        assert (await osmo_sqlite.call("POST", "/flows", json=flow)).status_code == 201
        started = await osmo_sqlite.call(
            "POST",
            f"/connections/{connection_id}/flows/import-many/run",
            tenant="acme",
            json={"input": {"people": people}},
        )
        run_id = started.json()["flowRunId"]
        run = await finished(osmo_sqlite, run_id)
    assert run["state"] == "completed", run
    emails = sorted(
        email
        for c in fake.contacts.values()
        if (email := c["properties"].get("email", "")).startswith("person")
    )
    assert emails == sorted(people)  # each item written once across the continuations
    creates = [r for r in run["nodeRuns"] if r["nodeKey"] == "create"]
    assert sorted(r["input"]["each"] for r in creates) == sorted(people)
    assert all(r["input"]["trigger"] == {"people": people} for r in creates)
    handle = osmo_sqlite.services.temporal_client.get_workflow_handle(run_id)  # type: ignore[union-attr]
    first_run_id = (await handle.describe()).raw_description.workflow_execution_info.first_run_id
    first = await handle._client.get_workflow_handle(run_id, run_id=first_run_id).fetch_history()
    assert first.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    # Listed once (as its latest execution), under the customer's search attributes.
    for _ in range(50):
        listed = (
            await osmo_sqlite.call("GET", "/flow-runs?flowKey=import-many", tenant="acme")
        ).json()
        if listed["items"] and listed["items"][0]["state"] == "completed":
            break
        await asyncio.sleep(0.1)
    assert [(i["id"], i["state"]) for i in listed["items"]] == [(run_id, "completed")]


async def test_stop_a_running_flow(running) -> None:
    osmo, connection_id = running
    flow = {
        "key": "slow",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "wait"}]},
            "wait": {"type": "delay", "config": {"seconds": 3600}},
        },
    }
    assert (await osmo.call("POST", "/flows", json=flow)).status_code == 201
    started = await osmo.call(
        "POST", f"/connections/{connection_id}/flows/slow/run", tenant="acme", json={}
    )
    run_id = started.json()["flowRunId"]
    run = (await osmo.call("GET", f"/flow-runs/{run_id}", tenant="acme")).json()
    assert run["state"] == "running"
    stopped = await osmo.call("POST", f"/flow-runs/{run_id}/stop", tenant="acme")
    assert stopped.json()["state"] == "stopping"
    assert (await finished(osmo, run_id))["state"] == "stopped"


async def test_invalid_flows_are_refused_with_paths(osmo_sqlite: Osmo) -> None:
    bad = {
        "key": "bad",
        "nodes": {
            "t": {"type": "api-trigger", "links": [{"key": "missing"}]},
            "x": {"type": "teleport"},
            "f": {"type": "filter", "config": {}},
            "e": {"type": "for-each", "config": {"items": []}, "concurrency": 0},
            "g": {"type": "create-data-record", "config": {"fields": {}}},
            "r": {
                "type": "transform-data",
                "config": {"value": 1},
                "timeoutSeconds": -1,
                "retry": {"maximumAttempts": "many"},
            },
        },
    }
    response = await osmo_sqlite.call("POST", "/flows", json=bad)
    assert response.status_code == 422
    errors = response.json()["data"]["errors"]
    assert {"path": "nodes.g.config", "message": "needs collectionKey or dataSourceKey"} in errors
    paths = {e["path"] for e in errors}
    assert {
        "nodes.t.links[0].key",
        "nodes.x.type",
        "nodes.f.config",
        "nodes.e.concurrency",
        "nodes.g.config",
        "nodes.r.timeoutSeconds",
        "nodes.r.retry.maximumAttempts",
    } <= paths
    cyclic = {
        "key": "loop",
        "nodes": {
            "t": {"type": "api-trigger", "links": [{"key": "a"}]},
            "a": {"type": "transform-data", "config": {"value": 1}, "links": [{"key": "b"}]},
            "b": {"type": "transform-data", "config": {"value": 1}, "links": [{"key": "a"}]},
        },
    }
    response = await osmo_sqlite.call("POST", "/flows", json=cyclic)
    assert response.status_code == 422 and "cycle" in response.json()["message"]
    assert (await osmo_sqlite.call("GET", "/flows")).json()["items"] == []


async def test_parameters_must_fit_the_parameters_schema(running) -> None:
    osmo, connection_id = running
    flow = {
        "key": "limited",
        "parametersSchema": {"type": "object", "properties": {"limit": {"type": "integer"}}},
        "parameters": {"limit": 10},
        "nodes": {"t": {"type": "api-trigger"}},
    }
    assert (await osmo.call("POST", "/flows", json=flow)).status_code == 201
    path = f"/connections/{connection_id}/flows/limited"
    bad = await osmo.call("PATCH", path, tenant="acme", json={"parameters": {"limit": "ten"}})
    assert bad.status_code == 422
    assert bad.json()["data"]["errors"] == [
        {"path": "parameters.limit", "message": "'ten' is not of type 'integer'"}
    ]
    good = await osmo.call("PATCH", path, tenant="acme", json={"parameters": {"limit": 5}})
    assert good.status_code == 200 and good.json()["parameters"] == {"limit": 5}
    disabled = await osmo.call("PATCH", path, tenant="acme", json={"enabled": False})
    assert disabled.status_code == 200
    refused = await osmo.call("POST", f"{path}/run", tenant="acme", json={})
    assert refused.status_code == 400 and refused.json()["key"] == "flow_disabled"
    since = (await osmo.call("GET", "/flow-runs?since=2999-01-01T00:00:00Z", tenant="acme")).json()
    assert since["items"] == []

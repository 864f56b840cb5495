"""App events through the API with a real worker on the Temporal dev server (visibility
queries find the runs waiting for app events): schema checks, flow runs started, waiting runs
resumed, the app event log, the global URL."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.conftest import Osmo
from tests.fakes import FakeCRM
from tests.workflows.flow_fixtures import crm_connection, define_all, flow_worker
from workflows.nodes.wait_for_event import awaits_app_event, takes

ORDER_PAID = {
    "key": "order-paid",
    "schema": {
        "type": "object",
        "required": ["orderId", "tenant"],
        "properties": {
            "orderId": {"type": "string"},
            "amount": {"type": "number"},
            "tenant": {"type": "string"},
        },
    },
    "example": {"orderId": "o-1", "amount": 10, "tenant": "acme"},
    "customerFormula": {"$var": "payload.tenant"},
}
ORDER_SHIPPED = {"key": "order-shipped", "schema": {"type": "object"}}
# Starts on a paid order (over 5), then waits for the order to ship.
FULFIL = {
    "key": "fulfil",
    "nodes": {
        "trigger": {
            "type": "app-event-trigger",
            "config": {
                "appEventType": "order-paid",
                "filter": {"field": "event.payload.amount", "operator": "more_than", "value": 5},
            },
            "links": [{"key": "shipped"}],
        },
        "shipped": {
            "type": "wait-for-event",
            "config": {"appEventType": "order-shipped", "timeoutSeconds": 60},
            "links": [{"key": "done"}],
        },
        "done": {"type": "transform-data", "config": {"value": {"$var": "input.shipped.payload"}}},
    },
}


async def run_state(osmo: Osmo, run_id: str) -> dict[str, Any]:
    response = await osmo.call("GET", f"/flow-runs/{run_id}", tenant="acme")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def until(check: Any, seconds: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_payload_not_matching_the_schema_is_422_with_paths(osmo_sqlite: Osmo) -> None:
    await define_all(osmo_sqlite, ("/app-event-types", ORDER_PAID))

    response = await osmo_sqlite.call(
        "POST", "/app-events/order-paid", tenant="acme", json={"orderId": 7, "tenant": "acme"}
    )

    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["data"]["errors"]] == ["payload.orderId"]
    unknown = await osmo_sqlite.call("POST", "/app-events/nope", tenant="acme", json={})
    assert unknown.status_code == 404
    assert unknown.json()["key"] == "app_event_type_not_found"
    logged = await osmo_sqlite.call("GET", "/app-events", tenant="acme")
    assert logged.json()["items"] == []


async def test_app_event_starts_matching_flows_and_resumes_waiting_runs(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], env: WorkflowEnvironment
) -> None:
    async with flow_worker(osmo_sqlite, env):
        conn = await crm_connection(osmo_sqlite, crm[1])
        await define_all(
            osmo_sqlite,
            ("/app-event-types", ORDER_PAID),
            ("/app-event-types", ORDER_SHIPPED),
            ("/flows", FULFIL),
        )
        instance = await osmo_sqlite.call("GET", f"/connections/{conn}/flows/fulfil", tenant="acme")
        assert instance.status_code == 200, instance.text

        small = await osmo_sqlite.call(
            "POST",
            "/app-events/order-paid",
            tenant="acme",
            json={"orderId": "o-0", "amount": 1, "tenant": "acme"},
        )
        assert small.status_code == 201, small.text
        assert small.json()["launchedFlowRunIds"] == []  # the trigger's filter said no

        paid = await osmo_sqlite.call(
            "POST",
            "/app-events/order-paid",
            tenant="acme",
            json={"orderId": "o-1", "amount": 10, "tenant": "acme"},
        )
        assert paid.status_code == 201, paid.text
        [run_id] = paid.json()["launchedFlowRunIds"]
        state = await run_state(osmo_sqlite, run_id)
        assert state["launchedBy"] == {"type": "app-event", "appEventId": paid.json()["id"]}
        assert state["triggerType"] == "app-event-trigger"

        client = osmo_sqlite.services.temporal_client
        assert client is not None

        async def visible() -> bool:
            query = f'WorkflowId = "{run_id}" AND WaitsForAppEvents = "true"'
            return bool([w async for w in client.list_workflows(query)])

        await until(visible)
        shipped = await osmo_sqlite.call(
            "POST", "/app-events/order-shipped", tenant="acme", json={"carrier": "ups"}
        )
        assert shipped.status_code == 201, shipped.text
        assert shipped.json()["resumedFlowRunIds"] == [run_id]

        async def completed() -> bool:
            return (await run_state(osmo_sqlite, run_id))["state"] != "running"

        await until(completed)
        run = await run_state(osmo_sqlite, run_id)
        assert run["state"] == "completed", run
        done = next(r for r in run["nodeRuns"] if r["nodeKey"] == "done")
        assert done["outputs"] == [{"carrier": "ups"}]

        log = await osmo_sqlite.call("GET", f"/app-events/{paid.json()['id']}", tenant="acme")
        assert log.json()["launchedFlowRunIds"] == [run_id]
        other = await osmo_sqlite.call("GET", f"/app-events/{paid.json()['id']}", tenant="beta")
        assert other.status_code == 404


async def test_global_url_finds_the_customer_by_the_formula(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], env: WorkflowEnvironment
) -> None:
    async with flow_worker(osmo_sqlite, env):
        conn = await crm_connection(osmo_sqlite, crm[1])
        await define_all(osmo_sqlite, ("/app-event-types", ORDER_PAID), ("/flows", FULFIL))
        await osmo_sqlite.call("GET", f"/connections/{conn}/flows/fulfil", tenant="acme")

        as_customer = await osmo_sqlite.call(
            "POST", "/app-events/order-paid/webhook", tenant="acme", json={}
        )
        assert as_customer.status_code == 403
        nobody = await osmo_sqlite.call(
            "POST", "/app-events/order-paid/webhook", json={"orderId": "o-2", "tenant": "zzz"}
        )
        assert nobody.status_code == 404 and nobody.json()["key"] == "customer_not_found"
        sent = await osmo_sqlite.call(
            "POST",
            "/app-events/order-paid/webhook",
            json={"orderId": "o-2", "amount": 9, "tenant": "acme"},
        )
        assert sent.status_code == 201, sent.text
        [run_id] = sent.json()["launchedFlowRunIds"]
        assert (await run_state(osmo_sqlite, run_id))["connectionId"] == conn
        listed = await osmo_sqlite.call("GET", "/app-events", tenant="acme")
        assert [e["id"] for e in listed.json()["items"]] == [sent.json()["id"]]


def test_wait_for_event_takes_only_the_app_events_it_names() -> None:
    shipped = {"type": "app-event", "appEventType": "order-shipped", "payload": {}}
    paid = {"type": "app-event", "appEventType": "order-paid", "payload": {}}
    plain = {"type": "approved"}
    waits_for_shipped = {"appEventType": "order-shipped"}
    assert [takes(waits_for_shipped, e) for e in (shipped, paid, plain)] == [True, False, False]
    assert [takes({}, e) for e in (shipped, paid, plain)] == [False, False, True]
    nodes = {"wait": {"type": "wait-for-event", "config": waits_for_shipped}}
    # The FlowRun `event` signal keeps an app event only when a node of the run awaits it.
    assert [awaits_app_event(nodes, e) for e in (shipped, paid, plain)] == [True, False, True]


async def test_app_event_type_definitions_are_checked_when_saved(osmo_sqlite: Osmo) -> None:
    cases = [
        ({"key": "a", "schema": {"type": "no-such-type"}}, "schema"),
        ({"key": "b", "customerFormula": {"$noSuchFormula": 1}}, "customerFormula"),
        ({"key": "c", "integrationKey": ["crm"]}, "integrationKey"),
        ({"key": "d", "name": [1]}, "name"),
    ]
    for body, path in cases:
        response = await osmo_sqlite.call("POST", "/app-event-types", json=body)
        assert response.status_code == 422, (body, response.text)
        paths = [e["path"] for e in response.json()["data"]["errors"]]
        assert any(p.startswith(path) for p in paths), response.text
    ok = await osmo_sqlite.call("POST", "/app-event-types", json=ORDER_PAID)
    assert ok.status_code == 201, ok.text
    assert ok.json()["customerFormula"] == {"$var": "payload.tenant"}

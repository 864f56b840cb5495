"""Actions: definitions, and runs through both endpoints against the fake CRM (dev server)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo
from tests.workflows.flow_fixtures import (
    CONTACTS_SOURCE,
    CREATE_CONTACT,
    GET_CONTACT,
    crm_connection,
    define_all,
    flow_worker,
)
from workflows import search_attributes as sa


@pytest.fixture
async def connected(osmo_sqlite: Osmo, crm) -> str:
    """acme's connection to the fake CRM, a `contacts` data source and the two actions."""
    _, url = crm
    connection_id = await crm_connection(osmo_sqlite, url)
    await define_all(
        osmo_sqlite, CONTACTS_SOURCE, ("/actions", CREATE_CONTACT), ("/actions", GET_CONTACT)
    )
    return connection_id


async def run(
    osmo: Osmo, connection_id: str, key: str, input: Any, tenant: str = "acme"
) -> httpx.Response:
    return await osmo.call(
        "POST",
        f"/connections/{connection_id}/actions/{key}/run",
        tenant=tenant,
        json={"input": input},
    )


async def test_action_runs_through_both_endpoints(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    osmo, fake = osmo_sqlite, crm[0]
    async with flow_worker(osmo, env):
        by_action = await osmo.call(
            "POST",
            "/actions/create-contact/run",
            tenant="acme",
            json={"connectionId": connected, "input": {"email": "g@h.io", "firstName": "Grace"}},
        )
        by_connection = await run(osmo, connected, "create-contact", {"email": "l@t.io"})
    assert by_action.status_code == 200, by_action.text
    assert by_connection.status_code == 200, by_connection.text
    first, second = by_action.json()["output"], by_connection.json()["output"]
    assert first == {"id": first["id"], "email": "g@h.io"}  # output mapped
    assert fake.contacts[first["id"]]["properties"]["firstname"] == "Grace"
    assert second == {"id": second["id"], "email": "l@t.io"}
    assert fake.contacts[second["id"]]["properties"]["email"] == "l@t.io"
    # each run is an `ActionRun` workflow, findable by the connection
    description = await env.client.get_workflow_handle(by_action.json()["actionRunId"]).describe()
    assert description.workflow_type == "ActionRun"
    assert description.typed_search_attributes.get(sa.CONNECTION_ID) == connected


async def test_invalid_input_is_422_with_paths_and_sends_nothing(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    fake = crm[0]
    fake.api_requests.clear()
    async with flow_worker(osmo_sqlite, env):
        response = await run(
            osmo_sqlite, connected, "create-contact", {"email": "x", "firstName": 7}
        )
        no_connection = await osmo_sqlite.call(
            "POST", "/actions/create-contact/run", tenant="acme", json={"input": {}}
        )
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["type"], body["key"]) == ("bad_request", "validation_error")
    assert {e["path"] for e in body["data"]["errors"]} == {"input.email", "input.firstName"}
    assert no_connection.status_code == 422
    assert no_connection.json()["data"]["errors"][0]["path"] == "connectionId"
    assert fake.api_requests == []


async def test_invalid_definitions_are_422_with_paths_and_nothing_saved(osmo: Osmo) -> None:
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"type": "send-email"}, {"type"}),
        ({"type": "create-data-record", "config": {"fields": {}}}, {"config"}),  # no collection
        (
            {
                "type": "run-operation",
                "config": {"operationKey": "create-contact", "input": {"email": {"$nope": 1}}},
            },
            {"config.input.email.$nope"},
        ),
        (
            {
                **CREATE_CONTACT,
                "config": {
                    "dataSourceKey": "contacts",
                    "fields": {"email": {"$var": "input.mail"}},
                },
            },
            {"config.fields.email.$var"},  # the input schema has no `mail`
        ),
        ({**CREATE_CONTACT, "inputSchema": {"type": "objekt"}}, {"inputSchema.type"}),
        ({**CREATE_CONTACT, "outputMapping": {"$var": "result.id"}}, {"outputMapping.$var"}),
        ({**CREATE_CONTACT, "inputschema": {}}, {"inputschema"}),
    ]
    for definition, paths in cases:
        response = await osmo.call("POST", "/actions", json={"key": "broken", **definition})
        assert response.status_code == 422, (definition, response.text)
        assert {e["path"] for e in response.json()["data"]["errors"]} == paths, definition
    assert (await osmo.call("GET", "/actions")).json()["items"] == []
    saved = await osmo.call("POST", "/actions", json=CREATE_CONTACT)
    assert saved.status_code == 201, saved.text  # a `dataSourceKey` instead of a collection


async def test_customized_instance_is_what_the_customer_runs(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    osmo, fake = osmo_sqlite, crm[0]
    instance = f"/connections/{connected}/actions/create-contact"
    fields = {**CREATE_CONTACT["config"]["fields"], "lastname": "Customized"}
    customized = await osmo.call(
        "PATCH",
        instance,
        tenant="acme",
        json={"config": {"dataSourceKey": "contacts", "fields": fields}},
    )
    assert customized.status_code == 200, customized.text
    refused = await osmo.call("PATCH", instance, tenant="acme", json={"inputSchema": {}})
    assert refused.status_code == 422  # customers change config and outputMapping only
    async with flow_worker(osmo, env):
        response = await run(osmo, connected, "create-contact", {"email": "c@d.io"})
    assert response.status_code == 200, response.text
    assert fake.contacts[response.json()["output"]["id"]]["properties"]["lastname"] == "Customized"


async def test_another_customers_connection_is_404(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    fake = crm[0]
    await connect_oauth2(osmo_sqlite, "globex")
    assert (await only_connection(osmo_sqlite, "globex"))["id"] != connected
    fake.api_requests.clear()
    async with flow_worker(osmo_sqlite, env):
        by_action = await osmo_sqlite.call(
            "POST",
            "/actions/create-contact/run",
            tenant="globex",
            json={"connectionId": connected, "input": {"email": "e@f.io"}},
        )
        by_connection = await run(
            osmo_sqlite, connected, "create-contact", {"email": "e@f.io"}, "globex"
        )
    for response in (by_action, by_connection):
        assert response.status_code == 404, response.text
        assert response.json()["key"] == "connection_not_found"
    assert fake.api_requests == []


async def test_connector_errors_keep_their_status_and_shape(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    fake = crm[0]
    existing = next(iter(fake.contacts))
    async with flow_worker(osmo_sqlite, env):
        found = await run(osmo_sqlite, connected, "get-contact", {"id": existing})
        missing = await run(osmo_sqlite, connected, "get-contact", {"id": "999999"})
        fake.api_requests.clear()
        fake.arm_rate_limit(1, retry_after=7)
        limited = await run(osmo_sqlite, connected, "get-contact", {"id": existing})
    assert found.status_code == 200, found.text
    assert found.json()["output"]["record"]["id"] == existing  # no mapping: the node's output
    assert missing.status_code == 404, missing.text
    error = missing.json()
    assert set(error) == {"type", "key", "message", "data"}
    assert (error["type"], error["key"]) == ("connector", "not_found")
    assert error["data"]["upstreamStatus"] == 404 and error["data"]["actionRunId"]
    # a waiting caller gets the 429 and when to retry, instead of waiting it out
    assert limited.status_code == 429, limited.text
    assert limited.json()["key"] == "rate_limit_exceeded"
    assert limited.json()["data"]["retryAfter"] == 7
    assert len(fake.api_requests) == 1


async def test_run_operation_actions(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    osmo, fake = osmo_sqlite, crm[0]
    for action in (
        {
            "key": "who-am-i",
            "type": "run-operation",
            "config": {"operationKey": "get-current-user"},
            "outputMapping": {"$var": "output.email"},
        },
        {
            "key": "add-contact",
            "type": "run-operation",
            "config": {
                "operationKey": "create-contact",
                "input": {"email": {"$var": "input.email"}, "firstName": "Op"},
            },
        },
    ):
        assert (await osmo.call("POST", "/actions", json=action)).status_code == 201
    async with flow_worker(osmo, env):
        me = await run(osmo, connected, "who-am-i", None)
        added = await run(osmo, connected, "add-contact", {"email": "o@p.io"})
        refused = await run(osmo, connected, "add-contact", {"email": "not-an-email"})
    assert me.status_code == 200 and me.json()["output"] == "alice@example.com"
    assert added.status_code == 200, added.text
    assert fake.contacts[added.json()["output"]]["properties"]["firstname"] == "Op"
    # the operation's own input schema is checked by the connector: 422 with the path
    assert refused.status_code == 422, refused.text
    assert refused.json()["data"]["errors"][0]["path"] == "input.email"

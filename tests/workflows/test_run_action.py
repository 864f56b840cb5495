"""`run-action` and `run-operation` nodes in flows: dev server, worker, runs through the API."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import Osmo
from tests.workflows.flow_fixtures import (
    CONTACTS_SOURCE,
    CREATE_CONTACT,
    crm_connection,
    define,
    define_all,
    finished,
    flow_worker,
    node,
    run_flow,
)


def create_then_say(action_key: str = "create-contact") -> dict[str, Any]:
    """api-trigger → run-action (the trigger's email) → transform-data (the action's output)."""
    return {
        "key": "create-then-say",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "create"}]},
            "create": {
                "type": "run-action",
                "config": {
                    "actionKey": action_key,
                    "input": {"email": {"$var": "input.trigger.email"}, "firstName": "Flo"},
                },
                "links": [{"key": "say"}],
            },
            "say": {
                "type": "transform-data",
                "config": {"value": {"$concat": ["created ", {"$var": "input.create.id"}]}},
            },
        },
    }


@pytest.fixture
async def connected(osmo_sqlite: Osmo, crm) -> str:
    """acme's connection to the fake CRM, a `contacts` data source and `create-contact`."""
    _, url = crm
    connection_id = await crm_connection(osmo_sqlite, url)
    await define_all(osmo_sqlite, CONTACTS_SOURCE, ("/actions", CREATE_CONTACT))
    return connection_id


async def test_run_action_output_flows_to_the_next_node(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    fake = crm[0]
    await define(osmo_sqlite, create_then_say())
    async with flow_worker(osmo_sqlite, env):
        run_id = await run_flow(osmo_sqlite, connected, "create-then-say", {"email": "f@l.io"})
        run = await finished(osmo_sqlite, run_id)
    assert run["state"] == "completed", run
    [output] = node(run, "create")["outputs"]
    assert output == {"id": output["id"], "email": "f@l.io"}  # the action's output mapping
    assert fake.contacts[output["id"]]["properties"]["firstname"] == "Flo"
    assert node(run, "say")["outputs"] == [f"created {output['id']}"]


async def test_invalid_action_input_fails_the_node_and_sends_nothing(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    fake = crm[0]
    await define(osmo_sqlite, create_then_say())
    fake.api_requests.clear()
    async with flow_worker(osmo_sqlite, env):
        run_id = await run_flow(osmo_sqlite, connected, "create-then-say", {"email": "nope"})
        run = await finished(osmo_sqlite, run_id)
    assert run["state"] == "failed" and run["failedNodeKey"] == "create", run
    error = node(run, "create")["error"]
    assert error["key"] == "validation_error"
    assert [e["path"] for e in error["data"]["errors"]] == ["input.email"]
    assert fake.api_requests == []


async def test_flow_with_an_unknown_action_saves_but_does_not_run(
    osmo_sqlite: Osmo, connected: str
) -> None:
    await define(osmo_sqlite, create_then_say("not-yet-defined"))  # actions may come later
    response = await osmo_sqlite.call(
        "POST",
        f"/connections/{connected}/flows/create-then-say/run",
        tenant="acme",
        json={"input": {"email": "a@b.io"}},
    )
    assert response.status_code == 404, response.text
    assert response.json()["key"] == "action_not_found"
    keyless = create_then_say()
    del keyless["nodes"]["create"]["config"]["actionKey"]
    refused = await osmo_sqlite.call("POST", "/flows", json={**keyless, "key": "keyless"})
    assert refused.status_code == 422
    assert refused.json()["data"]["errors"][0]["path"] == "nodes.create.config"


async def test_run_operation_node(
    osmo_sqlite: Osmo, connected: str, crm, env: WorkflowEnvironment
) -> None:
    fake = crm[0]
    flow = {
        "key": "operations",
        "nodes": {
            "trigger": {"type": "api-trigger", "links": [{"key": "me"}]},
            "me": {
                "type": "run-operation",
                "config": {"operationKey": "get-current-user"},
                "links": [{"key": "add"}],
            },
            "add": {
                "type": "run-operation",
                "config": {
                    "operationKey": "create-contact",
                    "input": {"email": {"$var": "input.trigger.email"}, "firstName": "Op"},
                },
            },
        },
    }
    await define(osmo_sqlite, flow)
    async with flow_worker(osmo_sqlite, env):
        run = await finished(
            osmo_sqlite, await run_flow(osmo_sqlite, connected, "operations", {"email": "o@p.io"})
        )
    assert run["state"] == "completed", run
    assert node(run, "me")["outputs"][0]["email"] == "alice@example.com"
    [contact_id] = node(run, "add")["outputs"]
    assert fake.contacts[contact_id]["properties"] == {
        **fake.contacts[contact_id]["properties"],
        "email": "o@p.io",
        "firstname": "Op",
    }

"""The routes and forms Membrane's SDK uses, checked route by route over HTTP (dev server)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
from temporalio.testing import WorkflowEnvironment

from tests.conftest import WORKSPACE_SECRET, Osmo
from tests.workflows.flow_fixtures import (
    CONTACTS_SOURCE,
    CREATE_CONTACT,
    GET_CONTACT,
    crm_connection,
    define_all,
    finished,
    flow_worker,
)

FLOW: dict[str, Any] = {
    "key": "import-contact",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "create"}, {"key": "shape"}]},
        "create": {
            "type": "create-data-record",
            "config": {
                "dataSourceKey": "contacts",
                "fields": {"email": {"$var": "input.trigger.email"}},
            },
            "links": [{"key": "done"}],
        },
        "shape": {"type": "transform-data", "config": {"value": {"seen": True}}},
        "done": {
            "type": "transform-data",
            "config": {"value": {"id": {"$var": "input.create.record.id"}}},
        },
    },
}


def membrane_headers(**claims: Any) -> dict[str, str]:
    token = jwt.encode({"iss": "test", "exp": int(time.time()) + 600, **claims}, WORKSPACE_SECRET)
    return {"Authorization": f"Bearer {token}"}


async def as_membrane(osmo: Osmo, method: str, path: str, **kwargs: Any) -> httpx.Response:
    claims = kwargs.pop("claims", {"id": "acme"})
    return await osmo.client.request(method, path, headers=membrane_headers(**claims), **kwargs)


async def test_self_with_membrane_claims_names_the_customer(osmo: Osmo) -> None:
    response = await as_membrane(
        osmo, "GET", "/self", claims={"id": "acme", "name": "Acme", "fields": {"plan": "pro"}}
    )
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["internalId"], me["name"], me["fields"]) == ("acme", "Acme", {"plan": "pro"})
    customer = (await osmo.call("GET", f"/customers/{me['id']}")).json()
    assert customer["tenantKey"] == "acme"  # the same customer Osmo's claims name
    admin_only = await as_membrane(osmo, "GET", "/self", claims={"isAdmin": True})
    assert admin_only.status_code == 403 and admin_only.json()["key"] == "forbidden"
    other_workspace = await as_membrane(osmo, "GET", "/self", claims={"iss": "x", "id": "acme"})
    assert other_workspace.status_code == 401


async def test_instance_selectors_and_lists(osmo: Osmo, crm) -> None:
    connection_id = await crm_connection(osmo, crm[1])
    await define_all(osmo, CONTACTS_SOURCE, ("/actions", CREATE_CONTACT), ("/actions", GET_CONTACT))
    assert (await as_membrane(osmo, "GET", "/action-instances")).json()["items"] == []
    by_key = await as_membrane(
        osmo, "GET", f"/action-instance?connectionId={connection_id}&actionKey=get-contact"
    )
    assert by_key.status_code == 200, by_key.text
    instance = by_key.json()
    same = await osmo.call(
        "GET", f"/connections/{connection_id}/actions/get-contact", tenant="acme"
    )
    assert same.json()["id"] == instance["id"] and instance["layer"] == "connection"
    by_id = await as_membrane(osmo, "GET", f"/action-instance?id={instance['id']}")
    by_integration = await as_membrane(
        osmo, "GET", "/action-instance?integrationKey=crm&actionKey=get-contact"
    )
    assert by_id.json()["id"] == by_integration.json()["id"] == instance["id"]
    # only instances that exist are listed, and only the caller's
    listed = await as_membrane(osmo, "GET", f"/action-instances?connectionId={connection_id}")
    assert [i["id"] for i in listed.json()["items"]] == [instance["id"]]
    globex = await as_membrane(osmo, "GET", "/action-instances", claims={"id": "globex"})
    assert globex.json()["items"] == []
    foreign = await as_membrane(
        osmo, "GET", f"/action-instance?id={instance['id']}", claims={"id": "globex"}
    )
    assert foreign.status_code == 404 and foreign.json()["key"] == "action_instance_not_found"
    missing = await as_membrane(osmo, "GET", f"/action-instance?connectionId={connection_id}")
    assert missing.status_code == 422 and missing.json()["data"]["errors"][0]["path"] == "actionKey"
    # the connection-level list has an instance of every action that applies
    actions = await as_membrane(osmo, "GET", f"/connections/{connection_id}/actions")
    assert [a["key"] for a in actions.json()["items"]] == ["create-contact", "get-contact"]
    assert {a["connectionId"] for a in actions.json()["items"]} == {connection_id}
    sources = await as_membrane(osmo, "GET", f"/connections/{connection_id}/data-sources")
    assert sources.json()["items"][0]["collectionKey"] == "contacts"


async def test_instances_are_customized_and_reset_through_selectors(osmo: Osmo, crm) -> None:
    connection_id = await crm_connection(osmo, crm[1])
    await define_all(osmo, CONTACTS_SOURCE, ("/flows", FLOW), ("/actions", GET_CONTACT))
    selector = f"/flow-instance?connectionId={connection_id}&flowKey=import-contact"
    disabled = await as_membrane(osmo, "PATCH", selector, json={"enabled": False})
    assert disabled.status_code == 200, disabled.text
    assert (disabled.json()["enabled"], disabled.json()["isCustomized"]) == (False, True)
    run = await osmo.call(
        "POST", f"/connections/{connection_id}/flows/import-contact/run", tenant="acme", json={}
    )
    assert run.status_code == 400 and run.json()["key"] == "flow_disabled"
    frozen = await as_membrane(
        osmo,
        "PATCH",
        f"/action-instance?connectionId={connection_id}&actionKey=get-contact",
        json={"inputSchema": {}},
    )
    assert frozen.status_code == 422, frozen.text  # customers change only what the kind allows
    assert frozen.json()["data"]["errors"][0]["path"] == "inputSchema"
    reset = await as_membrane(
        osmo, "POST", f"/flow-instances/{disabled.json()['id']}/reset", json=None
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["isCustomized"] is False and reset.json().get("enabled", True) is True
    again = await as_membrane(osmo, "POST", selector.replace("?", "/reset?"))
    assert again.status_code == 200 and again.json()["id"] == disabled.json()["id"]
    foreign = await as_membrane(
        osmo,
        "POST",
        f"/flow-instances/{disabled.json()['id']}/reset",
        claims={"id": "globex"},
    )
    assert foreign.status_code == 404


async def test_data_source_instance_collection_methods(osmo: Osmo, crm) -> None:
    fake, url = crm
    connection_id = await crm_connection(osmo, url)
    await define_all(osmo, CONTACTS_SOURCE, ("/data-sources", {"key": "nowhere", "udm": "boards"}))
    selector = f"connectionId={connection_id}&dataSourceKey=contacts"
    created = await as_membrane(
        osmo,
        "POST",
        f"/data-source-instance/collection/create?{selector}",
        json={"fields": {"email": "ds@example.com"}},
    )
    assert created.status_code == 200, created.text
    record_id = created.json()["record"]["id"]
    assert fake.contacts[record_id]["properties"]["email"] == "ds@example.com"
    found = await as_membrane(
        osmo,
        "POST",
        f"/data-source-instance/collection/find-by-id?{selector}",
        json={"id": record_id},
    )
    direct = await osmo.call(
        "POST",
        f"/connections/{connection_id}/data/contacts/find-by-id",
        tenant="acme",
        json={"id": record_id},
    )
    assert found.status_code == 200 and found.json() == direct.json()
    unknown = await as_membrane(osmo, "POST", f"/data-source-instance/collection/drop?{selector}")
    assert unknown.status_code == 422
    nowhere = await as_membrane(
        osmo,
        "POST",
        f"/data-source-instance/collection/list?connectionId={connection_id}&dataSourceKey=nowhere",
    )
    assert nowhere.status_code == 400 and nowhere.json()["key"] == "no_collection"


async def test_data_link_table_instance_links(osmo: Osmo, crm) -> None:
    connection_id = await crm_connection(osmo, crm[1])
    await define_all(osmo, ("/data-link-tables", {"key": "companies"}))
    selector = f"connectionId={connection_id}&dataLinkTableKey=companies"
    created = await as_membrane(
        osmo,
        "POST",
        f"/data-link-table-instance/links?{selector}",
        json={"appRecordId": "app-1", "externalRecordId": "ext-1"},
    )
    assert created.status_code == 201, created.text
    found = await as_membrane(
        osmo, "GET", f"/data-link-table-instance/links?{selector}&appRecordId=app-1"
    )
    assert [link["externalRecordId"] for link in found.json()["items"]] == ["ext-1"]
    same = await osmo.call(
        "GET", f"/connections/{connection_id}/data-link-tables/companies/links", tenant="acme"
    )
    assert same.json()["items"] == found.json()["items"]


async def test_api_passthrough_posts_to_the_app(osmo_sqlite: Osmo, crm) -> None:
    fake, url = crm
    connection_id = await crm_connection(osmo_sqlite, url)
    response = await as_membrane(
        osmo_sqlite,
        "POST",
        f"/connections/{connection_id}/api/api/v1/contacts",
        json={"properties": {"email": "api@example.com"}},
    )
    assert response.status_code == 201, response.text
    assert fake.contacts[response.json()["id"]]["properties"]["email"] == "api@example.com"
    foreign = await as_membrane(
        osmo_sqlite,
        "POST",
        f"/connections/{connection_id}/api/api/v1/contacts",
        json={},
        claims={"id": "globex"},
    )
    assert foreign.status_code == 404


async def test_action_runs_in_every_form(osmo_sqlite: Osmo, crm, env: WorkflowEnvironment) -> None:
    osmo, fake = osmo_sqlite, crm[0]
    connection_id = await crm_connection(osmo, crm[1])
    await define_all(osmo, CONTACTS_SOURCE, ("/actions", CREATE_CONTACT), ("/actions", GET_CONTACT))
    on_connection = f"/connections/{connection_id}/actions/create-contact/run"
    async with flow_worker(osmo, env):
        raw = await as_membrane(osmo, "POST", on_connection, json={"email": "raw@x.io"})
        osmo_form = await as_membrane(
            osmo, "POST", on_connection, json={"input": {"email": "o@x.io"}}
        )
        # `input` beside a key outside Osmo's form: the whole body is the raw input
        raw_with_input = await as_membrane(
            osmo, "POST", on_connection, json={"email": "i@x.io", "input": "ignored-by-schema"}
        )
        by_query = await as_membrane(
            osmo,
            "POST",
            f"/actions/get-contact/run?connectionId={connection_id}",
            json={"input": {"id": raw.json()["output"]["id"]}},
        )
        by_integration = await as_membrane(
            osmo, "POST", "/actions/create-contact/run?integrationKey=crm", json={"email": "k@x.io"}
        )
        instance = await as_membrane(
            osmo,
            "POST",
            f"/action-instance/run?connectionId={connection_id}&actionKey=get-contact",
            json={"id": raw.json()["output"]["id"]},
        )
        fake.api_requests.clear()
        clash = await as_membrane(
            osmo,
            "POST",
            f"/actions/create-contact/run?connectionId={connection_id}",
            json={"connectionId": "other", "input": {"email": "c@x.io"}},
        )
        keyed = await as_membrane(
            osmo, "POST", "/actions/create-contact/run?connectionKey=main", json={"email": "c@x.io"}
        )
        malformed = await as_membrane(osmo, "POST", on_connection, json={"instanceKey": 5})
        admin_by_integration = await osmo.call(
            "POST", "/actions/create-contact/run?integrationKey=crm", json={"email": "c@x.io"}
        )
    for response in (raw, osmo_form, raw_with_input, by_query, by_integration, instance):
        assert response.status_code == 200, response.text
    emails = [fake.contacts[r.json()["output"]["id"]]["properties"]["email"]
              for r in (raw, osmo_form, raw_with_input, by_integration)]  # fmt: skip
    assert emails == ["raw@x.io", "o@x.io", "i@x.io", "k@x.io"]
    assert by_query.json()["output"] == instance.json()["output"]
    assert by_query.json()["output"]["record"]["id"] == raw.json()["output"]["id"]
    assert clash.status_code == 422 and clash.json()["data"]["errors"][0]["path"] == "connectionId"
    assert keyed.status_code == 422 and keyed.json()["data"]["errors"][0]["path"] == "connectionKey"
    assert admin_by_integration.status_code == 422
    assert malformed.status_code == 422 and malformed.json()["data"]["errors"][0]["path"] == (
        "instanceKey"
    )
    assert fake.api_requests == []  # refused requests sent nothing


async def test_flow_run_output_filter_and_node_key(
    osmo_sqlite: Osmo, crm, env: WorkflowEnvironment
) -> None:
    osmo, fake = osmo_sqlite, crm[0]
    connection_id = await crm_connection(osmo, crm[1])
    await define_all(osmo, CONTACTS_SOURCE, ("/flows", FLOW), ("/flows", {**FLOW, "key": "other"}))
    instance = await as_membrane(
        osmo, "GET", f"/flow-instance?connectionId={connection_id}&flowKey=import-contact"
    )
    flow_instance_id = instance.json()["id"]
    async with flow_worker(osmo, env):
        started = await as_membrane(
            osmo,
            "POST",
            "/flow-runs",
            json={"flowInstanceId": flow_instance_id, "input": {"email": "f@x.io"}},
        )
        other = await osmo.call(
            "POST",
            f"/connections/{connection_id}/flows/other/run",
            tenant="acme",
            json={"input": {"email": "o@x.io"}},
        )
        run_id = started.json()["flowRunId"]
        await finished(osmo, run_id)
        await finished(osmo, other.json()["flowRunId"])
        output = await as_membrane(osmo, "GET", f"/flow-runs/{run_id}/output")
        bad_node = await as_membrane(
            osmo, "POST", "/flow-runs", json={"flowInstanceId": flow_instance_id, "nodeKey": "nope"}
        )
        two_nodes = await as_membrane(
            osmo,
            "POST",
            "/flow-runs",
            json={"flowInstanceId": flow_instance_id, "nodeKey": "done", "startNodeKey": "shape"},
        )
        by_instance = await osmo.call(
            "GET", f"/flow-runs?flowInstanceId={flow_instance_id}", tenant="acme"
        )
        by_connection_flow = await osmo.call(
            "GET", f"/flow-runs?connectionFlowId={flow_instance_id}", tenant="acme"
        )
    assert output.status_code == 200, output.text
    [created_id] = [c["id"] for c in fake.contacts.values() if c["properties"]["email"] == "f@x.io"]
    # the end nodes' outputs: `shape` and `done`, not the trigger's nor `create`'s
    assert output.json()["state"] == "completed"
    assert sorted(output.json()["output"], key=str) == sorted(
        [{"seen": True}, {"id": created_id}], key=str
    )
    assert bad_node.status_code == 422 and bad_node.json()["key"] == "node_not_found"
    assert two_nodes.status_code == 422 and two_nodes.json()["data"]["errors"][0]["path"] == (
        "nodeKey"
    )
    assert [r["id"] for r in by_instance.json()["items"]] == [run_id]
    assert by_connection_flow.json()["items"] == by_instance.json()["items"]

"""Definitions checked when they are saved, through the API (issue 11): formulas reading what
their node cannot have, elements named by key that do not exist, integrations missing a
parameter their connector needs, and tokens that are not tokens."""

from __future__ import annotations

from typing import Any

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration

LIST_THEN_EACH: dict[str, Any] = {
    "key": "sync-contacts",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "contacts"}]},
        "contacts": {
            "type": "list-data-records",
            "config": {"dataSourceKey": "contacts"},
            "links": [{"key": "each"}],
        },
        "each": {
            "type": "for-each",
            "config": {"items": {"$var": "input.contacts.records"}},
            "links": [{"key": "link"}],
        },
        "link": {
            "type": "create-data-link",
            "config": {
                "dataLinkTable": "contacts-links",
                "appRecordId": {"$var": "input.each.email"},
                "externalRecordId": {"$var": "input.each.id"},
            },
            "links": [{"key": "notify"}],
        },
        "notify": {
            "type": "run-action",
            "config": {"actionKey": "notify-owner", "input": {"id": {"$var": "input.each.id"}}},
        },
    },
}


def warning_paths(body: dict[str, Any]) -> list[str]:
    return sorted(w["path"] for w in body["warnings"])


async def test_a_misspelt_upstream_key_is_refused_with_its_path(osmo: Osmo) -> None:
    nodes = {**LIST_THEN_EACH["nodes"]}
    nodes["each"] = {**nodes["each"], "config": {"items": {"$var": "input.contacs.records"}}}
    response = await osmo.call("POST", "/flows", json={**LIST_THEN_EACH, "nodes": nodes})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["key"] == "validation_error"
    assert [e["path"] for e in body["data"]["errors"]] == ["nodes.each.config.items.$var"]
    assert (await osmo.call("GET", "/flows/sync-contacts")).status_code == 404  # nothing saved


async def test_unknown_elements_are_warnings_until_they_exist(osmo: Osmo) -> None:
    created = await osmo.call("POST", "/flows", json=LIST_THEN_EACH)
    assert created.status_code == 201, created.text
    assert warning_paths(created.json()) == [
        "nodes.contacts.config.dataSourceKey",
        "nodes.link.config.dataLinkTable",
        "nodes.notify.config.actionKey",
    ]
    assert "'notify-owner'" in created.json()["warnings"][-1]["message"]
    for path, body in [
        ("/data-sources", {"key": "contacts", "collectionKey": "contacts"}),
        ("/data-link-tables", {"key": "contacts-links"}),
    ]:
        assert (await osmo.call("POST", path, json=body)).status_code == 201
    # An integration's own action counts for a universal flow: runs resolve per connection.
    await create_crm_integration(osmo, "http://127.0.0.1:9")
    action = {
        "key": "notify-owner",
        "type": "find-data-record-by-id",
        "config": {"collectionKey": "contacts", "id": {"$var": "input.id"}},
    }
    assert (await osmo.call("POST", "/integrations/crm/actions", json=action)).status_code == 201
    read = await osmo.call("GET", "/flows/sync-contacts")
    assert read.status_code == 200 and read.json()["warnings"] == []
    patched = await osmo.call("PATCH", "/flows/sync-contacts", json={"name": "Sync"})
    assert patched.status_code == 200 and patched.json()["warnings"] == []
    # Actions and field mappings name data sources too.
    mapping = {"key": "people", "dataSourceKey": "people", "importValue": {"a": 1}}
    saved = await osmo.call("POST", "/field-mappings", json=mapping)
    assert saved.status_code == 201 and warning_paths(saved.json()) == ["dataSourceKey"]


async def test_a_run_stops_at_its_start_naming_the_node(osmo_sqlite: Osmo, crm) -> None:
    _, url = crm
    await create_crm_integration(osmo_sqlite, url)
    await connect_oauth2(osmo_sqlite, "acme")
    connection_id = (await only_connection(osmo_sqlite, "acme"))["id"]
    await osmo_sqlite.call("POST", "/flows", json=LIST_THEN_EACH)
    path = f"/connections/{connection_id}/flows/sync-contacts/run"
    expected = [
        ("/data-sources", {"key": "contacts", "collectionKey": "contacts"}, "data_source"),
        ("/data-link-tables", {"key": "contacts-links"}, "data_link_table"),
        ("/actions", None, "action"),
    ]
    fields = {
        "data_source": "contacts.config.dataSourceKey",
        "data_link_table": "link.config.dataLinkTable",
        "action": "notify.config.actionKey",
    }
    for create_path, body, what in expected:
        started = await osmo_sqlite.call("POST", path, tenant="acme", json={"input": {}})
        assert started.status_code == 404, started.text
        error = started.json()
        assert error["key"] == f"{what}_not_found"
        assert error["data"]["path"] == f"nodes.{fields[what]}"
        assert error["data"]["nodeKey"] == fields[what].split(".")[0]
        assert error["message"].startswith(f"nodes.{fields[what]}: ")
        if body is not None:
            assert (await osmo_sqlite.call("POST", create_path, json=body)).status_code == 201


async def test_an_integration_needs_the_parameters_its_connector_reads(
    osmo_sqlite: Osmo,
) -> None:
    body = {"key": "crm", "connectorKey": "fake-crm", "clientId": "c", "clientSecret": "s"}
    missing = await osmo_sqlite.call("POST", "/integrations", json=body)
    assert missing.status_code == 422, missing.text
    assert missing.json()["data"]["errors"] == [
        {"path": "parameters.baseUrl", "message": "connector fake-crm requires it"}
    ]
    empty = await osmo_sqlite.call(
        "POST", "/integrations", json={**body, "parameters": {"baseUrl": ""}}
    )
    assert empty.status_code == 422
    created = await osmo_sqlite.call(
        "POST", "/integrations", json={**body, "parameters": {"baseUrl": "http://127.0.0.1:9"}}
    )
    assert created.status_code == 201, created.text
    dropped = await osmo_sqlite.call("PATCH", "/integrations/crm", json={"parameters": {}})
    assert dropped.status_code == 422
    assert dropped.json()["data"]["errors"][0]["path"] == "parameters.baseUrl"
    renamed = await osmo_sqlite.call("PATCH", "/integrations/crm", json={"name": "CRM"})
    assert renamed.status_code == 200
    read = await osmo_sqlite.call("GET", "/integrations/crm")
    assert read.json()["parameters"] == {"baseUrl": "http://127.0.0.1:9"}
    # Webhook secrets are read only when webhooks are delivered: not required.
    slack = await osmo_sqlite.call(
        "POST", "/integrations", json={"key": "slack", "connectorKey": "slack"}
    )
    assert slack.status_code == 201, slack.text


async def test_a_garbage_token_gets_a_fixed_message(osmo_sqlite: Osmo) -> None:
    messages = set()
    for token in ("abc.def", "not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30", "a.b.c"):
        response = await osmo_sqlite.client.get(
            "/integrations", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, response.text
        assert response.json()["key"] == "not_authenticated"
        messages.add(response.json()["message"])
    assert len(messages) == 1, messages
    message = messages.pop()
    for internal in ("padding", "segments", "decode", "Invalid header", "JSON"):
        assert internal.lower() not in message.lower()

"""Operations and data collections through a connection, against the fake CRM."""

from __future__ import annotations

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration


async def connected(osmo: Osmo, crm) -> str:
    _, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    return str((await only_connection(osmo, "acme"))["id"])


async def test_operations_are_listed_and_run(osmo: Osmo, crm) -> None:
    fake, _ = crm
    connection_id = await connected(osmo, crm)
    listing = (await osmo.call("GET", "/integrations/crm/operations", tenant="acme")).json()
    assert [op["key"] for op in listing["items"]] == [
        "get-current-user",
        "list-contacts",
        "create-contact",
    ]
    me = await osmo.call(
        "POST", f"/connections/{connection_id}/operations/get-current-user/run", tenant="acme"
    )
    assert me.json()["output"]["email"] == "alice@example.com"
    everyone = await osmo.call(
        "POST",
        f"/connections/{connection_id}/operations/list-contacts/run",
        tenant="acme",
        json={"input": {}},
    )
    assert len(everyone.json()["output"]) == 25  # three pages of 10 followed
    fake.api_requests.clear()
    capped = await osmo.call(
        "POST",
        f"/connections/{connection_id}/operations/list-contacts/run",
        tenant="acme",
        json={"input": {"maxItems": 12}},
    )
    assert len(capped.json()["output"]) == 12 and len(fake.api_requests) == 2
    created = await osmo.call(
        "POST",
        f"/connections/{connection_id}/operations/create-contact/run",
        tenant="acme",
        json={"input": {"email": "grace@example.com", "firstName": "Grace"}},
    )
    contact_id = created.json()["output"]
    assert fake.contacts[contact_id]["properties"]["firstname"] == "Grace"


async def test_invalid_operation_input_is_422_and_sends_nothing(osmo: Osmo, crm) -> None:
    fake, _ = crm
    connection_id = await connected(osmo, crm)
    fake.api_requests.clear()
    response = await osmo.call(
        "POST",
        f"/connections/{connection_id}/operations/create-contact/run",
        tenant="acme",
        json={"input": {"email": "not-an-email", "firstName": 7}},
    )
    assert response.status_code == 422
    assert {e["path"] for e in response.json()["data"]["errors"]} == {
        "input.email",
        "input.firstName",
    }
    assert fake.api_requests == []
    unknown = await osmo.call(
        "POST", f"/connections/{connection_id}/operations/nope/run", tenant="acme"
    )
    assert unknown.status_code == 404 and unknown.json()["key"] == "operation_not_found"


async def test_collection_methods(osmo: Osmo, crm) -> None:
    fake, _ = crm
    connection_id = await connected(osmo, crm)
    base = f"/connections/{connection_id}/data"
    collections = (await osmo.call("GET", base, tenant="acme")).json()["items"]
    assert collections[0]["key"] == "contacts" and collections[0]["udm"] == "contacts"
    assert collections[0]["methods"] == [
        "list", "find-by-id", "match", "create", "update", "delete"
    ]  # fmt: skip
    seen, cursor = [], None
    while True:
        page = await osmo.call(
            "POST", f"{base}/contacts/list", tenant="acme", json={"cursor": cursor}
        )
        assert page.status_code == 200, page.text
        seen += page.json()["records"]
        cursor = page.json()["cursor"]
        if cursor is None:
            break
    assert len(seen) == 25 and len({r["id"] for r in seen}) == 25
    first = seen[0]
    assert first["name"] == "Ada Lovelace" and first["fields"]["email"].startswith("ada")
    created = await osmo.call(
        "POST",
        f"{base}/contacts/create",
        tenant="acme",
        json={"fields": {"email": "linus@example.com", "firstname": "Linus"}},
    )
    record = created.json()["record"]
    assert record["id"] in fake.contacts and record["name"] == "Linus"
    updated = await osmo.call(
        "POST",
        f"{base}/contacts/update",
        tenant="acme",
        json={"id": record["id"], "fields": {"lastname": "Torvalds"}},
    )
    assert updated.json()["record"]["fields"]["lastname"] == "Torvalds"
    found = await osmo.call(
        "POST", f"{base}/contacts/find-by-id", tenant="acme", json={"id": record["id"]}
    )
    assert found.json()["record"]["name"] == "Linus Torvalds"
    deleted = await osmo.call(
        "POST", f"{base}/contacts/delete", tenant="acme", json={"id": record["id"]}
    )
    assert deleted.status_code == 200 and record["id"] not in fake.contacts
    missing = await osmo.call(
        "POST", f"{base}/contacts/find-by-id", tenant="acme", json={"id": record["id"]}
    )
    assert missing.status_code == 404 and missing.json()["key"] == "not_found"


async def test_collection_errors(osmo: Osmo, crm) -> None:
    connection_id = await connected(osmo, crm)
    base = f"/connections/{connection_id}/data"
    unsupported = await osmo.call("POST", f"{base}/contacts/search", tenant="acme", json={})
    assert unsupported.status_code == 400 and unsupported.json()["key"] == "method_not_supported"
    unknown = await osmo.call("POST", f"{base}/deals/list", tenant="acme", json={})
    assert unknown.status_code == 404 and unknown.json()["key"] == "data_collection_not_found"
    bad_fields = await osmo.call(
        "POST", f"{base}/contacts/create", tenant="acme", json={"fields": {"email": 5}}
    )
    assert bad_fields.status_code == 422
    assert bad_fields.json()["data"]["errors"][0]["path"] == "fields.email"
    no_id = await osmo.call("POST", f"{base}/contacts/find-by-id", tenant="acme", json={})
    assert no_id.status_code == 422


async def test_connector_schema_is_served(osmo: Osmo) -> None:
    schema = (await osmo.call("GET", "/connectors/schema", tenant="acme")).json()
    assert schema["title"] == "ConnectorSpec"
    assert {"auth", "api", "operations", "dataCollections"} <= set(schema["properties"])

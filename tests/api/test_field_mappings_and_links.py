"""Running field mappings (with lookups through data links and the connector) and data links."""

from __future__ import annotations

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration


async def setup(osmo: Osmo, crm) -> str:
    _, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    return str((await only_connection(osmo, "acme"))["id"])


async def test_default_mapping_is_generated_from_the_unified_model(osmo: Osmo, crm) -> None:
    connection_id = await setup(osmo, crm)
    await osmo.call("POST", "/data-sources", json={"key": "contacts", "udm": "contacts"})
    created = await osmo.call(
        "POST",
        "/field-mappings",
        json={
            "key": "people",
            "dataSourceKey": "contacts",
            "appSchema": {
                "type": "object",
                "properties": {"email": {"type": "string"}, "firstName": {"type": "string"}},
            },
        },
    )
    assert created.status_code == 201, created.text
    imported = await osmo.call(
        "POST",
        "/field-mappings/people/run",
        tenant="acme",
        json={
            "connectionId": connection_id,
            "direction": "import",
            "input": {"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"},
        },
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"output": {"email": "ada@example.com", "firstName": "Ada"}}
    exported = await osmo.call(
        "POST",
        "/field-mappings/people/run",
        tenant="acme",
        json={
            "connectionId": connection_id,
            "direction": "export",
            "input": {"email": "grace@example.com", "firstName": "Grace"},
        },
    )
    assert exported.json() == {"output": {"email": "grace@example.com", "firstname": "Grace"}}
    schema = await osmo.call("GET", "/field-mappings/people/app-schema", tenant="acme")
    assert set(schema.json()["properties"]) == {"email", "firstName"}


async def test_links_and_lookups_through_a_data_link_table(osmo: Osmo, crm) -> None:
    connection_id = await setup(osmo, crm)
    assert (
        await osmo.call("POST", "/data-link-tables", json={"key": "companies"})
    ).status_code == 201
    links = f"/connections/{connection_id}/data-link-tables/companies/links"
    first = await osmo.call(
        "POST", links, tenant="acme", json={"appRecordId": "app-1", "externalRecordId": "ext-1"}
    )
    assert first.status_code == 201, first.text
    clash = await osmo.call(
        "POST", links, tenant="acme", json={"appRecordId": "app-1", "externalRecordId": "ext-2"}
    )
    assert clash.status_code == 409 and clash.json()["key"] == "data_link_exists"
    # export-only links allow many app records per external one, but one per app record
    await osmo.call(
        "POST",
        links,
        tenant="acme",
        json={"appRecordId": "app-2", "externalRecordId": "ext-9", "direction": "export"},
    )
    shared = await osmo.call(
        "POST",
        links,
        tenant="acme",
        json={"appRecordId": "app-3", "externalRecordId": "ext-9", "direction": "export"},
    )
    assert shared.status_code == 201
    by_external = await osmo.call("GET", f"{links}?externalRecordId=ext-9", tenant="acme")
    assert {link["appRecordId"] for link in by_external.json()["items"]} == {"app-2", "app-3"}
    await osmo.call(
        "POST",
        "/field-mappings",
        json={
            "key": "deals",
            "exportValue": {
                "name": {"$var": "title"},
                "companyId": {
                    "$findExternalRecordId": {
                        "dataLinkTable": "companies",
                        "recordId": {"$var": "companyId"},
                    }
                },
            },
            "importValue": {
                "companyId": {
                    "$findAppRecordId": {
                        "dataLinkTable": "companies",
                        "recordId": {"$var": "companyId"},
                    }
                }
            },
        },
    )
    exported = await osmo.call(
        "POST",
        "/field-mappings/deals/run",
        tenant="acme",
        json={
            "connectionId": connection_id,
            "direction": "export",
            "input": {"title": "Big deal", "companyId": "app-1"},
        },
    )
    assert exported.json() == {"output": {"name": "Big deal", "companyId": "ext-1"}}
    imported = await osmo.call(
        "POST",
        "/field-mappings/deals/run",
        tenant="acme",
        json={
            "connectionId": connection_id,
            "direction": "import",
            "input": {"companyId": "ext-1"},
        },
    )
    assert imported.json() == {"output": {"companyId": "app-1"}}
    deleted = await osmo.call("DELETE", f"{links}?appRecordId=app-1", tenant="acme")
    assert deleted.status_code == 204
    missing = await osmo.call("DELETE", f"{links}?appRecordId=app-1", tenant="acme")
    assert missing.status_code == 404
    unknown_table = await osmo.call(
        "GET", f"/connections/{connection_id}/data-link-tables/nope/links", tenant="acme"
    )
    assert unknown_table.status_code == 404


async def test_lookup_finds_records_through_the_connector(osmo: Osmo, crm) -> None:
    connection_id = await setup(osmo, crm)
    await osmo.call(
        "POST",
        "/field-mappings",
        json={
            "key": "owner",
            "direction": "export",
            "exportValue": {
                "contactId": {
                    "$lookup": {
                        "collection": {"key": "contacts"},
                        "query": {"email": {"$var": "ownerEmail"}},
                    }
                }
            },
        },
    )
    response = await osmo.call(
        "POST",
        "/field-mappings/owner/run",
        tenant="acme",
        json={
            "connectionId": connection_id,
            "direction": "export",
            "input": {"ownerEmail": "ada.lovelace1@example.com"},
        },
    )
    # the fake CRM's contacts `match` finds its first seeded contact by email
    assert response.status_code == 200, response.text
    assert response.json()["output"] == {"contactId": "1001"}
    wrong_direction = await osmo.call(
        "POST",
        "/field-mappings/owner/run",
        tenant="acme",
        json={"connectionId": connection_id, "direction": "import", "input": {}},
    )
    assert wrong_direction.status_code == 422

"""Elements at three layers, through the field-mappings and data-sources routes."""

from __future__ import annotations

from typing import Any

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.api.element_samples import MAPPING
from tests.conftest import Osmo, create_crm_integration


async def setup(osmo: Osmo, crm) -> str:
    _, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    return str((await only_connection(osmo, "acme"))["id"])


async def test_universal_integration_and_connection_layers(osmo: Osmo, crm) -> None:
    connection_id = await setup(osmo, crm)
    created = await osmo.call("POST", "/field-mappings", json=MAPPING)
    assert created.status_code == 201, created.text
    assert created.json()["layer"] == "universal" and created.json()["revision"] == 1
    integration_level = await osmo.call(
        "POST",
        "/integrations/crm/field-mappings",
        json={"key": "contacts", "dataSourceKey": "contacts"},
    )
    assert integration_level.status_code == 201, integration_level.text
    body = integration_level.json()
    assert body["layer"] == "integration" and body["parentId"] == created.json()["id"]
    assert body["importValue"] == MAPPING["importValue"]  # inherited
    by_selector = await osmo.call("GET", "/field-mappings/crm.contacts", tenant="acme")
    assert by_selector.json()["id"] == body["id"]
    instance = await osmo.call(
        "GET", f"/connections/{connection_id}/field-mappings/contacts", tenant="acme"
    )
    assert instance.status_code == 200, instance.text
    assert instance.json()["layer"] == "connection"
    assert instance.json()["parentId"] == body["id"]
    assert instance.json()["isCustomized"] is False
    # the customer customizes the import of fullName; revision guards concurrent edits
    custom_import = {**MAPPING["importValue"], "fullName": {"$var": "lastname"}}
    patched = await osmo.call(
        "PATCH",
        f"/connections/{connection_id}/field-mappings/contacts",
        tenant="acme",
        json={"importValue": custom_import, "revision": 1},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["isCustomized"] is True and patched.json()["revision"] == 2
    assert patched.json()["importValue"]["fullName"] == {"$var": "lastname"}
    stale = await osmo.call(
        "PATCH",
        f"/connections/{connection_id}/field-mappings/contacts",
        tenant="acme",
        json={"importValue": custom_import, "revision": 1},
    )
    assert stale.status_code == 409 and stale.json()["key"] == "revision_conflict"
    # a parent change flows to the instance for what the customer did not change
    await osmo.call(
        "PATCH", "/field-mappings/contacts", json={"exportValue": {"email": {"$var": "email"}}}
    )
    instance = await osmo.call(
        "GET", f"/connections/{connection_id}/field-mappings/contacts", tenant="acme"
    )
    assert instance.json()["exportValue"] == {"email": {"$var": "email"}}
    reset = await osmo.call(
        "POST", f"/connections/{connection_id}/field-mappings/contacts/reset", tenant="acme"
    )
    assert reset.json()["isCustomized"] is False
    assert reset.json()["importValue"] == MAPPING["importValue"]


async def test_customers_cannot_change_frozen_or_structural_fields(osmo: Osmo, crm) -> None:
    connection_id = await setup(osmo, crm)
    await osmo.call("POST", "/field-mappings", json=MAPPING)
    path = f"/connections/{connection_id}/field-mappings/contacts"
    frozen = await osmo.call(
        "PATCH",
        path,
        tenant="acme",
        json={"importValue": {**MAPPING["importValue"], "email": {"$var": "other"}}},
    )
    assert frozen.status_code == 422
    assert frozen.json()["data"]["errors"] == [
        {"path": "importValue.email", "message": "this field is frozen"}
    ]
    structural = await osmo.call(
        "PATCH", path, tenant="acme", json={"appSchema": {"type": "object"}}
    )
    assert structural.status_code == 422
    assert structural.json()["data"]["errors"][0]["path"] == "appSchema"
    unchanged = await osmo.call("GET", path, tenant="acme")
    assert unchanged.json()["revision"] == 1


async def test_invalid_definitions_are_422_with_every_problem_and_nothing_saved(
    osmo: Osmo,
) -> None:
    bad: dict[str, Any] = {
        "key": "broken",
        "direction": "sideways",
        "appSchema": {"type": "strin"},
        "importValue": {
            "owner": {
                "$case": {
                    "cases": [
                        {"filter": {"field": "a", "operator": "equalz", "value": 1}, "value": 1}
                    ]
                }
            },
            "x": {"$fooBar": 1},
        },
    }
    response = await osmo.call("POST", "/field-mappings", json=bad)
    assert response.status_code == 422
    paths = {e["path"] for e in response.json()["data"]["errors"]}
    assert paths == {
        "direction",
        "appSchema.type",
        "importValue.owner.$case.cases[0].filter.operator",
        "importValue.x.$fooBar",
    }
    assert (await osmo.call("GET", "/field-mappings")).json()["items"] == []
    no_key = await osmo.call("POST", "/field-mappings", json={"direction": "both"})
    assert no_key.status_code == 422 and no_key.json()["data"]["errors"][0]["path"] == "key"


async def test_customer_cannot_write_universal_elements_and_other_customers_get_404(
    osmo: Osmo, crm
) -> None:
    connection_id = await setup(osmo, crm)
    assert (
        await osmo.call("POST", "/field-mappings", tenant="acme", json=MAPPING)
    ).status_code == 403
    await osmo.call("POST", "/field-mappings", json=MAPPING)
    other = await osmo.call(
        "GET", f"/connections/{connection_id}/field-mappings/contacts", tenant="globex"
    )
    assert other.status_code == 404


async def test_delete_cascades_to_instances(osmo: Osmo, crm) -> None:
    connection_id = await setup(osmo, crm)
    await osmo.call("POST", "/field-mappings", json=MAPPING)
    await osmo.call("GET", f"/connections/{connection_id}/field-mappings/contacts", tenant="acme")
    assert (await osmo.call("DELETE", "/field-mappings/contacts")).status_code == 204
    gone = await osmo.call(
        "GET", f"/connections/{connection_id}/field-mappings/contacts", tenant="acme"
    )
    assert gone.status_code == 404
    assert (
        await osmo.call("DELETE", f"/connections/{connection_id}", tenant="acme")
    ).status_code == 204

"""Integrations: connector checks, encrypted client secrets, admin-only secrets."""

from __future__ import annotations

from tests.conftest import Osmo


async def test_integration_crud_and_secret_handling(osmo: Osmo) -> None:
    body = {
        "key": "crm",
        "connectorKey": "fake-crm",
        "clientId": "cid",
        "clientSecret": "super-secret-value",
        "scopes": ["contacts.write"],
        "parameters": {"baseUrl": "http://127.0.0.1:1"},
    }
    created = await osmo.call("POST", "/integrations", json=body)
    assert created.status_code == 201, created.text
    public = created.json()
    assert public["name"] == "Fake CRM"
    assert public["hasClientSecret"] is True and public["clientSecret"] is None
    assert (await osmo.call("POST", "/integrations", json=body)).status_code == 409
    as_customer = await osmo.call("GET", "/integrations/crm", tenant="acme")
    assert as_customer.status_code == 200 and "super-secret-value" not in as_customer.text
    denied = await osmo.call("GET", "/integrations/crm?includeSecrets=true", tenant="acme")
    assert denied.status_code == 403
    revealed = await osmo.call("GET", "/integrations/crm?includeSecrets=true")
    assert revealed.json()["clientSecret"] == "super-secret-value"
    patched = await osmo.call("PATCH", "/integrations/crm", json={"clientSecret": "rotated-secret"})
    assert patched.status_code == 200
    revealed = await osmo.call("GET", "/integrations/crm?includeSecrets=true")
    assert revealed.json()["clientSecret"] == "rotated-secret"
    assert (await osmo.call("DELETE", "/integrations/crm")).status_code == 204
    assert (await osmo.call("GET", "/integrations/crm")).status_code == 404


async def test_unknown_connector_or_auth_option_is_422_and_not_saved(osmo: Osmo) -> None:
    unknown = await osmo.call("POST", "/integrations", json={"key": "x", "connectorKey": "nope"})
    assert unknown.status_code == 422
    assert unknown.json()["data"]["errors"][0]["path"] == "connectorKey"
    bad_option = await osmo.call(
        "POST",
        "/integrations",
        json={"key": "x", "connectorKey": "fake-crm", "authOptions": ["oauth2", "magic"]},
    )
    assert bad_option.status_code == 422
    assert bad_option.json()["data"]["errors"][0]["path"] == "authOptions[1]"
    assert (await osmo.call("GET", "/integrations")).json()["items"] == []


async def test_connectors_are_listed(osmo: Osmo) -> None:
    listing = await osmo.call("GET", "/connectors", tenant="acme")
    keys = {c["key"] for c in listing.json()["items"]}
    assert {"fake-crm", "fake-helpdesk", "fake-oauth1"} <= keys
    crm = (await osmo.call("GET", "/connectors/fake-crm", tenant="acme")).json()
    assert [o["type"] for o in crm["authOptions"]] == ["oauth2", "oauth2-client-credentials"]
    assert (await osmo.call("GET", "/connectors/nope", tenant="acme")).status_code == 404

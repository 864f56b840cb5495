"""Workspace tokens, customers created on first use, admin-only routes, customer isolation."""

from __future__ import annotations

import time

import jwt

from core.tokens import mint_token
from tests.conftest import WORKSPACE_SECRET, Osmo


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_missing_expired_and_forged_tokens_get_401_with_keys(osmo: Osmo) -> None:
    missing = await osmo.client.get("/connections")
    assert missing.status_code == 401
    assert missing.json()["type"] == "auth" and missing.json()["key"] == "not_authenticated"
    expired_token = jwt.encode(
        {"workspaceKey": "test", "tenantKey": "acme", "exp": int(time.time()) - 60},
        WORKSPACE_SECRET,
    )
    expired = await osmo.client.get("/connections", headers=bearer(expired_token))
    assert expired.status_code == 401 and expired.json()["key"] == "access_token_expired"
    forged = mint_token("some-other-secret-of-sufficient-length", "test", tenant_key="acme")
    wrong = await osmo.client.get("/connections", headers=bearer(forged))
    assert wrong.status_code == 401 and wrong.json()["key"] == "not_authenticated"
    other_workspace = mint_token(WORKSPACE_SECRET, "elsewhere", tenant_key="acme")
    response = await osmo.client.get("/connections", headers=bearer(other_workspace))
    assert response.status_code == 401
    assert set(response.json()) == {"type", "key", "message", "data"}


async def test_hs512_tokens_are_accepted(osmo: Osmo) -> None:
    token = mint_token(WORKSPACE_SECRET, "test", tenant_key="acme", algorithm="HS512")
    assert (await osmo.client.get("/connections", headers=bearer(token))).status_code == 200


async def test_customer_created_on_first_use_and_updated_from_later_tokens(osmo: Osmo) -> None:
    first = mint_token(WORKSPACE_SECRET, "test", tenant_key="acme", name="Acme")
    await osmo.client.get("/connections", headers=bearer(first))
    customers = (await osmo.call("GET", "/customers")).json()["items"]
    assert [(c["tenantKey"], c["name"]) for c in customers] == [("acme", "Acme")]
    later = mint_token(
        WORKSPACE_SECRET, "test", tenant_key="acme", name="Acme Inc.", fields={"plan": "pro"}
    )
    await osmo.client.get("/connections", headers=bearer(later))
    customer = (await osmo.call("GET", f"/customers/{customers[0]['id']}")).json()
    assert customer["name"] == "Acme Inc." and customer["fields"] == {"plan": "pro"}


async def test_customer_token_on_admin_route_is_403(osmo: Osmo) -> None:
    for method, path in [("GET", "/customers"), ("POST", "/integrations")]:
        response = await osmo.call(method, path, tenant="acme", json={})
        assert response.status_code == 403, (path, response.text)
        assert response.json()["key"] == "forbidden"


async def test_customers_crud(osmo: Osmo) -> None:
    created = await osmo.call("POST", "/customers", json={"tenantKey": "globex", "name": "Globex"})
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    duplicate = await osmo.call("POST", "/customers", json={"tenantKey": "globex"})
    assert duplicate.status_code == 409 and duplicate.json()["key"] == "customer_exists"
    patched = await osmo.call("PATCH", f"/customers/{customer_id}", json={"name": "Globex Corp"})
    assert patched.json()["name"] == "Globex Corp"
    by_tenant = await osmo.call("GET", "/customers/globex")
    assert by_tenant.json()["id"] == customer_id
    assert (await osmo.call("DELETE", f"/customers/{customer_id}")).status_code == 204
    missing = await osmo.call("GET", f"/customers/{customer_id}")
    assert missing.status_code == 404 and missing.json()["key"] == "customer_not_found"


async def test_customer_list_paginates_with_cursor(osmo: Osmo) -> None:
    for i in range(7):
        await osmo.call("POST", "/customers", json={"tenantKey": f"t{i}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await osmo.call("GET", "/customers", params=params)).json()
        seen += [c["tenantKey"] for c in page["items"]]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"t{i}" for i in range(7)] and len(seen) == 7
    bad = await osmo.call("GET", "/customers", params={"cursor": "!!!"})
    assert bad.status_code == 422 and bad.json()["key"] == "invalid_cursor"


async def test_bad_body_is_422_with_field_paths_and_writes_nothing(osmo: Osmo) -> None:
    response = await osmo.call("POST", "/customers", json={"name": 5, "unknownField": 1})
    assert response.status_code == 422
    body = response.json()
    assert body["key"] == "validation_error"
    paths = {e["path"] for e in body["data"]["errors"]}
    assert {"body.tenantKey", "body.name", "body.unknownField"} <= paths
    assert (await osmo.call("GET", "/customers")).json()["items"] == []

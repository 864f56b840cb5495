"""One wire format: camelCase keys, times in UTC with `Z`, typed bodies and declared errors."""

from __future__ import annotations

import re
from typing import Any

from api.main import create_app
from tests.conftest import Osmo, make_settings

# Routes whose answers are not JSON bodies of Osmo's own: a raw passthrough, an HTML page, a
# JSON Schema (any object by nature), and the health probe (no auth).
UNTYPED = {
    "/connections/{connection_id}/proxy/{path}",
    "/connections/{connection_id}/api/{path}",
    "/connect",
    "/temporal-ui/login",
    "/connectors/schema",
    "/field-mappings/{selector}/app-schema",
    "/health",
}
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


async def _desk_connection(osmo: Osmo, url: str) -> dict[str, Any]:
    """A helpdesk connection of customer `acme` with an API token."""
    integration = {
        "key": "desk",
        "connectorKey": "fake-helpdesk",
        "parameters": {"baseUrl": url},
        "authOptions": ["api-token"],
    }
    assert (await osmo.call("POST", "/integrations", json=integration)).status_code == 201
    inputs = {"email": "agent@example.com", "apiToken": "helpdesk-token-123"}
    created = await osmo.call(
        "POST", "/connections", tenant="acme", json={"integrationKey": "desk", "inputs": inputs}
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _times(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k.endswith(("At", "Time")) and v is not None}


async def test_bodies_are_camel_case_with_times_in_utc_z(osmo: Osmo, helpdesk) -> None:
    created = await _desk_connection(osmo, helpdesk[1])
    connection_id = created["id"]
    bodies = [
        created,
        (await osmo.call("GET", "/connections", tenant="acme")).json()["items"][0],
        (await osmo.call("GET", f"/connections/{connection_id}", tenant="acme")).json(),
        (await osmo.call("POST", f"/connections/{connection_id}/disconnect", tenant="acme")).json(),
        (await osmo.call("GET", "/integrations/desk")).json(),
        (await osmo.call("GET", "/customers")).json()["items"][0],
        (await osmo.call("POST", "/data-link-tables", json={"key": "contacts"})).json(),
    ]
    for body in bodies:
        assert all(CAMEL.match(key) for key in body), sorted(body)
        times = _times(body)
        assert {"createdAt", "updatedAt"} <= times.keys(), body
        assert all(UTC_Z.match(value) for value in times.values()), times


async def test_compatibility_fields_sit_beside_osmo_names(osmo: Osmo, helpdesk) -> None:
    created = await _desk_connection(osmo, helpdesk[1])
    assert created["userId"] == created["customerId"] and created["disconnected"] is False
    gone = await osmo.call("POST", f"/connections/{created['id']}/disconnect", tenant="acme")
    assert gone.json()["disconnected"] is True and gone.json()["state"] == "disconnected"
    customer = (await osmo.call("GET", "/customers/acme")).json()
    assert customer["internalId"] == customer["tenantKey"] == "acme"
    integration = (await osmo.call("GET", "/integrations/desk")).json()
    assert "logoUri" in integration


TWO_ANSWERS = {"POST /webhooks/integrations/{integration_key}"}


def test_every_json_route_declares_its_models_and_errors(sqlite_url: str) -> None:
    schema = create_app(make_settings(sqlite_url)).openapi()
    for path, operations in schema["paths"].items():
        if path in UNTYPED:
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            ok = [c for c in operation["responses"] if c.startswith("2")]
            if where in TWO_ANSWERS:  # 200 delivered, 202 logged `unrouted`: the same model
                assert ok == ["200", "202"], where
                both = [operation["responses"][c]["content"]["application/json"] for c in ok]
                assert both[0] == both[1], where
                ok = ok[:1]
            assert len(ok) == 1, where
            if ok[0] != "204":
                answer = operation["responses"][ok[0]]["content"]["application/json"]["schema"]
                assert "$ref" in answer, (where, answer)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and method in ("post", "patch", "put"):
                assert "$ref" in str(body["schema"]) or "description" in body["schema"], where
            for status in ("401", "422"):
                error = operation["responses"][status]["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/ErrorBody"}, (where, status)


def test_element_bodies_are_documented_per_kind(sqlite_url: str) -> None:
    schema = create_app(make_settings(sqlite_url)).openapi()
    flows = schema["components"]["schemas"]["FlowCreate"]["properties"]
    assert {"key", "name", "integrationKey", "nodes", "parameters", "enabled"} <= flows.keys()
    created = schema["paths"]["/flows"]["post"]
    assert created["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/FlowCreate"
    )
    answer = created["responses"]["201"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/FlowPublic"}

"""The proxy keeps every request under the connection's base URL; a bad path is a typed 4xx."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import Osmo
from tests.fakes import serve

API_KEY = "recorder-key-123"


@pytest.fixture
def recorder() -> Iterator[tuple[list[str], str]]:
    """An app that answers 200 to anything and records every raw path it is asked for."""
    seen: list[str] = []

    async def anything(request: Request) -> JSONResponse:
        seen.append(request.scope["raw_path"].decode())
        return JSONResponse({"ok": True})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", anything, methods=methods)])
    with serve(app) as url:
        yield seen, url


async def connected(osmo: Osmo, base_url: str) -> str:
    integration = await osmo.call(
        "POST",
        "/integrations",
        json={"key": "desk", "connectorKey": "fake-helpdesk", "parameters": {"baseUrl": base_url}},
    )
    assert integration.status_code == 201, integration.text
    created = await osmo.call(
        "POST",
        "/connections",
        tenant="acme",
        json={"integrationKey": "desk", "authOptionKey": "api-key", "inputs": {"apiKey": API_KEY}},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def raw_get(osmo: Osmo, target: str) -> tuple[int, Any]:
    """GET with the request target exactly as given: HTTP clients would resolve `..` first."""
    url = httpx.URL(osmo.url)
    assert url.port is not None
    reader, writer = await asyncio.open_connection(url.host, url.port)
    token = osmo.token("acme")
    writer.write(
        f"GET {target} HTTP/1.1\r\nHost: {url.host}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


CLIMBING = [
    "../../etc/passwd",
    "../../../../etc/passwd",
    "users/../../../etc/passwd",
    "%2e%2e/%2e%2e/etc/passwd",
    "%2E%2E%2F%2E%2E%2Fetc/passwd",
    "..%2f..%2f..%2fetc/passwd",
    "..%5c..%5cetc%5cpasswd",
    "%252e%252e/%252e%252e/etc/passwd",
]


async def test_path_climbing_is_refused_in_every_encoding(
    osmo_sqlite: Osmo, recorder: tuple[list[str], str]
) -> None:
    seen, url = recorder
    connection_id = await connected(osmo_sqlite, f"{url}/api/v2")
    seen.clear()
    for path in CLIMBING:
        status, body = await raw_get(osmo_sqlite, f"/connections/{connection_id}/proxy/{path}")
        assert status == 400, (path, body)
        assert body["key"] in ("url_outside_api", "invalid_proxy_path"), (path, body)
        assert set(body) == {"type", "key", "message", "data"}
    assert seen == []
    # what stays under the base path still goes through
    status, _ = await raw_get(osmo_sqlite, f"/connections/{connection_id}/proxy/tickets.json")
    assert status == 200
    assert seen == ["/api/v2/tickets.json"]


# Control characters are refused at the API's door, for every path parameter (the runtime also
# refuses them as `invalid_url` for requests built elsewhere: tests/connectors/runtime/
# test_urls.py). A line break never matches the proxy route: that is a 404.
@pytest.mark.parametrize("path", ["%09x", "x%1Fy", "x%00y", "x%7Fy"])
async def test_control_characters_in_a_proxy_path_are_a_typed_422(
    osmo_sqlite: Osmo, recorder: tuple[list[str], str], path: str
) -> None:
    seen, url = recorder
    connection_id = await connected(osmo_sqlite, f"{url}/api/v2")
    seen.clear()
    response = await osmo_sqlite.call(
        "GET", f"/connections/{connection_id}/proxy/{path}", tenant="acme"
    )
    assert response.status_code == 422, response.text
    assert response.json()["key"] == "validation_error"
    assert response.json()["data"]["errors"][0]["path"] == "path"
    assert seen == []


async def test_absolute_url_in_the_proxy_is_refused(
    osmo_sqlite: Osmo, recorder: tuple[list[str], str]
) -> None:
    seen, url = recorder
    connection_id = await connected(osmo_sqlite, f"{url}/api/v2")
    seen.clear()
    for path in ("//127.0.0.1:9/x", f"{url}/api/v2/x", "http:%2F%2Fevil.example.com/x"):
        status, body = await raw_get(osmo_sqlite, f"/connections/{connection_id}/proxy/{path}")
        assert status == 400, (path, body)
    assert seen == []

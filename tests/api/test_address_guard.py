"""A base URL the customer supplies (an instance URL, a subdomain) must be a public address,
unless OSMO_ALLOW_PRIVATE_HTTP; base URLs from the workspace admin's parameters may be private."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors.runtime import ConnectorError, ConnectorRuntime, MemoryApiLogSink
from tests.conftest import FAKE_CONNECTORS, Osmo, make_settings, start_osmo

# A self-hosted app: the customer types the address of its own instance.
SELF_HOSTED = """
key: self-hosted-desk
name: Self-hosted desk
auth:
  - key: api-key
    type: api-key
    inputSchema:
      type: object
      required: [instanceUrl, apiKey]
      properties:
        instanceUrl: {type: string}
        apiKey: {type: string, isSensitive: true}
    apply: {headers: {X-Api-Key: "{{ inputs.apiKey }}"}}
    test: {path: /api/v2/users/me.json}
  - key: no-test
    type: api-key
    inputSchema:
      type: object
      required: [instanceUrl, apiKey]
      properties:
        instanceUrl: {type: string}
        apiKey: {type: string, isSensitive: true}
    apply: {headers: {X-Api-Key: "{{ inputs.apiKey }}"}}
api:
  baseUrl: "{{ inputs.instanceUrl }}"
"""
API_KEY = "helpdesk-token-123"


def connector_paths(tmp_path: Path) -> str:
    folder = tmp_path / "connectors" / "self-hosted-desk"
    folder.mkdir(parents=True)
    (folder / "connector.yaml").write_text(SELF_HOSTED)
    return os.pathsep.join([str(FAKE_CONNECTORS), str(tmp_path / "connectors")])


@pytest.fixture
async def guarded(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Osmo]:
    settings = make_settings(sqlite_url, connector_paths=connector_paths(tmp_path))
    async for running in start_osmo(settings):
        yield running


@pytest.fixture
async def allowing(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Osmo]:
    settings = make_settings(
        sqlite_url, connector_paths=connector_paths(tmp_path), allow_private_http=True
    )
    async for running in start_osmo(settings):
        yield running


async def connect(osmo: Osmo, instance_url: str, option: str = "api-key") -> tuple[int, dict]:
    integration = await osmo.call(
        "POST",
        "/integrations",
        json={"key": f"desk-{option}", "connectorKey": "self-hosted-desk", "authOptions": [option]},
    )
    assert integration.status_code in (201, 409), integration.text
    created = await osmo.call(
        "POST",
        "/connections",
        tenant="acme",
        json={
            "integrationKey": f"desk-{option}",
            "inputs": {"instanceUrl": instance_url, "apiKey": API_KEY},
        },
    )
    return created.status_code, created.json()


@pytest.mark.parametrize(
    "instance_url",
    ["http://10.1.2.3:8080", "http://169.254.169.254/latest/meta-data", "http://[::1]:9"],
)
async def test_a_private_instance_url_is_refused_at_connect(guarded: Osmo, instance_url) -> None:
    status, body = await connect(guarded, instance_url)
    assert status == 400, body
    assert body["key"] == "connection_test_failed"
    assert body["data"]["cause"] == "address_not_allowed"
    assert (await guarded.call("GET", "/connections", tenant="acme")).json()["items"] == []


async def test_loopback_instance_url_is_refused_and_the_app_sees_nothing(
    guarded: Osmo, helpdesk
) -> None:
    fake, url = helpdesk
    status, body = await connect(guarded, url)
    assert status == 400 and body["data"]["cause"] == "address_not_allowed", body
    assert "127.0.0.1" in body["data"]["addresses"]
    # no test request: the address is checked anyway before the connection is saved
    status, body = await connect(guarded, url, option="no-test")
    assert status == 400 and body["data"]["cause"] == "address_not_allowed", body
    assert fake.api_requests == []
    assert (await guarded.call("GET", "/connections", tenant="acme")).json()["items"] == []


async def test_private_instance_url_is_allowed_when_the_workspace_allows_it(
    allowing: Osmo, helpdesk
) -> None:
    fake, url = helpdesk
    status, body = await connect(allowing, url)
    assert status == 201, body
    assert fake.api_requests[-1]["path"] == "/api/v2/users/me.json"
    # every later request of that connection is guarded too, where the workspace does not allow
    services = allowing.services
    runtime = ConnectorRuntime(services.registry, services.connections, MemoryApiLogSink())
    before = len(fake.api_requests)
    try:
        ctx = runtime.context_for(services.connections.load(body["id"]))
        with pytest.raises(ConnectorError) as raised:
            await runtime.request(ctx, "GET", "api/v2/tickets.json")
    finally:
        await runtime.aclose()
    assert raised.value.key == "address_not_allowed" and raised.value.status == 400
    assert len(fake.api_requests) == before


async def test_admin_parameters_may_point_at_loopback(guarded: Osmo, helpdesk) -> None:
    fake, url = helpdesk
    integration = await guarded.call(
        "POST",
        "/integrations",
        json={"key": "desk", "connectorKey": "fake-helpdesk", "parameters": {"baseUrl": url}},
    )
    assert integration.status_code == 201, integration.text
    created = await guarded.call(
        "POST",
        "/connections",
        tenant="acme",
        json={"integrationKey": "desk", "authOptionKey": "api-key", "inputs": {"apiKey": API_KEY}},
    )
    assert created.status_code == 201, created.text
    assert fake.api_requests[-1]["path"] == "/api/v2/users/me.json"

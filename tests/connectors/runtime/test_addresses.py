"""A token endpoint on a host from the customer's inputs is guarded like a base URL: the
integration's client secret never goes to a private address (unless the workspace allows)."""

from __future__ import annotations

import pytest

from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectionContext, ConnectorError, ConnectorRuntime, MemoryApiLogSink
from connectors.spec import ConnectorSpec
from tests.conftest import CRM_CLIENT

SPEC = ConnectorSpec.model_validate(
    {
        "key": "own-auth-server",
        "name": "Own auth server",
        "auth": [
            {
                "key": "client-credentials",
                "type": "oauth2-client-credentials",
                "tokenUrl": "{{ inputs.authServer }}/oauth/token",
            }
        ],
        "api": {"baseUrl": "{{ integration.parameters.baseUrl }}"},
    }
)


def context(url: str) -> ConnectionContext:
    return ConnectionContext(
        connector=SPEC,
        auth=SPEC.auth[0],
        customer_id="c",
        integration_key="own",
        client_id=CRM_CLIENT[0],
        client_secret=CRM_CLIENT[1],
        integration_parameters={"baseUrl": url},
        scopes=[],
        inputs={"authServer": url},
    )


@pytest.mark.parametrize("allowed", [False, True])
async def test_token_endpoint_from_inputs_must_be_public(crm, allowed: bool) -> None:
    fake, url = crm
    runtime = ConnectorRuntime(
        ConnectorRegistry([]), None, MemoryApiLogSink(), allow_private_http=allowed
    )
    try:
        if allowed:
            response = await runtime.request(context(url), "GET", "/api/v1/me")
            assert response.status_code == 200
            assert [r["grant_type"] for r in fake.token_requests] == ["client_credentials"]
        else:
            with pytest.raises(ConnectorError) as raised:
                await runtime.request(context(url), "GET", "/api/v1/me")
            assert raised.value.key == "address_not_allowed"
            assert fake.token_requests == [] and fake.api_requests == []
    finally:
        await runtime.aclose()

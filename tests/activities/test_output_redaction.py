"""An app that echoes the connection's token does not put it into a run's output or history."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from temporalio.testing import ActivityEnvironment

from activities.connectors import (
    ApiRequestInput,
    CollectionMethodInput,
    ConnectorActivities,
    output_redactor,
)
from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from connectors.runtime.context import ConnectionContext
from connectors.runtime.redaction import MASK
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration


async def echoing_contact(osmo: Osmo, crm: Any) -> tuple[ConnectorActivities, str, str, str]:
    """A CRM connection, and a contact whose name is the connection's access token."""
    fake, url = crm
    await create_crm_integration(osmo, url)
    await connect_oauth2(osmo, "acme")
    connection_id = str((await only_connection(osmo, "acme"))["id"])
    token = osmo.services.connections.load(connection_id).credentials["access_token"]
    contact = fake.new_contact({"email": "echo@example.com", "firstname": f"echo {token}"})
    services = osmo.services
    runtime = ConnectorRuntime(
        services.registry, services.connections, DatabaseApiLogSink(services.engine)
    )
    return ConnectorActivities(runtime, services.connections), connection_id, token, contact["id"]


async def test_api_request_output_masks_an_echoed_access_token(osmo_sqlite: Osmo, crm) -> None:
    activities, connection_id, token, contact_id = await echoing_contact(osmo_sqlite, crm)
    try:
        output = await ActivityEnvironment().run(
            activities.api_request,
            ApiRequestInput(connection_id, "GET", f"/api/v1/contacts/{contact_id}"),
        )
    finally:
        await activities.runtime.aclose()
    assert output.status == 200
    assert output.body["properties"]["firstname"] == f"echo {MASK}"
    assert output.body["properties"]["email"] == "echo@example.com"  # data stays intact
    assert token not in repr(output)


async def test_collection_output_masks_an_echoed_access_token(osmo_sqlite: Osmo, crm) -> None:
    activities, connection_id, token, contact_id = await echoing_contact(osmo_sqlite, crm)
    try:
        output = await ActivityEnvironment().run(
            activities.collection_method,
            CollectionMethodInput(connection_id, "contacts", "find_by_id", id=contact_id),
        )
    finally:
        await activities.runtime.aclose()
    assert token not in repr(output)
    assert MASK in repr(output) and "echo@example.com" in repr(output)


def test_only_secret_values_are_masked_so_data_stays_usable() -> None:
    """Outputs are data: a subdomain input or `token_type: Bearer` must not be masked."""
    sensitive_input = {"properties": {"pin": {"type": "string", "isSensitive": True}}}
    ctx = ConnectionContext(
        connector=cast(Any, None),
        auth=cast(Any, SimpleNamespace(input_schema=sensitive_input)),
        customer_id="c-1",
        integration_key="crm",
        client_id="client-1",
        client_secret="client-secret-42",
        integration_parameters={},
        scopes=[],
        inputs={"subdomain": "acme-corp", "apiToken": "input-token-77", "pin": "pin-0000-1111"},
        credentials={"access_token": "access-1234567", "token_type": "Bearer", "scope": "all"},
    )
    echoed = {
        "text": "Bearer access-1234567 at acme-corp, input-token-77, pin-0000-1111",
        "nested": [{"client-secret-42": "scope all"}],
    }
    assert output_redactor(ctx).value(echoed) == {
        "text": f"Bearer {MASK} at acme-corp, {MASK}, {MASK}",
        "nested": [{MASK: "scope all"}],
    }

"""One customer's objects of every kind, so generated tests have real ids to call routes with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.api.element_samples import FLOW, MAPPING
from tests.api.event_seed import seed_events
from tests.conftest import Osmo, create_crm_integration
from tests.workflows.flow_fixtures import CREATE_CONTACT
from workflows import search_attributes as sa

# A universal element of each kind, keyed by kind; each also gets a connection instance.
ELEMENTS: dict[str, dict[str, Any]] = {
    "data-sources": {"key": "contacts", "collectionKey": "contacts"},
    "field-mappings": MAPPING,
    "data-link-tables": {"key": "companies"},
    "app-data-schemas": {"key": "contact", "schema": {"type": "object"}},
    "app-event-types": {"key": "order-paid", "schema": {"type": "object"}},
    "flows": FLOW,
    "actions": CREATE_CONTACT,
}


@dataclass
class Seeded:
    """What `seed` created, as values for the path parameters of the API's routes."""

    tenant: str
    customer_id: str
    connection_id: str
    log_id: str
    run_id: str | None = None
    keys: dict[str, str] = field(default_factory=dict)  # kind → element key
    instance_ids: dict[str, str] = field(default_factory=dict)  # kind → connection instance id
    subscription_id: str = ""
    log_ids: dict[str, str] = field(default_factory=dict)  # event log route → a row's id


async def _ok(osmo: Osmo, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = await osmo.call(method, path, **kwargs)
    assert response.status_code < 300, (method, path, response.text)
    return dict(response.json()) if response.content else {}


async def seed(
    osmo: Osmo, crm_url: str, tenant: str = "acme", temporal: Client | None = None
) -> Seeded:
    """An integration with the fake CRM, every element kind, and `tenant`'s connection with
    an instance of each element, a data link, an external API log and (with `temporal`) a
    flow run."""
    await create_crm_integration(osmo, crm_url)
    for kind, body in ELEMENTS.items():
        await _ok(osmo, "POST", f"/{kind}", json=body)
    await connect_oauth2(osmo, tenant)
    connection = await only_connection(osmo, tenant)
    connection_id = str(connection["id"])
    instance_ids = {}
    for kind, body in ELEMENTS.items():
        path = f"/connections/{connection_id}/{kind}/{body['key']}"
        instance_ids[kind] = str((await _ok(osmo, "GET", path, tenant=tenant))["id"])
    await _ok(
        osmo,
        "POST",
        f"/connections/{connection_id}/data-link-tables/companies/links",
        tenant=tenant,
        json={"appRecordId": "a1", "externalRecordId": "e1"},
    )
    await _ok(osmo, "GET", f"/connections/{connection_id}/proxy/api/v1/contacts", tenant=tenant)
    logs = await _ok(osmo, "GET", "/external-api-logs", tenant=tenant)
    seeded = Seeded(
        tenant=tenant,
        customer_id=str(connection["customerId"]),
        connection_id=connection_id,
        log_id=str(logs["items"][0]["id"]),
        keys={kind: str(body["key"]) for kind, body in ELEMENTS.items()},
        instance_ids=instance_ids,
    )
    seeded.subscription_id, seeded.log_ids = seed_events(osmo, connection_id)
    if temporal is not None:
        seeded.run_id = f"flow-run-{uuid.uuid4().hex}"
        # No worker picks it up: it stays running, which is all reading it needs.
        await temporal.start_workflow(
            "FlowRun",
            id=seeded.run_id,
            task_queue=f"nowhere-{uuid.uuid4()}",
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.FLOW_KEY, "notify"),
                    SearchAttributePair(sa.CUSTOMER_ID, seeded.customer_id),
                    SearchAttributePair(sa.CONNECTION_ID, connection_id),
                ]
            ),
        )
    return seeded

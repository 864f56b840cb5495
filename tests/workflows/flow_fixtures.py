"""What the flow tests on the dev server share: the worker, a CRM connection, flows and runs.

The dev server itself is the session's `env` fixture (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from temporalio.testing import WorkflowEnvironment

from core.blobs import with_converter
from core.settings import Settings
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration
from worker import build_activities, build_worker


@contextlib.asynccontextmanager
async def flow_worker(
    osmo: Osmo, env: WorkflowEnvironment, **overrides: Any
) -> AsyncIterator[Settings]:
    """The worker as `python worker.py` builds it (with `overrides` on Osmo's settings), on a
    fresh task queue that the API starts runs on."""
    settings = osmo.settings.model_copy(update={"task_queue": f"osmo-{uuid.uuid4()}", **overrides})
    osmo.services.settings.task_queue = settings.task_queue
    client = with_converter(env.client, settings)  # as `connect` builds it: claim check on
    osmo.services.temporal_client = client
    activities = build_activities(settings)
    try:
        async with build_worker(client, settings, activities):
            yield settings
    finally:
        await activities.aclose()


async def crm_connection(osmo: Osmo, crm_url: str, tenant: str = "acme") -> str:
    """The id of `tenant`'s OAuth connection to the fake CRM."""
    await create_crm_integration(osmo, crm_url)
    await connect_oauth2(osmo, tenant)
    return str((await only_connection(osmo, tenant))["id"])


async def define_all(osmo: Osmo, *elements: tuple[str, dict[str, Any]]) -> None:
    """Creates each `(path, body)` element as admin, e.g. `("/actions", {...})`."""
    for path, body in elements:
        response = await osmo.call("POST", path, json=body)
        assert response.status_code == 201, response.text


CONTACTS_SOURCE = ("/data-sources", {"key": "contacts", "collectionKey": "contacts"})
CREATE_CONTACT: dict[str, Any] = {
    "key": "create-contact",
    "name": "Create a contact",
    "type": "create-data-record",
    "config": {
        "dataSourceKey": "contacts",
        "fields": {"email": {"$var": "input.email"}, "firstname": {"$var": "input.firstName"}},
    },
    "inputSchema": {
        "type": "object",
        "required": ["email"],
        "properties": {
            "email": {"type": "string", "format": "email"},
            "firstName": {"type": "string"},
        },
    },
    "outputMapping": {"id": {"$var": "output.record.id"}, "email": {"$var": "input.email"}},
}
"""An action over `CONTACTS_SOURCE`, run by the action tests and by `run-action` nodes."""

GET_CONTACT: dict[str, Any] = {
    "key": "get-contact",
    "type": "find-data-record-by-id",
    "config": {"dataSourceKey": "contacts", "id": {"$var": "input.id"}},
    "inputSchema": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
}


async def define(osmo: Osmo, flow: dict[str, Any]) -> None:
    """Creates `flow` at the universal layer, as admin."""
    response = await osmo.call("POST", "/flows", json=flow)
    assert response.status_code == 201, response.text


async def run_flow(osmo: Osmo, connection_id: str, flow_key: str, input: Any = None) -> str:
    """Starts the connection's flow as its customer (acme); returns the flow run id."""
    started = await osmo.call(
        "POST",
        f"/connections/{connection_id}/flows/{flow_key}/run",
        tenant="acme",
        json={"input": input},
    )
    assert started.status_code == 201, started.text
    return str(started.json()["flowRunId"])


def node(run: dict[str, Any], key: str) -> dict[str, Any]:
    """The first node run of node `key` in a flow run as the API answers it."""
    return next(r for r in run["nodeRuns"] if r["nodeKey"] == key)


async def finished(osmo: Osmo, run_id: str, tenant: str = "acme") -> dict[str, Any]:
    for _ in range(600):
        run = (await osmo.call("GET", f"/flow-runs/{run_id}", tenant=tenant)).json()
        if run.get("state") not in ("running", "queued"):
            return dict(run)
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish: {run}")

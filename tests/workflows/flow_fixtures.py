"""What the flow tests on the dev server share: the server, the worker, a CRM connection."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from core.blobs import with_converter
from core.settings import Settings
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration
from tests.temporal_env import dev_server
from worker import build_activities, build_worker


@pytest.fixture(scope="module", name="env")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server, one per test module (import `dev_env` to use the `env` fixture)."""
    environment = await dev_server()
    yield environment
    await environment.shutdown()


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


async def finished(osmo: Osmo, run_id: str, tenant: str = "acme") -> dict[str, Any]:
    for _ in range(600):
        run = (await osmo.call("GET", f"/flow-runs/{run_id}", tenant=tenant)).json()
        if run.get("state") not in ("running", "queued"):
            return dict(run)
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish: {run}")

"""The worker as `python worker.py` builds it, on the dev server with Osmo's search attributes."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from activities.connectors import ApiRequestInput
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration
from tests.temporal_env import dev_server
from worker import build_activities, build_worker
from workflows import search_attributes as sa
from workflows.api_request import ApiRequestWorkflow


async def test_worker_runs_api_request_findable_by_search_attributes(
    osmo_sqlite: Osmo, crm
) -> None:
    _, url = crm
    await create_crm_integration(osmo_sqlite, url)
    await connect_oauth2(osmo_sqlite, "acme")
    connection = await only_connection(osmo_sqlite, "acme")
    settings = osmo_sqlite.settings.model_copy(update={"task_queue": f"osmo-{uuid.uuid4()}"})
    env = await dev_server()
    try:
        activities = build_activities(settings)
        async with build_worker(env.client, settings, activities):
            handle = await env.client.start_workflow(
                ApiRequestWorkflow.run,
                ApiRequestInput(connection["id"], "GET", "/api/v1/me"),
                id=f"api-request-{uuid.uuid4()}",
                task_queue=settings.task_queue,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.CUSTOMER_ID, connection["customerId"]),
                        SearchAttributePair(sa.CONNECTION_ID, connection["id"]),
                        SearchAttributePair(sa.INTEGRATION_KEY, "crm"),
                    ]
                ),
            )
            result = await handle.result()
            assert result.status == 200
        query = f"ConnectionId = '{connection['id']}' AND IntegrationKey = 'crm'"
        for _ in range(50):  # visibility is eventually consistent
            found = [w.id async for w in env.client.list_workflows(query)]
            if found:
                break
            await asyncio.sleep(0.1)
        assert found == [handle.id]
        await activities.aclose()
    finally:
        await env.shutdown()

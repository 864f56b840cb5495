"""The worker as `python worker.py` builds it: every activity defined is registered, and flow
runs on the dev server are findable by Osmo's search attributes."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import uuid
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

import activities
from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import Osmo, create_crm_integration, make_settings
from worker import build_activities, build_worker
from workflows import search_attributes as sa
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowSnapshot


def defined_activities() -> set[str]:
    """The name of every `@activity.defn` method of every class in the activities package."""
    names = set()
    for module_info in pkgutil.iter_modules(activities.__path__, "activities."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for _, function in inspect.getmembers(cls, inspect.isfunction):
                definition = activity._Definition.from_callable(function)
                if definition is not None and definition.name:
                    names.add(definition.name)
    return names


async def test_every_defined_activity_is_registered(tmp_path: Path) -> None:
    built = build_activities(make_settings(f"sqlite:///{tmp_path / 'osmo.db'}"))
    try:
        registered = [str(activity._Definition.must_from_callable(m).name) for m in built.methods()]
    finally:
        await built.aclose()
    assert "api_request" in defined_activities()  # the package really was read
    assert sorted(registered) == sorted(defined_activities())


async def test_worker_runs_a_flow_findable_by_search_attributes(
    osmo_sqlite: Osmo, crm, env: WorkflowEnvironment
) -> None:
    _, url = crm
    await create_crm_integration(osmo_sqlite, url)
    await connect_oauth2(osmo_sqlite, "acme")
    connection = await only_connection(osmo_sqlite, "acme")
    settings = osmo_sqlite.settings.model_copy(update={"task_queue": f"osmo-{uuid.uuid4()}"})
    nodes: dict[str, dict[str, Any]] = {
        "t": {"type": "api-trigger", "links": [{"key": "me"}]},
        "me": {"type": "api-request-to-external-app", "config": {"path": "/api/v1/me"}},
    }
    snapshot = FlowSnapshot("me", "instance-me", nodes, connection_id=connection["id"])
    built = build_activities(settings)
    try:
        async with build_worker(env.client, settings, built):
            handle = await env.client.start_workflow(
                FlowRunWorkflow.run,
                FlowRunInput(snapshot),
                id=f"flow-run-{uuid.uuid4()}",
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
    finally:
        await built.aclose()
    [me] = [run for run in result.node_runs if run.node_key == "me"]
    assert me.outputs[0]["status"] == 200
    assert me.outputs[0]["body"]["email"] == "alice@example.com"
    query = f"ConnectionId = '{connection['id']}' AND IntegrationKey = 'crm'"
    for _ in range(50):  # visibility is eventually consistent
        found = [w.id async for w in env.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [handle.id]

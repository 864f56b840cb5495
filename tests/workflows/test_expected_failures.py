"""Failures the user caused, at run time: what the app said is kept on the node run, the
worker's output has no traceback for them, and a delay's formula is checked when it runs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.conftest import Osmo
from tests.workflows.flow_fixtures import (
    crm_connection,
    define,
    finished,
    flow_worker,
    node,
    run_flow,
)

CREATE: dict[str, Any] = {
    "key": "create-contact-flow",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "create"}]},
        "create": {
            "type": "create-data-record",
            "config": {
                "collectionKey": "contacts",
                "fields": {"email": {"$var": "input.trigger.email"}},
            },
        },
    },
}

DELAY: dict[str, Any] = {
    "key": "delay-by-input",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "wait"}]},
        "wait": {
            "type": "delay",
            "config": {"seconds": {"$var": "input.trigger.seconds"}},
            "links": [{"key": "done"}],
        },
        "done": {"type": "transform-data", "config": {"value": "waited"}},
    },
}


@pytest.fixture
async def connected(osmo_sqlite: Osmo, crm) -> str:
    _, url = crm
    return await crm_connection(osmo_sqlite, url)


async def test_a_conflict_keeps_the_apps_message_and_prints_no_traceback(
    osmo_sqlite: Osmo,
    connected: str,
    env: WorkflowEnvironment,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await define(osmo_sqlite, CREATE)
    caplog.set_level(logging.INFO)  # the worker's level (core/logging.py)
    async with flow_worker(osmo_sqlite, env):
        first = await finished(
            osmo_sqlite,
            await run_flow(osmo_sqlite, connected, "create-contact-flow", {"email": "a@x.io"}),
        )
        second = await finished(
            osmo_sqlite,
            await run_flow(osmo_sqlite, connected, "create-contact-flow", {"email": "a@x.io"}),
        )
    assert first["state"] == "completed", first
    existing = node(first, "create")["outputs"][0]["record"]["id"]
    assert second["state"] == "failed" and second["failedNodeKey"] == "create"
    error = node(second, "create")["error"]
    assert error["key"] == "conflict"
    said = f"Contact already exists. Existing ID: {existing}"
    assert error["data"]["appMessage"] == said
    assert said in error["message"]
    assert "Traceback" not in caplog.text
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


async def test_a_delay_takes_its_seconds_from_a_formula(
    osmo_sqlite: Osmo, connected: str, env: WorkflowEnvironment
) -> None:
    await define(osmo_sqlite, DELAY)
    async with flow_worker(osmo_sqlite, env):
        waited = await finished(
            osmo_sqlite, await run_flow(osmo_sqlite, connected, "delay-by-input", {"seconds": 0.2})
        )
        refused = await finished(
            osmo_sqlite, await run_flow(osmo_sqlite, connected, "delay-by-input", {"seconds": "x"})
        )
    assert waited["state"] == "completed", waited
    assert node(waited, "done")["outputs"] == ["waited"]
    assert refused["state"] == "failed" and refused["failedNodeKey"] == "wait"
    error = node(refused, "wait")["error"]
    assert error["key"] == "validation_error"
    assert error["data"]["errors"][0]["path"] == "config.seconds"

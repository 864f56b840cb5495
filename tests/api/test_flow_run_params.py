"""`GET /flow-runs` checks its parameters before they reach Temporal's visibility query."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from core.blobs import with_converter
from tests.conftest import Osmo
from workflows import search_attributes as sa


@pytest.fixture
async def osmo_temporal(osmo_sqlite: Osmo, env: WorkflowEnvironment) -> AsyncIterator[Osmo]:
    osmo_sqlite.services.temporal_client = with_converter(env.client, osmo_sqlite.settings)
    yield osmo_sqlite


async def test_non_hex_and_stale_cursors_are_422_invalid_cursor(osmo_temporal: Osmo) -> None:
    for cursor in ("null", "zz", "abc", "00ff00ff"):
        response = await osmo_temporal.call("GET", "/flow-runs", params={"cursor": cursor})
        assert response.status_code == 422, (cursor, response.text)
        body = response.json()
        assert body["key"] == "invalid_cursor"
        assert [e["path"] for e in body["data"]["errors"]] == ["cursor"]


async def test_cursor_zero_means_the_start(osmo_temporal: Osmo) -> None:
    # The dev server is shared by the session: filter on a flow no other test runs.
    params = {"cursor": "0", "flowKey": f"never-run-{uuid.uuid4().hex}"}
    response = await osmo_temporal.call("GET", "/flow-runs", params=params)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "cursor": None}


async def test_a_date_without_time_zone_is_utc(osmo_temporal: Osmo) -> None:
    for params in ({"since": "2026-01-01"}, {"until": "2026-01-01T10:00:00"}):
        response = await osmo_temporal.call("GET", "/flow-runs", params=params)
        assert response.status_code == 200, (params, response.text)


async def test_control_characters_never_reach_temporal(osmo_temporal: Osmo) -> None:
    for name in ("connectionId", "flowKey", "integrationKey", "customerId"):
        started = time.monotonic()
        response = await osmo_temporal.call("GET", "/flow-runs", params={name: "a\x01b\nc"})
        assert response.status_code == 422, (name, response.text)
        assert [e["path"] for e in response.json()["data"]["errors"]] == [f"query.{name}"]
        # Refused at the door: a call to Temporal would wait out its retries (10 s and more);
        # the bound is loose enough for a loaded 2-core machine.
        assert time.monotonic() - started < 5


async def test_temporal_down_is_503(osmo_sqlite: Osmo) -> None:
    osmo_sqlite.services.settings.temporal_address = "127.0.0.1:1"
    response = await osmo_sqlite.call("GET", "/flow-runs")
    assert response.status_code == 503, response.text
    assert response.json()["key"] == "temporal_unavailable"


async def test_cursors_page_through_runs_and_only_for_their_query(
    osmo_temporal: Osmo, env: WorkflowEnvironment
) -> None:
    flow_key = f"paging-{uuid.uuid4().hex[:8]}"
    for _ in range(3):  # no worker: they stay running, which is all listing needs
        await env.client.start_workflow(
            "FlowRun",
            id=f"flow-run-{uuid.uuid4().hex}",
            task_queue=f"nowhere-{uuid.uuid4()}",
            search_attributes=TypedSearchAttributes([SearchAttributePair(sa.FLOW_KEY, flow_key)]),
        )
    params: dict[str, Any] = {"flowKey": flow_key, "limit": 2}
    for _ in range(100):  # visibility catches up shortly after the starts
        first = (await osmo_temporal.call("GET", "/flow-runs", params=params)).json()
        if first["cursor"]:
            break
        await asyncio.sleep(0.1)
    assert len(first["items"]) == 2 and first["cursor"]
    second = await osmo_temporal.call(
        "GET", "/flow-runs", params={**params, "cursor": first["cursor"]}
    )
    assert second.status_code == 200, second.text
    ids = [run["id"] for run in first["items"] + second.json()["items"]]
    assert len(set(ids)) == 3
    other_query = await osmo_temporal.call(
        "GET", "/flow-runs", params={"flowKey": "other", "cursor": first["cursor"]}
    )
    assert other_query.status_code == 422 and other_query.json()["key"] == "invalid_cursor"

"""Under load the API keeps answering (issue 12).

Osmo runs on a real uvicorn on a loopback socket, with a real Temporal dev server and Osmo's
worker; 100 callers hit each start route (flow run, action run, proxy) for a few seconds. Every
answer must be a success or declared back-pressure (429/503 with `Retry-After` and the error
body), never another error or a stall, and `/health` must keep answering quickly throughout.

The strict figure (/health p99 under 100 ms) comes from `bench/api_load.py`; here the API,
the worker, the fake CRM and the load generator share one process and a busy 2-core CI machine,
so the bound is looser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api.load_driver import prepare, run_load
from tests.conftest import Osmo, make_settings, start_osmo
from tests.workflows.flow_fixtures import flow_worker

CONCURRENCY = 100
SECONDS = 1.5
# Loose for a shared, loaded CI machine (the API, worker, fake CRM and load generator share this
# process); bench/api_load.py reports the strict figure with each in its own process. A stalled
# API (a pool checkout blocking the loop) shows here as seconds.
HEALTH_P99_MS = 2500.0


@pytest.fixture
async def osmo_unlimited(sqlite_url: str) -> AsyncIterator[Osmo]:
    """Osmo without the per-customer rate limit: one customer makes all the load here, and
    the point is what the API does when it is saturated, not the rate limit's 429s."""
    async for running in start_osmo(make_settings(sqlite_url, rate_limit_per_second=0)):
        yield running


async def test_start_routes_under_load_answer_or_declare_back_pressure(
    osmo_unlimited: Osmo, crm, env: WorkflowEnvironment
) -> None:
    osmo = osmo_unlimited
    async with flow_worker(osmo, env):
        routes = await prepare(osmo, crm[1])
        for route in routes:
            result = await run_load(
                osmo.url,
                route,
                osmo.headers("acme"),
                concurrency=CONCURRENCY,
                seconds=SECONDS,
            )
            summary = result.summary()
            assert not result.errors, (summary, result.errors[:5])
            assert result.ok > 0, summary
            assert result.health_errors == 0, summary
            assert len(result.health_ms) >= 5, summary
            assert summary["health_p99_ms"] < HEALTH_P99_MS, summary
    # Everything checked out of the pool came back: no request leaked a connection.
    assert osmo.services.engine.pool.checkedout() == 0  # type: ignore[attr-defined]

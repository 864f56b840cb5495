"""Tenant isolation, generated from the OpenAPI: every route whose path names a customer's
object, called by another customer on that object, answers 404 (403 on admin routes).

The routes come from `app.openapi()` at test time, so a new route is covered without anyone
adding it here (a new path parameter name fails until `openapi_calls.fill` knows it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from temporalio.testing import WorkflowEnvironment

from core.blobs import with_converter
from tests.api.openapi_calls import OWNED, body_of, fill, operations
from tests.api.seed import Seeded, seed
from tests.conftest import Osmo, make_settings, start_osmo
from tests.fakes import FakeCRM

# Reads the owner can make on the seeded objects (proof the generated paths are real).
# Flow-run reads are left out: the seeded run has no worker to answer its state query.
OWNER_CHECKED = {"GET"}
# Some routes need a filter to do anything (deleting links); other routes ignore it.
FILTER = {"appRecordId": "a1"}


@pytest.fixture
async def osmo_sqlite(sqlite_url: str) -> AsyncIterator[Osmo]:
    """Osmo without the per-caller rate limit: the intruder calls every route back to back,
    more than the default burst of 100 (a 429 would hide what the route answers)."""
    async for running in start_osmo(make_settings(sqlite_url, rate_limit_per_second=0)):
        yield running


@pytest.fixture
async def seeded(
    osmo_sqlite: Osmo, crm: tuple[FakeCRM, str], env: WorkflowEnvironment
) -> AsyncIterator[Seeded]:
    osmo_sqlite.services.temporal_client = with_converter(env.client, osmo_sqlite.settings)
    yield await seed(osmo_sqlite, crm[1], temporal=osmo_sqlite.services.temporal_client)


async def test_another_customer_gets_404_on_every_route_with_an_owned_object(
    osmo_sqlite: Osmo, seeded: Seeded
) -> None:
    schema = (await osmo_sqlite.client.get("/openapi.json")).json()
    nobody = replace(
        seeded,
        customer_id="0" * 32,
        connection_id="0" * 32,
        log_id="0" * 32,
        run_id="flow-run-" + "0" * 32,
    )
    covered, leaks = 0, []
    for operation in operations(schema):
        owned = OWNED & set(operation.path_params)
        if not owned:
            continue
        covered += 1
        path, body = fill(operation, seeded, schema), body_of(operation, schema)
        response = await osmo_sqlite.call(
            operation.method, path, tenant="intruder", json=body, params=FILTER
        )
        expected = 403 if "customer_id" in owned else 404
        if response.status_code != expected:
            leaks.append(f"{operation}: {response.status_code} {response.text[:200]}")
            continue
        # Someone else's object must look exactly like one that does not exist.
        missing = fill(operation, nobody, schema)
        other = await osmo_sqlite.call(
            operation.method, missing, tenant="intruder", json=body, params=FILTER
        )
        if (other.status_code, other.json()["key"]) != (expected, response.json()["key"]):
            leaks.append(f"{operation}: {response.text[:200]} but {other.text[:200]} if missing")
        if operation.method in OWNER_CHECKED and "run_id" not in owned and expected == 404:
            own = await osmo_sqlite.call(operation.method, path, tenant=seeded.tenant)
            assert own.status_code == 200, f"{operation} as the owner: {own.text[:300]}"
    assert not leaks, "\n".join(leaks)
    assert covered > 40  # the element routes of every kind, connections, logs, flow runs

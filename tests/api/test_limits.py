"""Request body size limits and per-caller rate limits, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.middleware.rate_limit import TokenBuckets
from tests.conftest import Osmo, make_settings, start_osmo
from tests.fakes import FakeCRM
from tests.workflows.flow_fixtures import crm_connection

MAX_REQUEST = 4000
MAX_ELEMENT = 1000


@pytest.fixture
async def limited(sqlite_url: str) -> AsyncIterator[Osmo]:
    settings = make_settings(
        sqlite_url,
        max_request_bytes=MAX_REQUEST,
        max_element_bytes=MAX_ELEMENT,
        rate_limit_per_second=1,
        rate_limit_burst=3,
    )
    async for running in start_osmo(settings):
        yield running


def _integration(padding: int) -> dict[str, Any]:
    return {"key": "crm", "connectorKey": "fake-crm", "parameters": {"pad": "x" * padding}}


def _assert_too_large(response: Any, limit: int) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert (body["type"], body["key"]) == ("bad_request", "request_too_large")
    assert body["data"] == {"limit": limit}


async def test_a_declared_length_over_the_limit_is_413_and_writes_nothing(osmo: Osmo) -> None:
    # The default limits: 10 MB requests, 1 MB element writes.
    big = json.dumps(_integration(2 * 1024 * 1024)).encode()
    response = await osmo.call(
        "POST", "/integrations", content=big, headers={"Content-Type": "application/json"}
    )
    _assert_too_large(response, 1024 * 1024)
    assert (await osmo.call("GET", "/integrations")).json()["items"] == []


async def test_element_writes_have_the_smaller_limit(limited: Osmo) -> None:
    body = _integration(2 * MAX_ELEMENT)
    _assert_too_large(await limited.call("POST", "/integrations", json=body), MAX_ELEMENT)
    _assert_too_large(
        await limited.call("POST", "/flows", json={"key": "f", "pad": "x" * 2 * MAX_ELEMENT}),
        MAX_ELEMENT,
    )
    # The same size elsewhere is under the API limit: validated, not refused for its size.
    response = await limited.call("POST", "/customers", json={"tenantKey": "t", "pad": "x" * 2000})
    assert response.status_code == 422, response.text


async def _chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"tenantKey": "t", "name": "'
    for _ in range(total // 100):
        yield b"x" * 100
    yield b'"}'


async def test_a_streamed_body_is_cut_off_at_the_limit(limited: Osmo) -> None:
    headers = {"Content-Type": "application/json"}
    # A generator body goes out chunked, with no Content-Length to check up front.
    response = await limited.call(
        "POST", "/customers", content=_chunks(3 * MAX_REQUEST), headers=headers
    )
    _assert_too_large(response, MAX_REQUEST)
    response = await limited.call("POST", "/customers", content=_chunks(200), headers=headers)
    assert response.status_code == 201, response.text


async def test_a_streamed_proxy_body_is_cut_off_at_the_limit(
    limited: Osmo, crm: tuple[FakeCRM, str]
) -> None:
    connection_id = await crm_connection(limited, crm[1])
    path = f"/connections/{connection_id}/proxy/api/v1/contacts"
    response = await limited.call("POST", path, tenant="acme", content=_chunks(3 * MAX_REQUEST))
    _assert_too_large(response, MAX_REQUEST)
    assert all(entry["method"] != "POST" for entry in crm[0].api_requests)


async def test_a_caller_over_its_rate_gets_429_with_retry_after(limited: Osmo) -> None:
    statuses = [(await limited.call("GET", "/connections", tenant="a")).status_code]
    statuses += [(await limited.call("GET", "/connections", tenant="a")).status_code]
    statuses += [(await limited.call("GET", "/connections", tenant="a")).status_code]
    assert statuses == [200, 200, 200]
    response = await limited.call("GET", "/connections", tenant="a")
    assert response.status_code == 429, response.text
    assert (response.json()["type"], response.json()["key"]) == (
        "rate_limit",
        "rate_limit_exceeded",
    )
    assert response.headers["Retry-After"] == "1"
    # Buckets are per customer: another customer and the admin are not slowed down.
    assert (await limited.call("GET", "/connections", tenant="b")).status_code == 200
    assert (await limited.call("GET", "/connections")).status_code == 200


async def test_rate_zero_disables_the_limit(sqlite_url: str) -> None:
    async for running in start_osmo(
        make_settings(sqlite_url, rate_limit_per_second=0, rate_limit_burst=1)
    ):
        for _ in range(5):
            assert (await running.call("GET", "/connections", tenant="a")).status_code == 200


def test_buckets_refill_at_the_rate_up_to_the_burst() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2, burst=2, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("k") == pytest.approx(0.5)
    now[0] = 0.5
    assert buckets.take("k") == 0.0
    now[0] = 100.0  # long idle: back to the burst, not more
    assert [buckets.take("k") for _ in range(3)][2] > 0

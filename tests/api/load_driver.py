"""A load generator for Osmo's start routes, shared by tests/api/test_load.py and
bench/api_load.py.

`C` callers each send requests back to back (keep-alive) for a few seconds while a prober
asks `/health` every few milliseconds on its own connection. Every answer is classified:
success, declared back-pressure (429 or 503 with `Retry-After` and an error body), or an error.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Osmo
from tests.workflows.flow_fixtures import (
    CONTACTS_SOURCE,
    CREATE_CONTACT,
    GET_CONTACT,
    crm_connection,
    define,
)

LOAD_FLOW: dict[str, Any] = {
    "key": "load-flow",
    "name": "Load flow",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "map"}]},
        "map": {
            "type": "transform-data",
            "config": {"value": {"email": {"$var": "input.trigger.email"}}},
        },
    },
}
"""A flow whose runs need only the worker (no external app), so the start route is measured."""


ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StartRoute:
    name: str
    method: str
    path: str
    body: Any = None
    ok: int = 200


async def prepare(osmo: Osmo, crm_url: str) -> list[StartRoute]:
    """A connection to the fake CRM, a contact in it, actions and a flow; the start routes to
    load. Needs the worker running (the contact is made by an action run)."""
    connection_id = await crm_connection(osmo, crm_url)
    for path, body in (CONTACTS_SOURCE, ("/actions", CREATE_CONTACT), ("/actions", GET_CONTACT)):
        created = await osmo.call("POST", path, json=body)
        assert created.status_code == 201, created.text
    await define(osmo, LOAD_FLOW)
    base = f"/connections/{connection_id}"
    contact = await osmo.call(
        "POST",
        f"{base}/actions/create-contact/run",
        tenant="acme",
        json={"input": {"email": "load@example.com"}},
    )
    assert contact.status_code == 200, contact.text
    return [
        StartRoute(
            "flow_run",
            "POST",
            f"{base}/flows/load-flow/run",
            {"input": {"email": "load@example.com"}},
            201,
        ),
        StartRoute(
            "action_run",
            "POST",
            f"{base}/actions/get-contact/run",
            {"input": {"id": contact.json()["output"]["id"]}},
        ),
        StartRoute("proxy", "GET", f"{base}/proxy/api/v1/me"),
    ]


@dataclass
class LoadResult:
    route: str
    concurrency: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    declared_busy: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    health_errors: int = 0

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    def summary(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "concurrency": self.concurrency,
            "ok": self.ok,
            "rps": round(self.ok / self.seconds, 1),
            "p50_ms": round(_percentile(self.latencies_ms, 50), 1),
            "p99_ms": round(_percentile(self.latencies_ms, 99), 1),
            "busy": self.declared_busy,
            "errors": len(self.errors),
            "error_samples": self.errors[:3],
            "statuses": dict(self.statuses),
            "health_probes": len(self.health_ms),
            "health_p50_ms": round(_percentile(self.health_ms, 50), 1),
            "health_p99_ms": round(_percentile(self.health_ms, 99), 1),
            "health_max_ms": round(max(self.health_ms, default=0.0), 1),
            "health_errors": self.health_errors,
        }


def _percentile(values: list[float], pct: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def is_declared_busy(response: httpx.Response) -> bool:
    """429/503 with `Retry-After` and an error body: back-pressure the API declares."""
    if response.status_code not in (429, 503) or not response.headers.get("retry-after"):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and {"type", "key", "message", "data"} <= body.keys()


async def run_load(
    url: str,
    route: StartRoute,
    headers: dict[str, str],
    *,
    concurrency: int,
    seconds: float,
    timeout: float = 60.0,
) -> LoadResult:
    """`concurrency` callers hit `route` for `seconds` while `/health` is probed."""
    result = LoadResult(route.name, concurrency, seconds)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def caller(client: httpx.AsyncClient) -> None:
        # Each caller sends at least once, so all C requests reach the API even when a busy
        # machine takes longer than `seconds` to open the connections.
        first = True
        while first or time.monotonic() < deadline:
            first = False
            started = time.perf_counter()
            try:
                response = await client.request(
                    route.method, route.path, json=route.body, headers=headers
                )
            except httpx.HTTPError as exc:
                result.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            result.statuses[response.status_code] += 1
            if response.status_code == route.ok:
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
            elif is_declared_busy(response):
                result.declared_busy += 1
                await asyncio.sleep(float(response.headers["retry-after"]) / 10)
            else:
                result.errors.append(f"{response.status_code}: {response.text[:300]}")

    # /health is probed from a process of its own (see tests/api/health_probe.py), from the
    # first request until the last answer.
    probe = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.api.health_probe",
        url,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert probe.stdout is not None
    assert (await probe.stdout.readline()).strip() == b"ready"
    started_at = time.monotonic()
    deadline = started_at + seconds
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        await asyncio.gather(*(caller(client) for _ in range(concurrency)))
    result.seconds = time.monotonic() - started_at  # the last answers come after the deadline
    out, _ = await probe.communicate(b"")  # closes its stdin: it stops and reports
    probed = json.loads(out)
    result.health_ms, result.health_errors = probed["ms"], probed["errors"]
    return result

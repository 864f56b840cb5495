"""Connector runtime overhead on paginated GETs: `python bench/connector_overhead.py`.

Serves a cursor-paginated list on a loopback port, then fetches the same 2,000 pages twice in
one run: through the connector runtime (`run_method(..., "list")`: request rendering, auth,
pagination, record parsing, classification, logging to memory) and with raw httpx following the
same cursors. Prints both and the ratio (target: runtime <= 1.2x raw); the last line is JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

import httpx  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from connectors.registry import ConnectorRegistry  # noqa: E402
from connectors.runtime import ConnectionContext, ConnectorRuntime, MemoryApiLogSink  # noqa: E402
from connectors.runtime.collections import run_method  # noqa: E402
from tests.fakes import serve  # noqa: E402

PAGES = 2000
PAGE_SIZE = 10
ROUNDS = 3
RECORDS = [
    {
        "id": str(1000 + i),
        "properties": {"email": f"user{i}@example.com", "firstname": "Ada", "lastname": f"L{i}"},
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-02T00:00:00Z",
    }
    for i in range(PAGE_SIZE)
]


async def contacts(request: Request) -> JSONResponse:
    after = int(request.query_params.get("after", "0"))
    body: dict[str, Any] = {"results": RECORDS}
    if after + 1 < PAGES:
        body["paging"] = {"next": {"after": str(after + 1)}}
    return JSONResponse(body)


APP = Starlette(routes=[Route("/api/v1/contacts", contacts)])
ROOT = Path(__file__).resolve().parent.parent


async def raw(client: httpx.AsyncClient, base: str) -> int:
    pages, after = 0, None
    while True:
        params = {"limit": str(PAGE_SIZE), **({"after": after} if after else {})}
        response = await client.get(
            f"{base}/api/v1/contacts", params=params, headers={"Authorization": "Bearer t"}
        )
        response.raise_for_status()
        body = response.json()
        pages += 1
        after = (body.get("paging") or {}).get("next", {}).get("after")
        if not after:
            return pages


async def through_runtime(runtime: ConnectorRuntime, ctx: ConnectionContext) -> int:
    pages, cursor = 0, None
    while True:
        result = await run_method(runtime, ctx, "contacts", "list", cursor=cursor)
        assert len(result["records"]) == PAGE_SIZE
        pages += 1
        cursor = result["cursor"]
        if cursor is None:
            return pages


async def main() -> None:
    registry = ConnectorRegistry([ROOT / "demo"])
    connector = registry.get("fake-crm")
    assert connector is not None
    with serve(APP) as base:
        runtime = ConnectorRuntime(registry, None, MemoryApiLogSink())
        ctx = ConnectionContext(
            connector=connector,
            auth=connector.auth[0],
            customer_id="bench",
            integration_key="crm",
            client_id="c",
            client_secret="s",
            integration_parameters={"baseUrl": base},
            scopes=[],
            credentials={"access_token": "t"},
        )
        async with httpx.AsyncClient() as client:
            await raw(client, base)  # warm up both paths
            await through_runtime(runtime, ctx)
            raw_times, runtime_times = [], []
            for _ in range(ROUNDS):  # interleave to share the machine's noise fairly
                started = time.perf_counter()
                assert await raw(client, base) == PAGES
                raw_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                assert await through_runtime(runtime, ctx) == PAGES
                runtime_times.append(time.perf_counter() - started)
        await runtime.aclose()
    raw_best, runtime_best = min(raw_times), min(runtime_times)
    print(f"raw httpx : {PAGES} pages in {raw_best:.2f} s ({PAGES / raw_best:.0f} pages/s)")
    print(f"runtime   : {PAGES} pages in {runtime_best:.2f} s ({PAGES / runtime_best:.0f} pages/s)")
    figures = {
        "bench": "connector_overhead",
        "pages": PAGES,
        "rounds": ROUNDS,
        "raw_s": round(raw_best, 3),
        "runtime_s": round(runtime_best, 3),
        "ratio": round(runtime_best / raw_best, 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())

"""What Osmo's proxy adds to one API call: `python bench/proxy_overhead.py`.

Starts the fake CRM and Osmo (SQLite, temp dir) on loopback, connects with client credentials,
then times the same GET through Osmo's proxy and directly with httpx (the baseline), sequentially
and with 20 concurrent callers. Ends with one JSON line of figures.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

import httpx  # noqa: E402

from api.main import create_app  # noqa: E402
from api.services import Services  # noqa: E402
from core.crypto import generate_key  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.tokens import mint_token  # noqa: E402
from tests.fakes import FakeCRM, serve  # noqa: E402

RUNS = 300
CONCURRENT = 20
SECRET = "bench-secret-" + "x" * 64


async def timed(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return (time.perf_counter() - started) * 1000


async def measure(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, float]:
    for _ in range(20):  # warm up pools
        await timed(client, url, headers)
    latencies = [await timed(client, url, headers) for _ in range(RUNS)]
    started = time.perf_counter()
    for _ in range(RUNS // CONCURRENT):
        await asyncio.gather(*(timed(client, url, headers) for _ in range(CONCURRENT)))
    elapsed = time.perf_counter() - started
    return {
        "p50_ms": statistics.median(latencies),
        "p95_ms": statistics.quantiles(latencies, n=20)[18],
        "rps": (RUNS // CONCURRENT) * CONCURRENT / elapsed,
    }


async def main() -> None:
    crm = FakeCRM()
    crm.register_client("bench", "bench-secret-value")
    with tempfile.TemporaryDirectory() as tmp, serve(crm.app) as crm_url:
        settings = Settings(
            env="test",
            workspace_key="bench",
            workspace_secret=SECRET,
            encryption_keys=f"k:{generate_key()}",
            database_url=f"sqlite:///{tmp}/osmo.db",
            connector_paths=str(Path(__file__).resolve().parent.parent / "demo"),
            # Measures the proxy's own cost: the per-caller rate limit would only add 429s.
            rate_limit_per_second=0,
        )
        services = Services.build(settings)
        with serve(create_app(settings, services=services)) as osmo_url:
            admin = {"Authorization": f"Bearer {mint_token(SECRET, 'bench', is_admin=True)}"}
            customer = {"Authorization": f"Bearer {mint_token(SECRET, 'bench', tenant_key='b')}"}
            async with httpx.AsyncClient(timeout=30) as client:
                await client.post(
                    f"{osmo_url}/integrations",
                    headers=admin,
                    json={
                        "key": "crm",
                        "connectorKey": "fake-crm",
                        "clientId": "bench",
                        "clientSecret": "bench-secret-value",
                        "parameters": {"baseUrl": crm_url},
                        "authOptions": ["client-credentials"],
                    },
                )
                created = await client.post(
                    f"{osmo_url}/connections", headers=customer, json={"integrationKey": "crm"}
                )
                connection_id = created.json()["id"]
                token = services.connections.load(connection_id).credentials["access_token"]
                path = "api/v1/contacts/1001"
                raw = await measure(
                    client, f"{crm_url}/{path}", {"Authorization": f"Bearer {token}"}
                )
                proxied = await measure(
                    client, f"{osmo_url}/connections/{connection_id}/proxy/{path}", customer
                )
    for label, figures_of in (("raw httpx ", raw), ("osmo proxy", proxied)):
        print(
            f"{label}  p50 {figures_of['p50_ms']:.2f} ms  p95 {figures_of['p95_ms']:.2f} ms"
            f"  {figures_of['rps']:.0f} req/s"
        )
    figures = {
        "bench": "proxy_overhead",
        "runs": RUNS,
        "concurrency": CONCURRENT,
        "raw_p50_ms": round(raw["p50_ms"], 2),
        "proxy_p50_ms": round(proxied["p50_ms"], 2),
        "added_p50_ms": round(proxied["p50_ms"] - raw["p50_ms"], 2),
        "latency_ratio": round(proxied["p50_ms"] / raw["p50_ms"], 2),
        "raw_rps": round(raw["rps"]),
        "proxy_rps": round(proxied["rps"]),
        "throughput_ratio": round(proxied["rps"] / raw["rps"], 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())

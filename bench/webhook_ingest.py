"""Webhook ingestion (issue 13): `python bench/webhook_ingest.py [--quick]`.

How many signed webhooks per second Osmo accepts durably, and how fast it answers: each
delivery is answered 2xx only once Temporal has accepted it (signal-with-start into the
subscription's `EventInbox`). A local load generator sends a bounded count of distinct deliveries
(3,000 at concurrency 50; 300 with `--quick`) to the subscription's webhook URL, then waits until
the inbox has recorded each as an event (`GET /external-event-log-records`) and counts received
against sent (must be equal).

The flow behind the subscription filters every event out, so no run starts: this measures the
ingress and the inbox, not flows (bench/webhook_flow.py measures those).

Baseline in the same run: bare Temporal signal-with-start from this process into one inbox-shaped
workflow (no Osmo code, the same dev server), at the same concurrency and count; the ratio is
Osmo's accepted/s over it. The last line is one JSON object (`sent`, `received`,
`accepted_per_s`, `p50_ms`, `p99_ms`, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from temporalio import workflow  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.common import WorkflowIDConflictPolicy  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench.peer_flow import ADMIN, cpu_seconds, load_average, peak_rss_mb, stack  # noqa: E402
from bench.webhooks import WebhookStub, flow, percentile, seed, signed, ticket_event  # noqa: E402

NEVER = {"field": "event.type", "operator": "is", "value": "never-matches"}


@workflow.defn(sandboxed=False)
class BaselineInbox:
    """The bare shape of an inbox: takes signals, counts them."""

    def __init__(self) -> None:
        self.count = 0

    @workflow.signal
    def delivery(self, body: bytes) -> None:
        self.count += 1

    @workflow.query
    def received(self) -> int:
        return self.count

    @workflow.run
    async def run(self, expected: int) -> int:
        await workflow.wait_condition(lambda: self.count >= expected)
        return self.count


async def send_all(
    concurrency: int, total: int, send: Any
) -> tuple[float, list[float], int, str | None]:
    seqs = iter(range(total))
    latencies: list[float] = []
    errors, first_error = 0, None

    async def worker() -> None:
        nonlocal errors, first_error
        for seq in seqs:
            started = time.perf_counter()
            try:
                await send(seq)
            except Exception as exc:
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, errors, first_error


async def recorded(client: httpx.AsyncClient, api: str, subscription_id: str) -> int:
    """Events the inbox has recorded for the subscription (every page of the log)."""
    count, cursor = 0, None
    while True:
        params: dict[str, Any] = {"subscriptionId": subscription_id, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(
            f"{api}/external-event-log-records", params=params, headers=ADMIN
        )
        response.raise_for_status()
        page = response.json()
        count += len(page["items"])
        cursor = page.get("cursor")
        if not cursor or not page["items"]:
            return count


async def run(args: argparse.Namespace) -> dict[str, Any]:
    total, concurrency = (300, 50) if args.quick else (3000, 50)
    stub = WebhookStub()
    server = await asyncio.start_server(stub.handle, "127.0.0.1", 0, backlog=512)
    stub_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    queue = f"webhook-ingest-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp, stack(Path(tmp), args, stub_url, queue) as s:
        # Idle connections are dropped after 4 s, before uvicorn closes them (5 s): reusing one
        # the server is closing at that moment fails with ReadError, a client artifact.
        limits = httpx.Limits(
            max_connections=200, max_keepalive_connections=200, keepalive_expiry=4
        )
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            _, subscription_id, _ = await seed(client, s.api_url, stub_url, stub, flow(NEVER))
            url = f"{s.api_url}/webhooks/subscriptions/{subscription_id}"
            secret = str(stub.registrations[-1]["signing_secret"])
            run_id = uuid.uuid4().hex[:6]

            async def deliver(seq: int, prefix: str) -> None:
                body = ticket_event(seq).replace(b'"evt-', f'"evt-{prefix}-'.encode(), 1)
                response = await client.post(url, content=body, headers=signed(secret, body))
                if response.status_code >= 300:
                    raise RuntimeError(f"{response.status_code} {response.text[:200]}")

            # warm-up, recorded in full before the measured phase (so the count after it is the
            # measured deliveries' alone)
            warm_total = max(20, total // 10)
            _, _, warm_errors, _ = await send_all(
                10, warm_total, lambda n: deliver(n, f"warm{run_id}")
            )
            warm = 0
            for _ in range(240):
                warm = await recorded(client, s.api_url, subscription_id)
                if warm >= warm_total - warm_errors:
                    break
                await asyncio.sleep(0.5)
            pids = {**s.pids, "bench": os.getpid()}
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            seconds, latencies, errors, first_error = await send_all(
                concurrency, total, lambda n: deliver(n, run_id)
            )
            cpu = {n: (cpu_seconds(p) - cpu_before[n]) * 1000 / total for n, p in pids.items()}
            deadline = time.monotonic() + 60 + total / 20
            received = 0
            while time.monotonic() < deadline:
                received = await recorded(client, s.api_url, subscription_id) - warm
                if received >= total - errors:
                    break
                await asyncio.sleep(0.5)

            # Baseline: bare signal-with-start into one workflow on the same server.
            temporal = await Client.connect(s.temporal_address)
            base_queue, base_id = f"{queue}-baseline", f"baseline-inbox-{run_id}"
            async with Worker(temporal, task_queue=base_queue, workflows=[BaselineInbox]):

                async def signal(seq: int) -> None:
                    await temporal.start_workflow(
                        BaselineInbox.run,
                        total,
                        id=base_id,
                        task_queue=base_queue,
                        start_signal="delivery",
                        start_signal_args=[ticket_event(seq)],
                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                        execution_timeout=timedelta(minutes=10),
                    )

                base_seconds, base_latencies, base_errors, _ = await send_all(
                    concurrency, total, signal
                )
        rss = {name: peak_rss_mb(pid) for name, pid in s.pids.items()}
    server.close()
    accepted = (total - errors) / seconds
    baseline = (total - base_errors) / base_seconds
    print(
        f"Osmo: {accepted:.1f} webhooks/s accepted, p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {percentile(latencies, 0.99):.1f} ms, errors {errors}, received {received}/{total}"
        f"  CPU ms/webhook: " + "  ".join(f"{k} {v:.1f}" for k, v in cpu.items())
    )
    print(
        f"bare signal-with-start: {baseline:.1f}/s, p50 {statistics.median(base_latencies):.1f} ms"
        f"  → Osmo / bare = {accepted / baseline:.2f}"
    )
    if first_error:
        print(f"first error: {first_error}")
    return {
        "bench": "webhook_ingest",
        "quick": bool(args.quick),
        "concurrency": concurrency,
        "sent": total,
        "received": received,
        "errors": errors,
        "lost": total - errors - received,
        "accepted_per_s": round(accepted, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "baseline_per_s": round(baseline, 1),
        "to_baseline": round(accepted / baseline, 3),
        "cpu_ms": {k: round(v, 1) for k, v in cpu.items()},
        "rss_by_process_mb": {k: round(v, 1) for k, v in rss.items()},
        "loadavg": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 webhooks")
    parser.add_argument("--temporal-address", help="use this Temporal instead of a dev server")
    parser.add_argument("--no-pragmas", action="store_true", help="dev server without WAL pragmas")
    args = parser.parse_args()
    print(f"load average at start: {load_average()}", flush=True)
    print(json.dumps(asyncio.run(run(args))), flush=True)
    os._exit(0)  # as bench/api_load.py: skip the interpreter teardown of native threads


if __name__ == "__main__":
    main()

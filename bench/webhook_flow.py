"""Webhook → flow, against n8n's figure (issue 13): `python bench/webhook_flow.py [--quick]`.

The peer comparison flow: a signed webhook with a 5-field JSON body → `transform-data` mapping the
5 fields → `api-request-to-external-app` POSTing them to a stub API → run completed. Every step is
durable: the delivery is accepted only once Temporal holds it, the inbox records the event and
starts the run, each node's work is in the run's history.

The stack and the stub are bench/webhooks.py's (dev server with a database file, API and worker
as subprocesses, real HTTP on loopback, Osmo registering its webhook with the stub app). Sends
2,000 webhooks (200 with `--quick`) at concurrency 10 and then 50 from keep-alive clients,
after a warm-up, and reports for each: completed runs per second (first send to last POST at the
stub), p50/p99 of the accept latency (the webhook's answer) and of webhook-to-run-completed (the
POST's arrival at the stub), errors, the stub's count against the sent count (must be equal:
each run POSTs once), CPU per webhook of each process, and the peak RSS of the API and the
worker (the Temporal server separately).

Baseline in the same run: n8n 2.8.4's figure on this machine kind for the same flow (66 runs/s,
p50 147 ms at concurrency 10, ~855 MB RSS; issue 13), which is not durable per step. The ratio
printed is Osmo's best runs/s over it. The last line is one JSON object (`runs_per_s`, `p50_ms`,
`p99_ms`, `rss_mb`, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.peer_flow import cpu_seconds, load_average, peak_rss_mb, stack  # noqa: E402
from bench.webhooks import (  # noqa: E402
    WebhookStub,
    flow,
    percentile,
    seed,
    signed,
    ticket_event,
)

N8N_RUNS_PER_S = 66.0
N8N_RSS_MB = 855.0


@dataclass
class Phase:
    concurrency: int
    sent: int
    seconds: float
    accept_ms: list[float]
    completed_ms: list[float]
    errors: int
    stub_count: int
    cpu_ms: dict[str, float]
    load: str
    first_error: str | None

    @property
    def rate(self) -> float:
        return self.stub_count / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        cpu = "  ".join(f"{k} {v:.1f}" for k, v in self.cpu_ms.items())
        return (
            f"C={self.concurrency:<3} N={self.sent:<5} {self.rate:6.1f} runs/s  accept p50 "
            f"{statistics.median(self.accept_ms):6.1f} p99 {percentile(self.accept_ms, 0.99):6.1f}"
            f" ms  completed p50 {percentile(self.completed_ms, 0.5):7.1f} p99 "
            f"{percentile(self.completed_ms, 0.99):7.1f} ms  errors {self.errors}  stub "
            f"{self.stub_count}/{self.sent}  CPU ms/webhook: {cpu}  load {self.load}"
        )


async def drive(
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    stub: WebhookStub,
    concurrency: int,
    first: int,
    total: int,
    pids: dict[str, int],
) -> Phase:
    seqs = iter(range(first, first + total))
    sent_at: dict[int, float] = {}
    accept_ms: list[float] = []
    errors, first_error = 0, None
    stub.expect = set(range(first, first + total))
    stub.arrived = asyncio.Event()
    before = len(stub.seen)
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}

    async def worker() -> None:
        nonlocal errors, first_error
        for seq in seqs:
            body = ticket_event(seq)
            started = time.perf_counter()
            sent_at[seq] = started
            try:
                response = await client.post(url, content=body, headers=signed(secret, body))
                if response.status_code >= 300:
                    raise RuntimeError(f"{response.status_code} {response.text[:200]}")
            except Exception as exc:
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
                stub.expect.discard(seq)
            accept_ms.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if stub.expect:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stub.arrived.wait(), timeout=60 + total / 5)
    count = len(stub.seen) - before
    last = max((stub.arrivals[s] for s in sent_at if s in stub.arrivals), default=started)
    cpu = {n: (cpu_seconds(p) - cpu_before[n]) * 1000 / total for n, p in pids.items()}
    completed = [(stub.arrivals[s] - t) * 1000 for s, t in sent_at.items() if s in stub.arrivals]
    phase = Phase(
        concurrency, total, last - started, accept_ms, completed, errors, count, cpu,
        load_average(), first_error,
    )  # fmt: skip
    print(phase.line(), flush=True)
    if first_error:
        print(f"    first error: {first_error}", flush=True)
    return phase


async def run(args: argparse.Namespace) -> dict[str, Any]:
    total = 200 if args.quick else 2000
    stub = WebhookStub()
    server = await asyncio.start_server(stub.handle, "127.0.0.1", 0, backlog=512)
    stub_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    phases: dict[int, Phase] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        stack(Path(tmp), args, stub_url, f"webhook-flow-{uuid.uuid4().hex[:8]}") as s,
    ):
        # Idle connections are dropped after 4 s, before uvicorn closes them (5 s): reusing one
        # the server is closing at that moment fails with ReadError, a client artifact.
        limits = httpx.Limits(
            max_connections=100, max_keepalive_connections=100, keepalive_expiry=4
        )
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            _, subscription_id, url = await seed(client, s.api_url, stub_url, stub, flow())
            # The stub app posts to the URL Osmo registered; the bench reaches it on loopback.
            url = f"{s.api_url}/webhooks/subscriptions/{subscription_id}"
            secret = str(stub.registrations[-1]["signing_secret"])
            pids = {**s.pids, "bench": os.getpid()}
            await drive(client, url, secret, stub, 10, 1_000_000, max(20, total // 10), pids)
            for index, concurrency in enumerate((10, 50)):
                phases[concurrency] = await drive(
                    client, url, secret, stub, concurrency, (index + 2) * 1_000_000, total, pids
                )
        rss = {name: peak_rss_mb(pid) for name, pid in s.pids.items()}
    server.close()
    best = max(phases.values(), key=lambda p: p.rate)
    errors = sum(p.errors for p in phases.values()) + stub.bad
    lost = sum(p.sent - p.errors - p.stub_count for p in phases.values())
    repeated = sum(1 for count in stub.seen.values() if count > 1)
    rss_mb = rss.get("api", 0) + rss.get("worker", 0)
    print(
        "peak RSS MB: " + "  ".join(f"{k} {v:.0f}" for k, v in rss.items())
        + f"   stub: bad {stub.bad}, repeated {repeated}"
    )  # fmt: skip
    print(
        f"best {best.rate:.1f} runs/s at C={best.concurrency}: "
        f"{best.rate / N8N_RUNS_PER_S:.2f}x n8n's {N8N_RUNS_PER_S:.0f} runs/s (not durable per "
        f"step); RSS API + worker {rss_mb:.0f} MB vs n8n's ~{N8N_RSS_MB:.0f} MB"
    )
    figures: dict[str, Any] = {"bench": "webhook_flow", "quick": bool(args.quick)}
    for concurrency, phase in phases.items():
        figures[f"c{concurrency}"] = {
            "runs_per_s": round(phase.rate, 1),
            "accept_p50_ms": round(statistics.median(phase.accept_ms), 1),
            "accept_p99_ms": round(percentile(phase.accept_ms, 0.99), 1),
            "completed_p50_ms": round(percentile(phase.completed_ms, 0.5), 1),
            "completed_p99_ms": round(percentile(phase.completed_ms, 0.99), 1),
            "cpu_ms": {k: round(v, 1) for k, v in phase.cpu_ms.items()},
            "errors": phase.errors,
            "stub_count": phase.stub_count,
            "sent": phase.sent,
        }
    figures.update(
        runs_per_s=round(best.rate, 1),
        best_concurrency=best.concurrency,
        p50_ms=round(statistics.median(best.accept_ms), 1),
        p99_ms=round(percentile(best.accept_ms, 0.99), 1),
        completed_p50_ms=round(percentile(best.completed_ms, 0.5), 1),
        completed_p99_ms=round(percentile(best.completed_ms, 0.99), 1),
        to_n8n=round(best.rate / N8N_RUNS_PER_S, 3),
        errors=errors,
        lost=lost,
        repeated=repeated,
        rss_mb=round(rss_mb, 1),
        rss_by_process_mb={k: round(v, 1) for k, v in rss.items()},
        loadavg=load_average(),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 webhooks per phase")
    parser.add_argument("--temporal-address", help="use this Temporal instead of a dev server")
    parser.add_argument("--no-pragmas", action="store_true", help="dev server without WAL pragmas")
    args = parser.parse_args()
    print(f"load average at start: {load_average()}", flush=True)
    print(json.dumps(asyncio.run(run(args))), flush=True)
    os._exit(0)  # as bench/api_load.py: skip the interpreter teardown of native threads


if __name__ == "__main__":
    main()

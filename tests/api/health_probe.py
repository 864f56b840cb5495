"""Probes `/health` from its own process: `python -m tests.api.health_probe URL`, until its
standard input closes.

A probe in the load generator's process would measure that process's own event loop as much
as the API; in a process of its own it measures what a load balancer's health check sees.
Prints `ready` once connected, then at the end one JSON line:
`{"ms": [latencies of answered probes], "errors": n}`.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import httpx

INTERVAL = 0.02


def probe(url: str, done: threading.Event) -> dict[str, object]:
    latencies: list[float] = []
    errors = 0
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/health")  # connected: the load may start
        print("ready", flush=True)
        while not done.is_set():
            started = time.perf_counter()
            try:
                ok = client.get("/health").status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(round((time.perf_counter() - started) * 1000, 2))
            else:
                errors += 1
            done.wait(INTERVAL)
    return {"ms": latencies, "errors": errors}


def _until_stdin_closes(done: threading.Event) -> None:
    sys.stdin.read()
    done.set()


if __name__ == "__main__":
    stop = threading.Event()
    threading.Thread(target=_until_stdin_closes, args=(stop,), daemon=True).start()
    print(json.dumps(probe(sys.argv[1], stop)))

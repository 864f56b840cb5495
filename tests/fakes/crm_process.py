"""The fake CRM in a process of its own, for tests that freeze it (SIGSTOP) mid-request.

`python -m tests.fakes.crm_process CLIENT_ID CLIENT_SECRET` serves `FakeCRM` (with that OAuth
client and the user alice / wonderland) on a free loopback port and prints its URL. Its state
lives in that process, so it answers `GET /_test/state` with what the tests assert on: the
contacts and the API requests it received.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.responses import JSONResponse

from demo.fake_crm import FakeCRM

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CrmProcess:
    """A running fake CRM process: its URL, and ways to freeze it and read its state."""

    process: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        """Freezes the app: requests reach its socket and wait there, unanswered."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def state(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/_test/state", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def contacts_with(self, email: str) -> list[dict[str, Any]]:
        return [c for c in self.state()["contacts"] if c["properties"].get("email") == email]


@contextlib.contextmanager
def crm_process(client: tuple[str, str]) -> Iterator[CrmProcess]:
    """Starts the fake CRM process; stops it (resumed first, if frozen) at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.crm_process", *client],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://"), f"the fake CRM did not start: {url!r}"
        yield CrmProcess(process, url)
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait(timeout=10)


def main(client_id: str, client_secret: str) -> None:
    fake = FakeCRM()
    fake.register_client(client_id, client_secret)
    fake.add_user("alice", "wonderland", "alice@example.com")

    @fake.app.get("/_test/state")
    def state() -> JSONResponse:
        with fake.lock:
            requests = [
                {k: r[k] for k in ("method", "path", "json", "status")} for r in fake.api_requests
            ]
            return JSONResponse({"contacts": list(fake.contacts.values()), "apiRequests": requests})

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections queue here even while the process is frozen
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(fake.app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(*sys.argv[1:3])

"""Osmo's own processes for the tests that kill them: the worker and the API, each started as
`python worker.py` and `uvicorn api.main:app` are in production, on a test's settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.settings import Settings
from tests.conftest import CONNECTOR_PATHS, WORKSPACE_SECRET

ROOT = Path(__file__).resolve().parents[1]


def osmo_env(settings: Settings, address: str, task_queue: str) -> dict[str, str]:
    """The environment a process reads `settings` from."""
    return {
        **os.environ,
        "OSMO_ENV": "test",
        "OSMO_WORKSPACE_KEY": settings.workspace_key,
        "OSMO_WORKSPACE_SECRET": WORKSPACE_SECRET,
        "OSMO_ENCRYPTION_KEYS": settings.encryption_keys,
        "OSMO_DATABASE_URL": settings.database_url,
        "OSMO_TEMPORAL_ADDRESS": address,
        "OSMO_TASK_QUEUE": task_queue,
        "OSMO_CONNECTOR_PATHS": CONNECTOR_PATHS,
        "OSMO_BLOB_STORE": settings.blob_store,
    }


def start_worker(
    settings: Settings, address: str, task_queue: str, **extra_env: str
) -> subprocess.Popen[bytes]:
    """`python worker.py` on the test's settings (`extra_env`: more `OSMO_*` variables)."""
    return subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env={**osmo_env(settings, address, task_queue), **extra_env},
    )


def start_api(
    settings: Settings, address: str, task_queue: str
) -> tuple[subprocess.Popen[bytes], str]:
    """The API in a process of its own; returns it with its URL once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {**osmo_env(settings, address, task_queue), "OSMO_PUBLIC_URL": url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the API process exited"
        try:
            httpx.get(f"{url}/health", timeout=2)
            return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    stop(process)
    raise AssertionError("the API process did not start in 60 s")


def stop(*processes: subprocess.Popen[bytes] | None) -> None:
    """Ends what is still running: SIGTERM, then SIGKILL after 30 s."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

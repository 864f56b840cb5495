"""A `make run` stack for tests: `cli.py dev` in a subprocess, on free ports, with its own data.

The launcher reads its ports and data folder from the environment (dev.py `DevConfig`), so the
stack started here runs beside the session's Temporal servers and any `make run` of the
developer, and is the real thing: the Temporal dev server, the worker, the API and the demo CRM
as `make run` starts and supervises them.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import ROOT

START_TIMEOUT = 120.0
"""Seconds until the welcome text: Temporal's first start migrates its database (slow on a
loaded machine)."""


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on (held open together so they differ, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class DevStack:
    """A running `osmo dev` and everything it printed so far."""

    proc: subprocess.Popen[str]
    env: dict[str, str]
    api_port: int
    crm_port: int
    data_dir: Path
    lines: list[str] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def crm_url(self) -> str:
        return f"http://127.0.0.1:{self.crm_port}"

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> re.Match[str]:
        """The first line (from line `after` on) matching `pattern`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if found := regex.search(line):
                    return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r}; osmo dev printed:\n{self.output()}")

    def pid(self, name: str, after: int = 0) -> int:
        """The pid the launcher last reported for a child (started or restarted)."""
        self.wait_for(rf"osmo dev: {name} (started|restarted) \(pid \d+\)", 30, after)
        pids = [
            int(m.group(1))
            for line in self.lines[after:]
            if (m := re.search(rf"osmo dev: {name} (?:started|restarted) \(pid (\d+)\)", line))
        ]
        return pids[-1]

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C, as a terminal sends it; the launcher's exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def stack_environment(data_dir: Path) -> tuple[dict[str, str], dict[str, int]]:
    """The environment of a stack on free ports with its data in `data_dir`."""
    temporal, ui, api, crm = free_ports(4)
    env = {
        **os.environ,
        "OSMO_DEV_DATA_DIR": str(data_dir),
        "OSMO_DEV_API_PORT": str(api),
        "OSMO_DEV_CRM_PORT": str(crm),
        "OSMO_DEV_UI_PORT": str(ui),
        "OSMO_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}",
        # Named explicitly, so a developer's .env cannot point the stack at their own data.
        "OSMO_DATABASE_URL": f"sqlite:///{data_dir / 'osmo.db'}",
        "OSMO_BLOB_STORE": str(data_dir / "blobs"),
        "OSMO_PUBLIC_URL": f"http://127.0.0.1:{api}",
        "OSMO_ENV": "dev",
    }
    env.pop("OSMO_CONNECTOR_PATHS", None)  # the launcher's default: the demo connectors
    return env, {"api": api, "crm": crm}


@contextlib.contextmanager
def dev_stack(data_dir: Path) -> Iterator[DevStack]:
    """Starts `python cli.py dev` (what `make run` runs) and stops it with Ctrl-C after."""
    env, ports = stack_environment(data_dir)
    proc = subprocess.Popen(
        [sys.executable, "cli.py", "dev"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    stack = DevStack(proc, env, ports["api"], ports["crm"], data_dir)

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            stack.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        stack.wait_for(r"Osmo is running", START_TIMEOUT)
        stack.wait_for(r"osmo dev: api started", 10)
        yield stack
    finally:
        if proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                stack.stop()
        reader.join(timeout=5)

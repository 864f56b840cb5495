"""Run an ASGI app on a real loopback port for end-to-end and headless-browser tests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn

_STARTUP_TIMEOUT = 10.0


class _Server(uvicorn.Server):
    """uvicorn server that never touches process signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _make_server(app: Any) -> _Server:
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    return _Server(config)


@contextlib.contextmanager
def serve(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port in a background thread.

    The port is bound before the thread starts, so the URL is valid as soon as it is
    yielded; the function still waits for uvicorn's startup to finish. The fake's
    state can be inspected/modified from the calling thread while it runs.

    Args:
        app: Any ASGI application (e.g. ``FakeCRM().app``).
        host: Loopback address to bind.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:53121`` (no trailing slash).

    Raises:
        RuntimeError: If the server does not start within 10 seconds.
    """
    sock = _bind(host)
    port = sock.getsockname()[1]
    server = _make_server(app)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"fake-app-{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"fake app on port {port} failed to start")
            time.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.asynccontextmanager
async def serve_async(app: Any, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``app`` on a free port as a task in the *current* event loop.

    Only use this when every client of the app is async and runs in the same loop;
    a blocking (sync) request to the URL would deadlock. Prefer :func:`serve` otherwise.

    Args:
        app: Any ASGI application.
        host: Loopback address to bind.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:53121``.

    Raises:
        RuntimeError: If the server does not start within 10 seconds.
    """
    sock = _bind(host)
    port = sock.getsockname()[1]
    server = _make_server(app)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"fake-app-{port}")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STARTUP_TIMEOUT
        while not server.started:
            if task.done() or loop.time() > deadline:
                raise RuntimeError(f"fake app on port {port} failed to start")
            await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        sock.close()

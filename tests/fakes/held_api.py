"""An external API that records every request and can hold requests open: for crash tests.

`hold(path)` makes the next request to `path` wait (no answer) until the test ends or the
client goes away, as a slow app would while the worker calling it is killed; `held` is set when
such a request arrived. Every request is recorded in `requests` as `(method, path, json)`.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from fastapi import FastAPI, Request


class HeldApi:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.held = threading.Event()
        self._hold: set[str] = set()
        self._release = threading.Event()
        self.app = FastAPI()
        self.app.add_api_route(
            "/{path:path}", self._handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
        )

    def hold(self, path: str) -> None:
        """Holds the next request to `/path` open."""
        self._hold.add(path)

    def release(self) -> None:
        """Lets held requests end (they answer 200)."""
        self._release.set()

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if (m, p) == (method, path))

    async def _handle(self, path: str, request: Request) -> dict[str, Any]:
        body = await request.json() if await request.body() else None
        self.requests.append((request.method, path, body))
        if path in self._hold:
            self._hold.discard(path)
            self.held.set()
            while not self._release.is_set():
                await asyncio.sleep(0.05)
        return {"path": path, "received": body}

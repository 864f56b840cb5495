"""Heartbeats for activities that call external apps.

A worker killed while its activity waits on an app sends nothing more: without heartbeats
Temporal would notice only when the start-to-close timeout ran out (minutes), and the write
would stay unretried that long. The activities marked here beat every second while they run,
and `NodeContext.activity` gives them a heartbeat timeout of a few seconds
(`workflows/nodes/base.py`, `activity_timeouts`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from temporalio import activity

HEARTBEAT_INTERVAL = 1.0
"""Seconds between beats: well under the heartbeat timeout, and the SDK throttles anyway."""

P = ParamSpec("P")
R = TypeVar("R")


async def _beat() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_INTERVAL)


def heartbeating(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Makes the activity beat while it runs, and marks it (`heartbeats`) so the workflow side
    sets a heartbeat timeout. Put it under `@activity.defn`."""

    @functools.wraps(method)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        # Called directly (tests, benchmarks), or run as a local activity: the workflow task
        # that runs it is what a lost worker is noticed by (workflows/nodes/base.py).
        if not activity.in_activity() or activity.info().is_local:
            return await method(*args, **kwargs)
        beats = asyncio.create_task(_beat())
        try:
            return await method(*args, **kwargs)
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats

    marked: Any = run
    marked.heartbeats = True
    return run

"""External API logs: the database sink of the connector runtime."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from sqlalchemy.engine import Engine
from sqlmodel import Session

from connectors.runtime.context import ApiCall, ApiLogSink
from core.models import ExternalApiLog


async def record(sink: ApiLogSink, call: ApiCall) -> None:
    """Logs `call`, in a worker thread when the sink blocks on I/O."""
    if getattr(sink, "blocking", True):
        await asyncio.to_thread(sink.record, call)
    else:
        sink.record(call)


class DatabaseApiLogSink:
    """Writes each external call as one `external_api_logs` row."""

    blocking = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, call: ApiCall) -> None:
        with Session(self.engine) as session:
            session.add(ExternalApiLog(**asdict(call)))
            session.commit()


class MemoryApiLogSink:
    """Keeps calls in a list (benchmarks and tests)."""

    blocking = False  # recording never waits on I/O, so no worker thread is needed

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []

    def record(self, call: ApiCall) -> None:
        self.calls.append(call)

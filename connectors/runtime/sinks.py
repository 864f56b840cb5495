"""External API logs: the database sink of the connector runtime."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connectors.runtime.context import ApiCall, ApiLogSink
from core.models import ExternalApiLog

ENDED_COLUMNS = (
    "status",
    "success",
    "duration_ms",
    "response_size",
    "response_body",
    "error_key",
    "error_message",
    "state",
)
"""What an ended call adds to its pending entry (the request was described already)."""


async def record(sink: ApiLogSink, call: ApiCall) -> None:
    """Logs `call`, in a worker thread when the sink blocks on I/O."""
    if getattr(sink, "blocking", True):
        await asyncio.to_thread(sink.record, call)
    else:
        sink.record(call)


async def update_record(sink: ApiLogSink, call: ApiCall) -> None:
    """Replaces the pending entry of `call` by its end, like `record`."""
    if getattr(sink, "blocking", True):
        await asyncio.to_thread(sink.update, call)
    else:
        sink.update(call)


class DatabaseApiLogSink:
    """Writes each external call as one `external_api_logs` row: inserted when the call is
    recorded (pending, or ended), updated when a pending call ends."""

    blocking = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, call: ApiCall) -> None:
        with Session(self.engine) as session:
            session.add(ExternalApiLog(**asdict(call)))
            session.commit()

    def update(self, call: ApiCall) -> None:
        values = {name: getattr(call, name) for name in ENDED_COLUMNS}
        statement = update(ExternalApiLog).where(ExternalApiLog.id == call.id)  # type: ignore[arg-type]
        with Session(self.engine) as session:
            updated = session.execute(statement.values(**values)).rowcount  # type: ignore[attr-defined]
            session.commit()
        if not updated:  # the pending row is gone (pruned): keep the call all the same
            self.record(call)


class MemoryApiLogSink:
    """Keeps calls in a list (benchmarks and tests)."""

    blocking = False  # recording never waits on I/O, so no worker thread is needed

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []

    def record(self, call: ApiCall) -> None:
        self.calls.append(call)

    def update(self, call: ApiCall) -> None:
        for index in range(len(self.calls) - 1, -1, -1):
            if self.calls[index].id == call.id:
                self.calls[index] = call
                return
        self.calls.append(call)

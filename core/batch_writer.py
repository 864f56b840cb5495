"""Group commit for log rows written on a hot path (the API's incoming-webhook log).

Every caller still waits until its own row is committed — nothing is answered before its log
row is in the database — but the rows added while one commit runs go into the next commit
together. Under load that turns fifty writers fighting for SQLite's write lock (each losing
sleeps in SQLite's busy handler: 1, 2, 5, 10 … 100 ms) into one writer committing batches; on
PostgreSQL it saves a round trip and a WAL flush per row.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

log = logging.getLogger("osmo.db")

MAX_BATCH = 500


class BatchWriter:
    def __init__(self, engine: Engine, *, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._pending: list[tuple[SQLModel, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def add(self, row: SQLModel) -> None:
        """Inserts `row`; returns once it is committed (raises what its insert raised)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests run apps on several): start over
            self._loop, self._pending, self._flusher = loop, [], None
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((row, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        await asyncio.shield(done)  # a caller that goes away does not take its row back

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            rows = [row for row, _ in batch]
            try:
                await asyncio.to_thread(self._write, rows)
            except Exception:  # one bad row must not fail the others: write them one by one
                log.warning("a batch of %d rows failed; writing them one by one", len(rows))
                for row, done in batch:
                    try:
                        await asyncio.to_thread(self._write, [row])
                    except Exception as exc:
                        _settle(done, exc)
                    else:
                        _settle(done, None)
                continue
            for _, done in batch:
                _settle(done, None)

    def _write(self, rows: list[Any]) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            session.add_all(rows)
            session.commit()


def _settle(done: asyncio.Future[None], exc: BaseException | None) -> None:
    if done.done():
        return
    if exc is None:
        done.set_result(None)
    else:
        done.set_exception(exc)

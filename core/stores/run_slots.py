"""A connection's flow run slots and queue, in the database (docs/limits.md).

Every change of one connection first locks its `connection_run_queues` row (an UPDATE, which
PostgreSQL holds until commit and SQLite serializes with its write lock), then reads and writes
its `run_slots` rows in the same transaction: two workers, or a worker and the API, can never
grant the same free slot twice.

- `acquire` is idempotent per run: a run holding a slot or queued gets the same answer again,
  so a retried or repeated acquire changes nothing.
- `release` deletes the run's row and hands freed slots to the queued runs that fit, first come
  first served (a run whose flow is at its `maxParallelRuns` lets those behind it pass); it
  returns them, for the caller to tell.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.models import ConnectionRunQueue, RunSlot, utcnow

GRANTED, QUEUED, REJECTED = "granted", "queued", "rejected"
RUNNING, WAITING = "running", "waiting"

GRANT_SCAN = 1000
"""Queued runs looked at per grant pass: when the first thousand all wait for their flows'
caps, the ones behind wait for the next pass."""


@dataclass
class Acquired:
    answer: str
    """`granted`, `queued` or `rejected`."""
    granted: list[str] = field(default_factory=list)
    """Other queued runs this acquire let in (a flow's cap let them pass): to be told."""
    check_leaks: bool = False
    """The run is queued and nobody checked the slots for leaks lately: the caller should."""


@dataclass
class QueueState:
    running: list[str]
    waiting: list[str]
    limit: int
    queue_limit: int
    rejected: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "waiting": self.waiting,
            "limit": self.limit,
            "queueLimit": self.queue_limit,
            "rejected": self.rejected,
        }


class RunSlots:
    def __init__(self, engine: Engine, *, leak_check_seconds: float = 60.0) -> None:
        self.engine = engine
        self.leak_check_seconds = leak_check_seconds

    # -- the lock row ------------------------------------------------------------------

    def _lock(self, session: Session, connection_id: str, **values: Any) -> ConnectionRunQueue:
        """Locks (creating it if need be) the connection's queue row; bumps its `next_seq`."""
        where = col(ConnectionRunQueue.connection_id) == connection_id
        for _ in range(3):
            bump = update(ConnectionRunQueue).where(where)
            bump = bump.values(next_seq=ConnectionRunQueue.next_seq + 1, **values)
            if session.execute(bump).rowcount == 1:  # type: ignore[attr-defined]
                row = session.execute(select(ConnectionRunQueue).where(where)).scalar_one()
                return row
            session.rollback()
            session.add(ConnectionRunQueue(connection_id=connection_id, **values))
            try:
                session.commit()
            except IntegrityError:  # created concurrently: lock that one
                session.rollback()
        raise RuntimeError(f"connection {connection_id}: its run queue row cannot be locked")

    # -- changes -----------------------------------------------------------------------

    def acquire(
        self,
        connection_id: str,
        run_id: str,
        *,
        limit: int,
        queue_limit: int,
        flow: str | None = None,
        flow_limit: int | None = None,
    ) -> Acquired:
        limit, queue_limit = max(1, limit), max(0, queue_limit)
        with Session(self.engine, expire_on_commit=False) as session:
            queue = self._lock(session, connection_id, run_limit=limit, queue_limit=queue_limit)
            mine = session.get(RunSlot, run_id)
            if mine is not None:  # asked again: the same answer
                answer = GRANTED if mine.state == RUNNING else QUEUED
                check = answer == QUEUED and self._claim_leak_check(session, queue)
                session.commit()
                return Acquired(answer, check_leaks=check)
            counts = self._counts(session, connection_id)
            running = sum(n for (state, _), n in counts.items() if state == RUNNING)
            waiting = sum(n for (state, _), n in counts.items() if state == WAITING)
            flow = flow if flow_limit else None
            if not waiting and running < limit and _fits(counts, flow, flow_limit):
                session.add(self._slot(queue, run_id, RUNNING, flow, flow_limit))
                session.commit()
                return Acquired(GRANTED)
            if waiting >= queue_limit:
                queue.rejected += 1
                session.add(queue)
                session.commit()
                return Acquired(REJECTED)
            session.add(self._slot(queue, run_id, WAITING, flow, flow_limit))
            session.flush()
            granted = self._grant(session, queue)
            check = run_id not in granted and self._claim_leak_check(session, queue)
            session.commit()
            answer = GRANTED if run_id in granted else QUEUED
            return Acquired(answer, [r for r in granted if r != run_id], check)

    def release(self, connection_id: str, run_id: str) -> list[str]:
        """Gives the run's slot back (or takes it out of the queue); returns the queued runs
        granted in its place. Idempotent: a run holding nothing changes nothing."""
        with Session(self.engine, expire_on_commit=False) as session:
            queue = self._lock(session, connection_id)
            session.execute(delete(RunSlot).where(col(RunSlot.run_id) == run_id))
            granted = self._grant(session, queue)
            session.commit()
            return granted

    def _slot(
        self, queue: ConnectionRunQueue, run_id: str, state: str, flow: str | None, cap: int | None
    ) -> RunSlot:
        return RunSlot(
            run_id=run_id,
            connection_id=queue.connection_id,
            state=state,
            seq=queue.next_seq,
            flow=flow,
            flow_limit=cap if flow else None,
        )

    def _counts(self, session: Session, connection_id: str) -> Counter[tuple[str, str | None]]:
        rows = session.execute(
            select(RunSlot.state, RunSlot.flow, func.count())
            .where(col(RunSlot.connection_id) == connection_id)
            .group_by(col(RunSlot.state), col(RunSlot.flow))
        )
        return Counter({(state, flow): n for state, flow, n in rows})

    def _grant(self, session: Session, queue: ConnectionRunQueue) -> list[str]:
        """Moves the queued runs that fit into the free slots, in order; returns them."""
        counts = self._counts(session, queue.connection_id)
        running = sum(n for (state, _), n in counts.items() if state == RUNNING)
        if running >= queue.run_limit or not any(s == WAITING for s, _ in counts):
            return []
        queued = session.execute(
            select(RunSlot)
            .where(
                col(RunSlot.connection_id) == queue.connection_id,
                col(RunSlot.state) == WAITING,
            )
            .order_by(col(RunSlot.seq))
            .limit(GRANT_SCAN)
        ).scalars()
        granted: list[str] = []
        now = utcnow()
        for slot in queued:
            if running >= queue.run_limit:
                break
            if not _fits(counts, slot.flow, slot.flow_limit):
                continue
            slot.state, slot.since = RUNNING, now
            session.add(slot)
            counts[(RUNNING, slot.flow)] += 1
            running += 1
            granted.append(slot.run_id)
        return granted

    # -- leaks -------------------------------------------------------------------------

    def _leak_check_due(self, queue: ConnectionRunQueue) -> bool:
        checked = queue.checked_at
        return checked is None or utcnow() - checked >= timedelta(seconds=self.leak_check_seconds)

    def _claim_leak_check(self, session: Session, queue: ConnectionRunQueue) -> bool:
        """Whether this caller checks for leaked slots now (at most once per
        `leak_check_seconds` per connection, whoever asks)."""
        if not self._leak_check_due(queue):
            return False
        queue.checked_at = utcnow()
        session.add(queue)
        return True

    def claim_leak_check(self, connection_id: str) -> bool:
        with Session(self.engine, expire_on_commit=False) as session:
            queue = self._lock(session, connection_id)
            claimed = self._claim_leak_check(session, queue)
            session.commit()
            return claimed

    def holders(self, connection_id: str, older_than: datetime | None = None) -> list[str]:
        """The runs holding a slot (granted before `older_than`, when given)."""
        statement = select(RunSlot.run_id).where(
            col(RunSlot.connection_id) == connection_id,
            col(RunSlot.state) == RUNNING,
        )
        if older_than is not None:
            statement = statement.where(col(RunSlot.since) < older_than)
        with Session(self.engine) as session:
            return list(session.execute(statement).scalars())

    # -- reading -----------------------------------------------------------------------

    def state(self, connection_id: str) -> QueueState | None:
        """The connection's slots and queue (None: no run of it ever asked for a slot)."""
        with Session(self.engine) as session:
            queue = session.get(ConnectionRunQueue, connection_id)
            if queue is None:
                return None
            rows = session.execute(
                select(RunSlot.run_id, RunSlot.state)
                .where(col(RunSlot.connection_id) == connection_id)
                .order_by(col(RunSlot.seq))
            ).all()
            return QueueState(
                running=[run for run, state in rows if state == RUNNING],
                waiting=[run for run, state in rows if state == WAITING],
                limit=queue.run_limit,
                queue_limit=queue.queue_limit,
                rejected=queue.rejected,
            )

    def counts(self, connection_id: str) -> tuple[int, int, int, int] | None:
        """`(running, waiting, limit, queue_limit)` without listing the runs."""
        with Session(self.engine) as session:
            queue = session.get(ConnectionRunQueue, connection_id)
            if queue is None:
                return None
            counts = self._counts(session, connection_id)
        running = sum(n for (state, _), n in counts.items() if state == RUNNING)
        waiting = sum(n for (state, _), n in counts.items() if state == WAITING)
        return running, waiting, queue.run_limit, queue.queue_limit


def _fits(counts: Counter[tuple[str, str | None]], flow: str | None, cap: int | None) -> bool:
    """Whether a run of `flow` fits under the flow's own cap (the connection's is checked
    apart)."""
    return flow is None or not cap or counts[(RUNNING, flow)] < cap

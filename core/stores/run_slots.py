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

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

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


Row = dict[str, Any]

Q = ConnectionRunQueue.__table__  # type: ignore[attr-defined]
S = RunSlot.__table__  # type: ignore[attr-defined]


class RunSlots:
    """Core statements on one connection per call (the hot path of every flow run: no ORM
    objects, a handful of short statements)."""

    def __init__(self, engine: Engine, *, leak_check_seconds: float = 60.0) -> None:
        self.engine = engine
        self.leak_check_seconds = leak_check_seconds

    # -- the lock row ------------------------------------------------------------------

    def _lock(self, conn: Connection, connection_id: str, **values: Any) -> Row:
        """Locks (creating it if need be) the connection's queue row and bumps its `next_seq`
        (the order of the queue); returns the row as it is now."""
        bump = (
            update(Q)
            .where(Q.c.connection_id == connection_id)
            .values(next_seq=Q.c.next_seq + 1, **values)
            .returning(*Q.c)
        )
        for _ in range(3):
            row = conn.execute(bump).mappings().first()
            if row is not None:
                return dict(row)
            conn.rollback()
            fresh = {"run_limit": 10, "queue_limit": 10_000, **values}
            try:
                conn.execute(
                    insert(Q).values(
                        connection_id=connection_id, rejected=0, next_seq=0, waiting=0, **fresh
                    )
                )
                conn.commit()
            except IntegrityError:  # created concurrently: lock that one
                conn.rollback()
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
        flow = flow if flow_limit else None
        with self.engine.connect() as conn:
            queue = self._lock(conn, connection_id, run_limit=limit, queue_limit=queue_limit)
            mine = conn.execute(select(S.c.state).where(S.c.run_id == run_id)).scalar()
            if mine is not None:  # asked again: the same answer
                answer = GRANTED if mine == RUNNING else QUEUED
                check = answer == QUEUED and self._claim_leak_check(conn, queue)
                conn.commit()
                return Acquired(answer, check_leaks=check)
            running = self._running(conn, connection_id)
            if (
                not queue["waiting"]
                and running.total() < limit
                and _fits(running, flow, flow_limit)
            ):
                conn.execute(insert(S).values(self._slot(queue, run_id, RUNNING, flow, flow_limit)))
                conn.commit()
                return Acquired(GRANTED)
            if queue["waiting"] >= queue_limit:
                conn.execute(
                    update(Q)
                    .where(Q.c.connection_id == connection_id)
                    .values(rejected=Q.c.rejected + 1)
                )
                conn.commit()
                return Acquired(REJECTED)
            conn.execute(insert(S).values(self._slot(queue, run_id, WAITING, flow, flow_limit)))
            queue["waiting"] += 1
            granted = self._grant(conn, queue, running, waiting_change=1)
            check = run_id not in granted and self._claim_leak_check(conn, queue)
            conn.commit()
            answer = GRANTED if run_id in granted else QUEUED
            return Acquired(answer, [r for r in granted if r != run_id], check)

    def release(self, connection_id: str, run_id: str) -> list[str]:
        """Gives the run's slot back (or takes it out of the queue); returns the queued runs
        granted in its place. Idempotent: a run holding nothing changes nothing."""
        with self.engine.connect() as conn:
            queue = self._lock(conn, connection_id)
            mine = conn.execute(
                delete(S)
                .where(S.c.run_id == run_id, S.c.connection_id == connection_id)
                .returning(S.c.state)
            ).scalar()
            change = 0
            if mine == WAITING:
                queue["waiting"] -= 1
                change = -1
            granted = self._grant(conn, queue, self._running(conn, connection_id), change)
            conn.commit()
            return granted

    @staticmethod
    def _slot(queue: Row, run_id: str, state: str, flow: str | None, cap: int | None) -> Row:
        return {
            "run_id": run_id,
            "connection_id": queue["connection_id"],
            "state": state,
            "seq": queue["next_seq"],
            "flow": flow,
            "flow_limit": cap if flow else None,
            "since": utcnow(),
        }

    @staticmethod
    def _running(conn: Connection, connection_id: str) -> Counter[str | None]:
        """The runs holding a slot, counted by flow."""
        rows = conn.execute(
            select(S.c.flow, func.count())
            .where(S.c.connection_id == connection_id, S.c.state == RUNNING)
            .group_by(S.c.flow)
        )
        return Counter({flow: n for flow, n in rows})

    def _grant(
        self, conn: Connection, queue: Row, running: Counter[str | None], waiting_change: int
    ) -> list[str]:
        """Moves the queued runs that fit into the free slots, in order, and writes the
        queue's count of waiting runs (changed by `waiting_change` before); returns them."""
        granted: list[str] = []
        after, scanned, limit = -1, 0, queue["run_limit"]
        while running.total() < limit and queue["waiting"] > 0 and scanned < GRANT_SCAN:
            page = max(16, 2 * (limit - running.total()))
            rows = conn.execute(
                select(S.c.run_id, S.c.flow, S.c.flow_limit, S.c.seq)
                .where(
                    S.c.connection_id == queue["connection_id"],
                    S.c.state == WAITING,
                    S.c.seq > after,
                )
                .order_by(S.c.seq)
                .limit(page)
            ).all()
            for run, flow, cap, seq in rows:
                after, scanned = seq, scanned + 1
                if running.total() >= limit:
                    break
                if _fits(running, flow, cap):
                    running[flow] += 1
                    granted.append(run)
            if len(rows) < page:
                break
        if granted:
            conn.execute(
                update(S).where(S.c.run_id.in_(granted)).values(state=RUNNING, since=utcnow())
            )
            queue["waiting"] -= len(granted)
        if change := waiting_change - len(granted):
            conn.execute(
                update(Q)
                .where(Q.c.connection_id == queue["connection_id"])
                .values(waiting=Q.c.waiting + change)
            )
        return granted

    # -- leaks -------------------------------------------------------------------------

    def _claim_leak_check(self, conn: Connection, queue: Row) -> bool:
        """Whether this caller checks for leaked slots now (at most once per
        `leak_check_seconds` per connection, whoever asks)."""
        checked, now = queue["checked_at"], utcnow()
        if checked is not None and now - checked < timedelta(seconds=self.leak_check_seconds):
            return False
        conn.execute(
            update(Q).where(Q.c.connection_id == queue["connection_id"]).values(checked_at=now)
        )
        queue["checked_at"] = now
        return True

    def claim_leak_check(self, connection_id: str) -> bool:
        with self.engine.connect() as conn:
            queue = self._lock(conn, connection_id)
            claimed = self._claim_leak_check(conn, queue)
            conn.commit()
            return claimed

    def holders(self, connection_id: str, older_than: datetime | None = None) -> list[str]:
        """The runs holding a slot (granted before `older_than`, when given)."""
        statement = select(S.c.run_id).where(
            S.c.connection_id == connection_id, S.c.state == RUNNING
        )
        if older_than is not None:
            statement = statement.where(S.c.since < older_than)
        with self.engine.connect() as conn:
            return list(conn.execute(statement).scalars())

    # -- reading -----------------------------------------------------------------------

    def state(self, connection_id: str) -> QueueState | None:
        """The connection's slots and queue (None: no run of it ever asked for a slot)."""
        with self.engine.connect() as conn:
            queue = conn.execute(select(Q).where(Q.c.connection_id == connection_id)).first()
            if queue is None:
                return None
            rows = conn.execute(
                select(S.c.run_id, S.c.state)
                .where(S.c.connection_id == connection_id)
                .order_by(S.c.seq)
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
        with self.engine.connect() as conn:
            queue = conn.execute(select(Q).where(Q.c.connection_id == connection_id)).first()
            if queue is None:
                return None
            running = self._running(conn, connection_id).total()
        return running, queue.waiting, queue.run_limit, queue.queue_limit


def _fits(running: Counter[str | None], flow: str | None, cap: int | None) -> bool:
    """Whether a run of `flow` fits under the flow's own cap (the connection's is checked
    apart)."""
    return flow is None or not cap or running[flow] < cap

"""The run slots in the database (core/stores/run_slots.py), on SQLite and PostgreSQL: runs
asking at the same moment from many threads never get more slots than the limit, the queue is
first come first served and bounded, a flow's cap lets the runs behind it pass, and every
change is idempotent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine

from core.db import create_db_engine, migrate
from core.stores.run_slots import GRANTED, QUEUED, REJECTED, RunSlots


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = create_db_engine(database_url, pool_size=20, max_overflow=20)
    migrate(engine)
    return engine


def test_concurrent_asks_never_exceed_the_limit_and_the_queue_is_served_in_order(
    engine: Engine,
) -> None:
    slots = RunSlots(engine)

    def ask(n: int) -> str:
        return slots.acquire("c1", f"run-{n}", limit=3, queue_limit=100).answer

    with ThreadPoolExecutor(16) as pool:
        answers = dict(zip(range(40), pool.map(ask, range(40)), strict=True))
    granted = sorted(n for n, answer in answers.items() if answer == GRANTED)
    assert len(granted) == 3
    assert sum(answer == QUEUED for answer in answers.values()) == 37
    state = slots.state("c1")
    assert state is not None
    assert sorted(state.running) == sorted(f"run-{n}" for n in granted)
    assert len(state.waiting) == 37
    assert slots.counts("c1") == (3, 37, 3, 100)  # the queue's own count agrees with its rows
    # Each release hands the slot to the first run queued, in the order they were queued.
    order = list(state.waiting)
    served: list[str] = []
    holding = list(state.running)
    while holding:
        run = holding.pop(0)
        handed = slots.release("c1", run)
        assert len(handed) == (1 if len(served) < 37 else 0)
        served += handed
        holding += handed
    assert served == order
    final = slots.state("c1")
    assert final is not None and final.running == [] and final.waiting == []
    assert slots.counts("c1") == (0, 0, 3, 100)


def test_a_full_queue_rejects_and_counts_it(engine: Engine) -> None:
    slots = RunSlots(engine)
    answers = [slots.acquire("c", f"r{n}", limit=1, queue_limit=2).answer for n in range(5)]
    assert answers == [GRANTED, QUEUED, QUEUED, REJECTED, REJECTED]
    state = slots.state("c")
    assert state is not None and state.rejected == 2 and state.waiting == ["r1", "r2"]
    assert slots.counts("c") == (1, 2, 1, 2)


def test_asking_again_or_releasing_twice_changes_nothing(engine: Engine) -> None:
    slots = RunSlots(engine)
    assert slots.acquire("c", "a", limit=1, queue_limit=5).answer == GRANTED
    assert slots.acquire("c", "b", limit=1, queue_limit=5).answer == QUEUED
    assert slots.acquire("c", "a", limit=1, queue_limit=5).answer == GRANTED
    assert slots.acquire("c", "b", limit=1, queue_limit=5).answer == QUEUED
    assert slots.release("c", "a") == ["b"]
    assert slots.release("c", "a") == []
    assert slots.acquire("c", "b", limit=1, queue_limit=5).answer == GRANTED
    assert slots.release("c", "nobody") == []
    assert slots.release("other", "x") == []  # a connection never seen
    state = slots.state("c")
    assert state is not None and state.running == ["b"] and state.waiting == []


def test_a_flow_at_its_cap_lets_the_runs_behind_it_pass(engine: Engine) -> None:
    slots = RunSlots(engine)

    def ask(run: str, flow: str | None = None) -> str:
        cap = 1 if flow else None
        return slots.acquire("c", run, limit=3, queue_limit=10, flow=flow, flow_limit=cap).answer

    assert ask("capped-1", "f") == GRANTED
    assert ask("capped-2", "f") == QUEUED  # its flow's one slot is taken
    assert ask("free-1") == GRANTED  # passes the capped run queued before it
    assert ask("free-2") == GRANTED
    assert ask("free-3") == QUEUED  # the connection's 3 slots are taken
    assert slots.release("c", "free-1") == ["free-3"]  # capped-2 still waits for its flow
    assert slots.release("c", "capped-1") == ["capped-2"]
    state = slots.state("c")
    assert state is not None and sorted(state.running) == ["capped-2", "free-2", "free-3"]


def test_the_leak_check_is_claimed_once_per_interval(engine: Engine) -> None:
    slots = RunSlots(engine, leak_check_seconds=3600)
    assert slots.acquire("c", "a", limit=1, queue_limit=5).check_leaks is False  # granted
    assert slots.acquire("c", "b", limit=1, queue_limit=5).check_leaks is True  # first queued
    assert slots.acquire("c", "c", limit=1, queue_limit=5).check_leaks is False  # just checked
    assert slots.acquire("c", "b", limit=1, queue_limit=5).check_leaks is False
    assert RunSlots(engine, leak_check_seconds=0).claim_leak_check("c") is True
    assert slots.holders("c") == ["a"]

"""Polling through Temporal on the time-skipping server: `pull_events` called by name from a
test workflow with timers, the fake deals app on loopback.

A worker restart (a new Worker instance) and continue-as-new between polls neither lose nor
repeat events; a 429 with Retry-After waits that long before the next attempt; a page failing
once is retried from where the attempt stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.events.messages import PullInput
from tests.activities.pull_fixtures import deals_connection, pulls_of, subscribe
from tests.conftest import Osmo
from tests.fakes import serve
from tests.fakes.deals import FakeDeals, rfc3339
from tests.workflows.poll_loop import PollLoop, PollLoopInput, PullOnce
from worker import Activities, build_activities


@dataclass
class Polling:
    osmo: Osmo
    fake: FakeDeals
    connection_id: str
    activities: Activities
    client: Client
    queue: str

    def worker(self) -> Worker:
        """A new worker on the test's task queue, as a redeploy starts one."""
        return Worker(
            self.client,
            task_queue=self.queue,
            workflows=[PollLoop, PullOnce],
            activities=[self.activities.event_pulls.pull_events],
            # No sticky queue: a task of the stopped worker's cached runs would wait there (the
            # test server does not hand it over), and every task replays the history instead.
            max_cached_workflows=0,
        )


@pytest.fixture
def deals_app() -> Iterator[tuple[FakeDeals, str]]:
    fake = FakeDeals(seed=10)  # the connector reads pages of 3: 4 pages
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
async def polling(
    osmo_sqlite: Osmo, deals_app: tuple[FakeDeals, str], time_skipping_env: WorkflowEnvironment
) -> AsyncIterator[Polling]:
    fake, url = deals_app
    connection_id = await deals_connection(osmo_sqlite, url)
    built = build_activities(osmo_sqlite.settings)
    try:
        yield Polling(
            osmo_sqlite,
            fake,
            connection_id,
            built,
            time_skipping_env.client,
            f"polling-{uuid.uuid4()}",
        )
    finally:
        await built.aclose()


async def progress(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    """The loop's progress; a query can time out between runs of a continue-as-new, or while
    a loaded worker replays the history (no cache), so it is asked again."""
    for _ in range(5):
        with contextlib.suppress(RPCError):
            return await handle.query(PollLoop.progress)
        await asyncio.sleep(0.2)
    return await handle.query(PollLoop.progress)


async def rounds_done(handle: WorkflowHandle[Any, Any], rounds: int) -> None:
    for _ in range(200):
        with contextlib.suppress(RPCError):  # between runs of a continue-as-new
            if (await handle.query(PollLoop.progress))["rounds"] >= rounds:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the loop did not reach round {rounds}")


async def test_polls_across_a_worker_restart_and_continue_as_new_neither_lose_nor_repeat(
    polling: Polling,
) -> None:
    fake = polling.fake
    sub = subscribe(
        polling.osmo, polling.connection_id, "data-record-updated", "pull-latest-records"
    )
    expected: list[str] = []
    async with polling.worker():
        started = await polling.client.start_workflow(
            PollLoop.run,
            # A 1 s interval in real time: skipping a minute of test time per round timed out
            # on a loaded machine (the test server's sleep is an RPC with a deadline).
            PollLoopInput(sub, interval_seconds=1),
            id=f"poll-loop-{uuid.uuid4()}",
            task_queue=polling.queue,
        )
        # Signals, queries and the result follow the loop into the runs it continues as.
        handle = polling.client.get_workflow_handle(started.id, result_type=list)
        await handle.signal(PollLoop.poll)  # round 1: the cursor starts at the app's newest
        await rounds_done(handle, 1)
        first_run = (await progress(handle))["runId"]
        fake.tick(5)
        for deal_id in (1, 5, 9):  # across pages
            fake.update(deal_id, value=7)
            expected.append(f"{deal_id}:{rfc3339(fake.clock)}")
        await handle.signal(PollLoop.poll)
        await rounds_done(handle, 2)
    # The worker is gone (a redeploy): the loop waits on its timer, changes keep coming, and
    # one of them lands in the same second as the last poll's cursor.
    fake.update(10, value=8)
    expected.append(f"10:{rfc3339(fake.clock)}")
    fake.tick(3)
    fake.update(2, value=9)
    expected.append(f"2:{rfc3339(fake.clock)}")
    async with polling.worker():
        await handle.signal(PollLoop.poll)
        await rounds_done(handle, 3)
        assert (await progress(handle))["runId"] != first_run  # continued as new
        fake.update(5, value=10)  # same second again, a second change of deal 5
        fake.tick(1)
        fake.update(5, value=11)
        expected.append(f"5:{rfc3339(fake.clock)}")
        await handle.signal(PollLoop.poll)
        await rounds_done(handle, 4)
        await handle.signal(PollLoop.finish)
        got = await handle.result()
    # Deal 5's change at the earlier second was superseded before the poll saw it.
    assert got == expected
    assert [r.status for r in pulls_of(polling.osmo.services.engine, sub)] == ["completed"] * 4


async def test_a_429_with_retry_after_waits_that_long_before_the_next_attempt(
    polling: Polling,
) -> None:
    fake = polling.fake
    sub = subscribe(polling.osmo, polling.connection_id, "data-record-deleted", "full-scan")
    # 5 s, not a vendor's usual 30 s: the test server does not skip an activity's retry
    # delay, so the wait is real time.
    fake.arm_rate_limit(2, retry_after=5)
    async with polling.worker():
        out = await polling.client.execute_workflow(
            PullOnce.run,
            PullInput(sub),
            id=f"pull-once-{uuid.uuid4()}",
            task_queue=polling.queue,
        )
    # Two refusals, each waited out (5 s of server time), then the scan's 4 pages: no storm.
    statuses = [r["status"] for r in fake.listings()]
    assert statuses == [429, 429, 200, 200, 200, 200]
    assert 10 <= out["seconds"] < 20, out
    assert out["cursor"]["records"] == 10


async def test_a_retried_scan_resumes_after_the_last_page_read(polling: Polling) -> None:
    fake = polling.fake
    sub = subscribe(polling.osmo, polling.connection_id, "data-record-deleted", "full-scan")
    fake.fail_pages, fake.fail_left = {3}, 1
    async with polling.worker():
        out = await polling.client.execute_workflow(
            PullOnce.run,
            PullInput(sub),
            id=f"pull-once-{uuid.uuid4()}",
            task_queue=polling.queue,
        )
    assert out["cursor"]["records"] == 10
    statuses = [r["status"] for r in fake.listings()]
    # Pages 1 and 2 once, page 3 failed then read, page 4: the retry did not start over.
    assert statuses == [200, 200, 500, 200, 200]
    [row] = pulls_of(polling.osmo.services.engine, sub)  # one pull, two attempts
    assert (row.status, row.page_count) == ("completed", 4)

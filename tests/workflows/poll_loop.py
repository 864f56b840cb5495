"""Test-only workflows calling `pull_events` by name, as the event inbox does: a polling loop
with durable timers that continues as new, and a single pull that reports how long it took."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from core.events.messages import PullInput, PullOutput

PULL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=10)


async def pull(input: PullInput) -> PullOutput:
    return await workflow.execute_activity(
        "pull_events",
        input,
        result_type=PullOutput,
        start_to_close_timeout=timedelta(minutes=2),
        heartbeat_timeout=timedelta(seconds=30),
        retry_policy=PULL_RETRY,
    )


@dataclass
class PollLoopInput:
    subscription_id: str
    interval_seconds: int = 60
    rounds_per_run: int = 2
    """Continue-as-new after this many polls, carrying everything below."""
    cursor: Any = None
    event_ids: list[str] = field(default_factory=list)
    rounds: int = 0
    wanted: int = 0


@workflow.defn(name="TestPollLoop")
class PollLoop:
    """Polls once per `poll` signal, then waits the interval on a timer; `finish` ends it with
    every event id taken in, in order."""

    def __init__(self) -> None:
        self.signals = 0
        self.finished = False
        self.state: PollLoopInput | None = None

    @workflow.run
    async def run(self, input: PollLoopInput) -> list[str]:
        self.state = input
        ran = 0
        while True:
            await workflow.wait_condition(
                lambda: self.finished or input.wanted + self.signals > input.rounds
            )
            if input.wanted + self.signals <= input.rounds:
                return input.event_ids
            out = await pull(PullInput(input.subscription_id, cursor=input.cursor))
            input.event_ids.extend(event.id for event in out.events)  # recorded, then
            input.cursor = out.cursor  # the cursor kept
            input.rounds += 1
            ran += 1
            with contextlib.suppress(asyncio.TimeoutError):  # the interval, a durable timer
                await workflow.wait_condition(
                    lambda: self.finished, timeout=timedelta(seconds=input.interval_seconds)
                )
            if ran >= input.rounds_per_run and not self.finished:
                input.wanted += self.signals
                workflow.continue_as_new(input)

    @workflow.signal
    def poll(self) -> None:
        self.signals += 1

    @workflow.signal
    def finish(self) -> None:
        self.finished = True

    @workflow.query
    def progress(self) -> dict[str, Any]:
        state = self.state
        return {"rounds": state.rounds if state else 0, "runId": workflow.info().run_id}


@workflow.defn(name="TestPullOnce")
class PullOnce:
    """One pull; returns the events, the cursor and the workflow time it took (retries and
    their delays included)."""

    @workflow.run
    async def run(self, input: PullInput) -> dict[str, Any]:
        began = workflow.now()
        out = await pull(input)
        return {
            "seconds": (workflow.now() - began).total_seconds(),
            "eventIds": [event.id for event in out.events],
            "cursor": out.cursor,
        }

"""Per-connection flow run slots (docs/limits.md): the local activities `FlowRun` takes and gives
back its slot with, over the slots kept in the database (core/stores/run_slots.py).

A run that finds a free slot takes it in one short transaction and goes on in the same workflow
task: no other workflow, signal or task is involved. A run that finds none is queued; the run
that frees a slot grants it to the first queued run that fits and tells it with a `slot` signal.
A queued run also asks again now and then (`FlowRun`'s timer), so a signal lost with a worker
that died between the grant and the signal only delays it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from core.models import utcnow
from core.stores.run_slots import GRANTED, QUEUED, REJECTED, Acquired, RunSlots

__all__ = ["GRANTED", "QUEUED", "REJECTED", "AcquireInput", "LimitActivities", "ReleaseInput"]

LEAK_CHECK_SECONDS = 60.0
"""At most this often per connection, and only while runs of it are queued, the runs holding
its slots are checked for one that closed without giving its slot back (a terminated `FlowRun`
never runs its `finally`); those slots go to the queue."""

SIGNAL_TIMEOUT = timedelta(seconds=10)


@dataclass
class AcquireInput:
    """What `FlowRun` asks for (the local activity `acquire_run_slot`)."""

    connection_id: str
    run_id: str
    limit: int
    queue_limit: int
    flow: str | None = None
    flow_limit: int | None = None


@dataclass
class ReleaseInput:
    connection_id: str
    run_id: str


class LimitActivities:
    def __init__(
        self,
        engine: Engine,
        *,
        leak_check_seconds: float = LEAK_CHECK_SECONDS,
        client: Client | None = None,
    ) -> None:
        self.slots = RunSlots(engine, leak_check_seconds=leak_check_seconds)
        self._client = client

    def client(self) -> Client:
        return self._client or activity.client()

    @activity.defn(name="acquire_run_slot")
    async def acquire_run_slot(self, input: AcquireInput) -> str:
        """Takes a slot, or queues the run (`granted` | `queued` | `rejected`). Idempotent per
        run: a queued run asking again learns whether it was granted meanwhile."""
        acquired = await self._acquire(input)
        await self.tell(input.connection_id, acquired.granted)
        if acquired.check_leaks and await self.release_leaked(input.connection_id):
            return (await self._acquire(input)).answer  # its slot may have come meanwhile
        return acquired.answer

    async def _acquire(self, input: AcquireInput) -> Acquired:
        return await asyncio.to_thread(
            self.slots.acquire,
            input.connection_id,
            input.run_id,
            limit=input.limit,
            queue_limit=input.queue_limit,
            flow=input.flow,
            flow_limit=input.flow_limit,
        )

    @activity.defn(name="release_run_slot")
    async def release_run_slot(self, input: ReleaseInput) -> None:
        """Gives the run's slot back (or takes it out of the queue) and tells the queued runs
        granted in its place. Idempotent.

        A local activity rather than a signal from workflow code: the run ends in the same
        workflow task, without waiting for Temporal to confirm anything in another one.
        """
        granted = await asyncio.to_thread(self.slots.release, input.connection_id, input.run_id)
        await self.tell(input.connection_id, granted)

    async def tell(self, connection_id: str, granted: list[str]) -> None:
        """Signals `slot: granted` to each run granted; a run that is gone (closed, never
        started) gives its slot back, which may grant the next ones."""
        client = self.client()
        while granted:

            async def signal(run_id: str) -> str | None:
                try:
                    await client.get_workflow_handle(run_id).signal(
                        "slot", GRANTED, rpc_timeout=SIGNAL_TIMEOUT
                    )
                except RPCError as exc:
                    if exc.status != RPCStatusCode.NOT_FOUND:  # closed runs answer NOT_FOUND too
                        raise
                    return run_id
                return None

            gone = [r for r in await asyncio.gather(*map(signal, granted)) if r is not None]
            granted = []
            for run_id in gone:
                activity.logger.info("run %s is gone: its slot goes to the next", run_id)
                granted += await asyncio.to_thread(self.slots.release, connection_id, run_id)

    async def release_leaked(self, connection_id: str) -> bool:
        """Gives back the slots of runs that closed without releasing them; whether any were."""
        older = utcnow() - timedelta(seconds=1)  # a run granted this instant is surely running
        holders = await asyncio.to_thread(self.slots.holders, connection_id, older)
        closed = await closed_runs(self.client(), holders)
        for run_id in closed:
            activity.logger.warning("run %s closed without releasing its slot", run_id)
            granted = await asyncio.to_thread(self.slots.release, connection_id, run_id)
            await self.tell(connection_id, granted)
        return bool(closed)


async def closed_runs(client: Client, run_ids: list[str]) -> list[str]:
    """The runs among `run_ids` that are no longer running (closed, or gone)."""

    async def closed(run_id: str) -> bool:
        try:
            description = await client.get_workflow_handle(run_id).describe(
                rpc_timeout=SIGNAL_TIMEOUT
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            return True
        return description.status != WorkflowExecutionStatus.RUNNING

    flags = await asyncio.gather(*map(closed, run_ids))
    return [run_id for run_id, flag in zip(run_ids, flags, strict=True) if flag]

"""A connection's proactive request budget (`api.budget`), shared by every worker process."""

from __future__ import annotations

import asyncio
import time

from connectors.runtime.context import ConnectionContext, CredentialStore
from connectors.runtime.errors import ConnectorError

BUDGET_MAX_WAIT = 30.0


async def take_budget(store: CredentialStore | None, ctx: ConnectionContext) -> None:
    """Waits for room in the connection's request budget.

    Raises:
        ConnectorError: `rate_limit_exceeded` (with `retryAfter`) when room would come only
            after `BUDGET_MAX_WAIT` seconds.
    """
    budget = ctx.connector.api.budget
    if budget is None or ctx.connection_id is None or store is None:
        return
    deadline = time.monotonic() + BUDGET_MAX_WAIT
    while True:
        window = int(time.time() // budget.per_seconds)
        if await asyncio.to_thread(store.take_budget, ctx.connection_id, window, budget.requests):
            return
        wait = (window + 1) * budget.per_seconds - time.time()
        if time.monotonic() + wait > deadline:
            raise ConnectorError(
                "rate_limit_exceeded",
                "The connection's request budget is used up",
                retry_after=wait,
            )
        await asyncio.sleep(max(wait, 0.01))

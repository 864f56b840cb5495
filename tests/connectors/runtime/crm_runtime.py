"""Helpers of the runtime tests: another process's runtime, a call through it, the grants seen."""

from __future__ import annotations

import asyncio
from typing import Any

from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from tests.conftest import Osmo
from tests.fakes import FakeCRM


def new_runtime(osmo: Osmo) -> ConnectorRuntime:
    """A runtime like another worker process would have: own locks, same database."""
    services = osmo.services
    return ConnectorRuntime(
        services.registry,
        services.connections,
        DatabaseApiLogSink(services.engine),
        refresh_margin=60,
    )


async def contacts(runtime: ConnectorRuntime, connection_id: str) -> int:
    ctx = runtime.context_for(await asyncio.to_thread(runtime.store.load, connection_id))  # type: ignore[union-attr]
    response = await runtime.request(ctx, "GET", "/api/v1/contacts", params={"limit": 2})
    return response.status_code


def refresh_grants(fake: FakeCRM) -> list[dict[str, Any]]:
    return [r for r in fake.token_requests if r["grant_type"] == "refresh_token"]

"""The proactive request budget: enforced per connection, shared through the database."""

from __future__ import annotations

import asyncio
import time

import httpx

from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectionContext, ConnectorRuntime, MemoryApiLogSink
from connectors.spec import ConnectorSpec
from core.crypto import Encryptor, generate_key
from core.db import create_db_engine, migrate
from core.stores.connections import ConnectionStore
from tests.connectors.harness import MemoryCredentialStore

SPEC = ConnectorSpec.model_validate(
    {
        "key": "budgeted",
        "name": "Budgeted",
        "auth": [
            {
                "key": "key",
                "type": "api-key",
                "apply": {"headers": {"X-Key": "{{ inputs.key }}"}},
            }
        ],
        "api": {
            "baseUrl": "https://api.example.test",
            "budget": {"requests": 3, "perSeconds": 0.5},
        },
    }
)


def test_take_budget_counts_per_window_on_the_database(database_url: str) -> None:
    engine = create_db_engine(database_url)
    migrate(engine)
    store = ConnectionStore(engine, Encryptor.from_setting(f"k:{generate_key()}"))
    assert [store.take_budget("c1", 10, 2) for _ in range(3)] == [True, True, False]
    assert store.take_budget("c2", 10, 2) is True  # per connection
    assert store.take_budget("c1", 11, 2) is True  # a new window starts over
    engine.dispose()


async def test_runtime_waits_for_room_in_the_budget() -> None:
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(time.time())  # the budget's windows are wall-clock windows
        return httpx.Response(200, json={"ok": True})

    store = MemoryCredentialStore({}, None)
    runtime = ConnectorRuntime(
        ConnectorRegistry(), store, MemoryApiLogSink(), transport=httpx.MockTransport(handler)
    )
    ctx = ConnectionContext(
        connector=SPEC,
        auth=SPEC.auth[0],
        customer_id="c",
        integration_key="b",
        client_id=None,
        client_secret=None,
        integration_parameters={},
        scopes=[],
        inputs={"key": "k" * 8},
        connection_id="conn",
    )
    started = time.time()
    await asyncio.gather(*(runtime.request(ctx, "GET", "/ping") for _ in range(7)))
    await runtime.aclose()
    assert len(sent) == 7
    # 3 per half-second window: the 7th request cannot go before the third window opens
    assert sent[-1] - started >= 0.5
    windows = [int(t // 0.5) for t in sent]
    assert max(windows.count(w) for w in set(windows)) <= 3

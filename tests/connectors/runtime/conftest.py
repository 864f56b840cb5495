"""Runtime test fixtures: the fake CRM with a slow token endpoint, and a connection to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.api.connect_helpers import connect_oauth2, only_connection
from tests.conftest import CRM_CLIENT, Osmo, create_crm_integration
from tests.fakes import FakeCRM, serve


@pytest.fixture
def slow_crm(request: pytest.FixtureRequest) -> Iterator[tuple[FakeCRM, str]]:
    """A CRM whose token endpoint takes 200 ms, so concurrent refreshes really overlap."""
    options: dict[str, Any] = getattr(request, "param", {})
    fake = FakeCRM(token_latency=0.2, **options)
    fake.register_client(*CRM_CLIENT)
    fake.add_user("alice", "wonderland")
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
async def connected(osmo: Osmo, slow_crm) -> AsyncIterator[tuple[Osmo, FakeCRM, str]]:
    fake, url = slow_crm
    await create_crm_integration(osmo, url)
    done = await connect_oauth2(osmo, "acme")
    assert done.status_code == 200, done.text
    connection = await only_connection(osmo, "acme")
    fake.token_requests.clear()
    fake.api_requests.clear()
    yield osmo, fake, connection["id"]

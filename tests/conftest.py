"""Shared fixtures: settings on a fresh database, the fakes on loopback, Osmo on loopback.

Database-backed fixtures run on SQLite always and on PostgreSQL when OSMO_TEST_POSTGRES_URL
is set (CI sets it, and there a missing PostgreSQL fails instead of skipping).
"""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.services import Services
from core.crypto import generate_key
from core.settings import Settings
from core.tokens import mint_token
from tests.fakes import FakeCRM, FakeHelpdesk, FakeOAuth1App, serve
from tests.temporal_env import dev_server, time_skipping

warnings.filterwarnings("ignore", message=".*httpx module is deprecated.*")

FAKE_CONNECTORS = Path(__file__).parent / "fake_connectors"
# The fake CRM's connector ships with the demo app `osmo dev` serves (demo/fake_crm/).
DEMO_CONNECTORS = Path(__file__).parents[1] / "demo"
CONNECTOR_PATHS = os.pathsep.join(map(str, (FAKE_CONNECTORS, DEMO_CONNECTORS)))
POSTGRES_URL = os.environ.get("OSMO_TEST_POSTGRES_URL")
WORKSPACE_SECRET = "test-workspace-secret-" + "0123456789abcdef" * 4
CRM_CLIENT = ("osmo-client", "osmo-client-secret-123")


def _postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("OSMO_TEST_POSTGRES_URL must be set in CI")
        pytest.skip("PostgreSQL tests need OSMO_TEST_POSTGRES_URL")
    base = make_url(POSTGRES_URL)
    name = f"osmo_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'osmo.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'osmo.db'}"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "workspace_key": "test",
        "workspace_secret": WORKSPACE_SECRET,
        "encryption_keys": f"k1:{generate_key()}",
        "database_url": database_url,
        "connector_paths": CONNECTOR_PATHS,
        "refresh_margin_seconds": 60,
        "blob_store": tempfile.mkdtemp(prefix="osmo-blobs-"),
        **overrides,
    }
    return Settings(**values)


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal CLI dev server with Osmo's search attributes, shared by the session.

    Started once, as samples-python's `env`: each test runs its worker on a fresh task queue
    (`task_queue=str(uuid4())`), and the ids it queries by (customers, connections) are its own.
    """
    environment = await dev_server()
    yield environment
    await environment.shutdown()


@pytest.fixture(scope="module")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server, one per test module, for tests that wait out timers
    and retry delays; each test uses a fresh task queue.

    Not shared by the session: the server skips time only while nothing is in flight, so a
    workflow another module left running (an activity whose worker is gone) kept it from
    skipping, and a 30 s Retry-After was waited in real time.
    """
    environment = await time_skipping()
    yield environment
    await environment.shutdown()


@pytest.fixture
def crm() -> Iterator[tuple[FakeCRM, str]]:
    """The fake CRM on a loopback port, with Osmo's OAuth client and user alice."""
    fake = FakeCRM()
    fake.register_client(*CRM_CLIENT)
    fake.add_user("alice", "wonderland", "alice@example.com")
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def helpdesk() -> Iterator[tuple[FakeHelpdesk, str]]:
    fake = FakeHelpdesk()
    fake.add_agent("agent@example.com", "helpdesk-token-123")
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def oauth1_app() -> Iterator[tuple[FakeOAuth1App, str]]:
    fake = FakeOAuth1App()
    fake.register_consumer("osmo-consumer", "osmo-consumer-secret")
    fake.add_user("bob", "builder")
    with serve(fake.app) as url:
        yield fake, url


@dataclass
class Osmo:
    """A running Osmo API and ways to call it."""

    url: str
    services: Services
    client: httpx.AsyncClient

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def token(self, tenant_key: str | None = None, admin: bool = False, **claims: Any) -> str:
        return mint_token(
            WORKSPACE_SECRET,
            "test",
            tenant_key=tenant_key,
            is_admin=admin or tenant_key is None,
            **claims,
        )

    def headers(self, tenant_key: str | None = None, admin: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(tenant_key, admin)}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        tenant: str | None = None,
        admin: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {**self.headers(tenant, admin), **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)


async def start_osmo(settings: Settings) -> AsyncIterator[Osmo]:
    services = Services.build(settings)
    app = create_app(settings, services=services)
    with serve(app) as url:
        services.settings.public_url = url
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Osmo(url, services, client)
    services.engine.dispose()


@pytest.fixture
async def osmo(database_url: str) -> AsyncIterator[Osmo]:
    """Osmo on a loopback port over a fresh database (both backends)."""
    async for running in start_osmo(make_settings(database_url)):
        yield running


@pytest.fixture
async def osmo_sqlite(sqlite_url: str) -> AsyncIterator[Osmo]:
    """Osmo on a loopback port over a fresh SQLite database."""
    async for running in start_osmo(make_settings(sqlite_url)):
        yield running


async def create_crm_integration(
    osmo: Osmo, crm_url: str, key: str = "crm", auth_options: tuple[str, ...] = ("oauth2",)
) -> dict[str, Any]:
    response = await osmo.call(
        "POST",
        "/integrations",
        json={
            "key": key,
            "connectorKey": "fake-crm",
            "clientId": CRM_CLIENT[0],
            "clientSecret": CRM_CLIENT[1],
            "parameters": {"baseUrl": crm_url},
            "authOptions": list(auth_options),
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())

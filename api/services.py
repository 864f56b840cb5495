"""Everything the API's routes share, built once per app."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.known_customers import KnownCustomers
from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from core.batch_writer import BatchWriter
from core.blobs import connect
from core.crypto import Encryptor
from core.db import create_db_engine, migrate
from core.elements.snapshot_cache import SnapshotCache
from core.elements.snapshots import ActionSnapshot, FlowSnapshot
from core.errors import OsmoError
from core.settings import Settings
from core.stores.connections import ConnectionStore


@dataclass
class Services:
    settings: Settings
    engine: Engine
    encryptor: Encryptor
    registry: ConnectorRegistry
    connections: ConnectionStore
    runtime: ConnectorRuntime
    temporal_client: Client | None = None
    known_customers: KnownCustomers = field(default_factory=KnownCustomers)
    action_snapshots: SnapshotCache[ActionSnapshot] = field(default_factory=SnapshotCache)
    flow_snapshots: SnapshotCache[FlowSnapshot] = field(default_factory=SnapshotCache)
    webhook_logs: BatchWriter = field(init=False)
    """The incoming-webhook log rows, committed in groups (core/batch_writer.py)."""

    def __post_init__(self) -> None:
        self.webhook_logs = BatchWriter(self.engine)

    async def temporal(self) -> Client:
        """The Temporal client, connected on first use (the API starts without Temporal)."""
        if self.temporal_client is None:
            try:
                self.temporal_client = await connect(self.settings)
            except RuntimeError as exc:  # the SDK's "Failed client connect"
                raise OsmoError(
                    "unavailable",
                    "temporal_unavailable",
                    "Temporal is not reachable; flow runs and actions need it",
                    status=503,
                ) from exc
        return self.temporal_client

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        engine: Engine | None = None,
    ) -> Services:
        engine = engine or create_db_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        migrate(engine)
        encryptor = Encryptor.from_setting(settings.encryption_keys)
        registry = ConnectorRegistry(settings.extra_connector_paths)
        connections = ConnectionStore(engine, encryptor)
        runtime = ConnectorRuntime(
            registry,
            connections,
            DatabaseApiLogSink(engine),
            transport=transport,
            timeout=settings.http_timeout_seconds,
            body_limit=settings.log_body_limit,
            refresh_margin=settings.refresh_margin_seconds,
            allow_private_http=settings.allow_private_http,
        )
        return cls(settings, engine, encryptor, registry, connections, runtime)

    async def aclose(self) -> None:
        await self.runtime.aclose()

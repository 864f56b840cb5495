"""Osmo's Temporal worker: `python worker.py`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.connectors import ConnectorActivities
from activities.data_links import DataLinkActivities
from activities.http import HttpActivities
from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from core.blobs import connect
from core.crypto import Encryptor
from core.db import create_db_engine, migrate
from core.settings import Settings, get_settings
from core.stores.connections import ConnectionStore
from workflows.action_run import ActionRunWorkflow
from workflows.api_request import ApiRequestWorkflow
from workflows.flow_run import FlowRunWorkflow

WORKFLOWS = [ApiRequestWorkflow, FlowRunWorkflow, ActionRunWorkflow]


@dataclass
class Activities:
    """The worker's activity classes, built once with their clients."""

    connectors: ConnectorActivities
    data_links: DataLinkActivities
    http: HttpActivities

    def methods(self) -> list[Callable[..., Any]]:
        return [
            self.connectors.api_request,
            self.connectors.run_operation,
            self.connectors.collection_method,
            self.connectors.test_connection,
            self.data_links.create_data_link,
            self.data_links.find_data_link,
            self.data_links.delete_data_link,
            self.http.custom_http_request,
            self.http.app_api_request,
        ]

    async def aclose(self) -> None:
        """Closes the pooled HTTP clients."""
        await self.connectors.runtime.aclose()
        await self.http.aclose()


def build_activities(settings: Settings) -> Activities:
    engine = create_db_engine(settings.database_url)
    migrate(engine)
    connections = ConnectionStore(engine, Encryptor.from_setting(settings.encryption_keys))
    runtime = ConnectorRuntime(
        ConnectorRegistry(settings.extra_connector_paths),
        connections,
        DatabaseApiLogSink(engine),
        timeout=settings.http_timeout_seconds,
        body_limit=settings.log_body_limit,
        refresh_margin=settings.refresh_margin_seconds,
        allow_private_http=settings.allow_private_http,
    )
    return Activities(
        ConnectorActivities(runtime, connections),
        DataLinkActivities(engine),
        HttpActivities(settings, DatabaseApiLogSink(engine)),
    )


def build_worker(client: Client, settings: Settings, activities: Activities) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        graceful_shutdown_timeout=timedelta(seconds=20),
        workflows=WORKFLOWS,
        activities=activities.methods(),
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    client = await connect(settings)
    activities = build_activities(settings)
    logging.getLogger("osmo.worker").info(
        "worker polling task queue %r on %s", settings.task_queue, settings.temporal_address
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Finish running activities (up to the graceful timeout) instead of dropping them.
        loop.add_signal_handler(signum, stop.set)
    async with build_worker(client, settings, activities):
        await stop.wait()
    await activities.aclose()


if __name__ == "__main__":
    asyncio.run(main())

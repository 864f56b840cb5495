"""Osmo's Temporal worker: `python worker.py`."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.connectors import ConnectorActivities
from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from core.crypto import Encryptor
from core.db import create_db_engine, migrate
from core.settings import Settings, get_settings
from core.stores.connections import ConnectionStore
from workflows.api_request import ApiRequestWorkflow
from workflows.flow_run import FlowRunWorkflow

WORKFLOWS = [ApiRequestWorkflow, FlowRunWorkflow]


def build_activities(settings: Settings) -> ConnectorActivities:
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
    )
    return ConnectorActivities(runtime, connections)


def build_worker(client: Client, settings: Settings, activities: ConnectorActivities) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        graceful_shutdown_timeout=timedelta(seconds=20),
        workflows=WORKFLOWS,
        activities=[
            activities.api_request,
            activities.run_operation,
            activities.collection_method,
            activities.test_connection,
        ],
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
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
    await activities.runtime.aclose()


if __name__ == "__main__":
    asyncio.run(main())

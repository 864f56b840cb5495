"""Osmo's Temporal worker: `python worker.py`."""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

from activities.connectors import ConnectorActivities
from activities.data_links import DataLinkActivities
from activities.event_pulls import EventPullActivities
from activities.event_sync import EventSyncActivities
from activities.events import EventActivities
from activities.http import HttpActivities
from activities.limits import LimitActivities
from connectors.registry import ConnectorRegistry
from connectors.runtime import ConnectorRuntime, DatabaseApiLogSink
from core.blobs import blob_store, connect
from core.crypto import Encryptor
from core.db import create_db_engine, migrate
from core.logging import configure_logging
from core.settings import Settings, get_settings
from core.stores.connections import ConnectionStore
from workflows.action_run import ActionRunWorkflow
from workflows.event_inbox import EventInboxWorkflow
from workflows.event_sync import EventSyncWorkflow
from workflows.flow_run import FlowRunWorkflow
from workflows.nodes.base import use_http_timeout
from workflows.starts import start_event_flow_run

WORKFLOWS = [
    FlowRunWorkflow,
    ActionRunWorkflow,
    EventInboxWorkflow,
    EventSyncWorkflow,
]


def activity_methods(instance: object) -> list[Callable[..., Any]]:
    """Every `@activity.defn` method of `instance`'s class, bound to `instance`."""
    # The SDK has no public accessor for a function's activity definition; this is the one
    # its worker reads when it registers activities.
    return [
        getattr(instance, name)
        for name, member in inspect.getmembers(type(instance), inspect.isfunction)
        if activity._Definition.from_callable(member) is not None
    ]


@dataclass
class Activities:
    """The worker's activity classes, built once with their clients."""

    connectors: ConnectorActivities
    data_links: DataLinkActivities
    http: HttpActivities
    event_sync: EventSyncActivities
    events: EventActivities
    event_pulls: EventPullActivities
    limits: LimitActivities

    def methods(self) -> list[Callable[..., Any]]:
        """Every activity of every class above: a method defined is a method registered."""
        return [
            method
            for field in fields(self)
            for method in activity_methods(getattr(self, field.name))
        ]

    async def aclose(self) -> None:
        """Closes the pooled HTTP clients."""
        await self.connectors.runtime.aclose()
        await self.http.aclose()


def build_activities(settings: Settings) -> Activities:
    engine = create_db_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    migrate(engine)
    encryptor = Encryptor.from_setting(settings.encryption_keys)
    connections = ConnectionStore(engine, encryptor)
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
        EventSyncActivities(settings, engine, runtime, connections, encryptor),
        EventActivities(engine, settings, runtime.registry, start_event_flow_run),
        EventPullActivities(engine, runtime, connections, blob_store(settings), encryptor),
        LimitActivities(engine),
    )


WORKFLOW_TASK_POLLS = 10
NONSTICKY_TO_STICKY_POLL_RATIO = 1.0
"""Most of Osmo's runs finish in their first workflow task (an action, a flow of short steps run
as local activities), and a first task is always on the shared task queue, never on a worker's
sticky one. The SDK's default (5 polls, 1 shared for 4 sticky) leaves one poll waiting for them:
under load tasks then queue in the server (more persistence per run) instead of matching a
waiting poll. Half the polls wait on the shared queue instead (issue 12)."""


def build_worker(client: Client, settings: Settings, activities: Activities) -> Worker:
    use_http_timeout(settings.http_timeout_seconds)  # activity timeouts follow it
    return Worker(
        client,
        task_queue=settings.task_queue,
        graceful_shutdown_timeout=timedelta(seconds=20),
        workflows=WORKFLOWS,
        activities=activities.methods(),
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(WORKFLOW_TASK_POLLS),
        nonsticky_to_sticky_poll_ratio=NONSTICKY_TO_STICKY_POLL_RATIO,
        max_cached_workflows=settings.worker_cached_workflows,
    )


async def main() -> None:
    configure_logging()
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

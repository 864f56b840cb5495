"""Short steps run as local activities and stay durable: `kill -9` the worker mid-step and the
step runs again; kill it after the step and the step is never repeated."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from core.blobs import with_converter
from core.settings import Settings
from tests.conftest import WORKSPACE_SECRET, make_settings
from tests.fakes import serve
from tests.fakes.held_api import HeldApi
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowSnapshot

ROOT = Path(__file__).resolve().parents[2]


def nodes(url: str) -> dict[str, dict]:
    """POST /first, a pause, POST /second: two short steps with a point to crash between."""
    return {
        "trigger": {"type": "api-trigger", "links": [{"key": "first"}]},
        "first": {
            "type": "custom-http-request",
            "config": {"method": "POST", "url": f"{url}/first", "body": {"n": 1}},
            "timeoutSeconds": 30,
            "links": [{"key": "pause"}],
        },
        "pause": {"type": "delay", "config": {"seconds": 3}, "links": [{"key": "second"}]},
        "second": {
            "type": "custom-http-request",
            "config": {"method": "POST", "url": f"{url}/second", "body": {"n": 2}},
        },
    }


def start_worker(settings: Settings, address: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OSMO_ENV": "test",
        "OSMO_WORKSPACE_KEY": settings.workspace_key,
        "OSMO_WORKSPACE_SECRET": WORKSPACE_SECRET,
        "OSMO_ENCRYPTION_KEYS": settings.encryption_keys,
        "OSMO_DATABASE_URL": settings.database_url,
        "OSMO_TEMPORAL_ADDRESS": address,
        "OSMO_TASK_QUEUE": settings.task_queue,
        "OSMO_BLOB_STORE": settings.blob_store,
        "OSMO_ALLOW_PRIVATE_HTTP": "true",  # the held API is on loopback
    }
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env)


def kill(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)


async def until(condition: Callable[[], bool], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def until_async(condition: Callable[[], Awaitable[int | None]], seconds: float = 90) -> int:
    deadline = time.monotonic() + seconds
    while (value := await condition()) is None:
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)
    return value


@pytest.fixture
def held() -> Iterator[tuple[HeldApi, str]]:
    api = HeldApi()
    with serve(api.app) as url:
        yield api, url
        api.release()


async def test_killed_mid_step_reruns_it_and_after_the_step_never_repeats_it(
    tmp_path: Path, held: tuple[HeldApi, str], env: WorkflowEnvironment
) -> None:
    api, url = held
    settings = make_settings(f"sqlite:///{tmp_path / 'osmo.db'}", task_queue=f"osmo-{uuid.uuid4()}")
    address = env.client.service_client.config.target_host
    client = with_converter(env.client, settings)  # the worker encrypts payloads
    workers = [start_worker(settings, address)]
    try:
        api.hold("first")
        handle = await client.start_workflow(
            FlowRunWorkflow.run,
            FlowRunInput(FlowSnapshot("local-steps", "instance", nodes(url))),
            id=f"local-steps-{uuid.uuid4()}",
            task_queue=settings.task_queue,
            # The killed worker's task is retried after this (the default is 10 s).
            task_timeout=timedelta(seconds=2),
        )
        await until(api.held.is_set)  # mid-step: /first was sent and has no answer yet
        kill(workers[0])
        # Two replacements (started together, to keep the test short): one runs the step again,
        # since nothing recorded its result; the other takes over when that one is killed.
        workers += [start_worker(settings, address), start_worker(settings, address)]
        await until(lambda: api.count("POST", "first") == 2)

        async def pausing() -> int | None:
            """The pid of the worker that recorded the step and started the pause, once it did."""
            events = [e async for e in handle.fetch_history_events()]
            if EventType.EVENT_TYPE_TIMER_STARTED not in [e.event_type for e in events]:
                return None
            completed = [
                e.workflow_task_completed_event_attributes.identity
                for e in events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
            ]
            return int(completed[-1].split("@")[0])

        holder = await until_async(pausing)
        # After the step: its holder dies; the other worker replays and must not send /first.
        kill(next(w for w in workers if w.pid == holder))
        result = await handle.result()
        assert result.state == "completed", result
        assert api.count("POST", "first") == 2
        assert api.count("POST", "second") == 1
        # The steps ran as local activities: markers in history, no activity tasks scheduled.
        events = [e async for e in handle.fetch_history_events()]
        assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in [e.event_type for e in events]
        markers = [
            e.marker_recorded_event_attributes.marker_name
            for e in events
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        ]
        assert markers.count("core_local_activity") == 2, markers
        assert "core_patch" in markers, markers  # older histories replay without the patch
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)

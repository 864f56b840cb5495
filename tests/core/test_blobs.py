"""The claim check: large payloads go to the blob store encrypted, history keeps a reference."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from temporalio import activity
from temporalio.api.common.v1 import Payload
from temporalio.converter import default
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import cli
from activities.connectors import CollectionMethodInput
from core.blobs import (
    ENCODING,
    BlobNotFound,
    ClaimCheckCodec,
    LocalBlobStore,
    S3BlobStore,
    with_converter,
)
from core.crypto import DecryptionError, Encryptor, generate_key
from core.settings import get_settings
from tests.conftest import make_settings
from workflows.flow_run import FlowRunWorkflow
from workflows.flow_state import FlowRunInput, FlowSnapshot


def codec(store: Any, threshold: int = 1024) -> ClaimCheckCodec:
    return ClaimCheckCodec(store, Encryptor.from_setting(f"k1:{generate_key()}"), threshold)


def payload(text: str) -> Payload:
    return default().payload_converter.to_payloads([text])[0]


async def test_small_payloads_pass_untouched(tmp_path: Path) -> None:
    small = payload("hello")
    assert await codec(LocalBlobStore(tmp_path)).encode([small]) == [small]
    assert not any(tmp_path.iterdir())


async def test_large_payloads_are_stored_encrypted_and_come_back(tmp_path: Path) -> None:
    check = codec(LocalBlobStore(tmp_path))
    large = payload("secret-looking-record " * 500)
    [encoded] = await check.encode([large])
    assert encoded.metadata["encoding"] == ENCODING
    assert encoded.ByteSize() < 200
    [blob] = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert b"secret-looking-record" not in blob.read_bytes()  # encrypted at rest
    assert await check.decode([encoded]) == [large]


async def test_prune_removes_blobs_unused_for_long_and_keeps_those_read(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    check = codec(store)
    [old] = await check.encode([payload("old " * 2000)])
    [read] = await check.encode([payload("read " * 2000)])
    [fresh] = await check.encode([payload("fresh " * 2000)])
    long_ago = time.time() - 100 * 86400
    for blob in tmp_path.rglob("*"):
        if blob.is_file() and fresh.metadata["osmo-blob-key"].decode() != blob.name:
            os.utime(blob, (long_ago, long_ago))
    await check.decode([read])  # a replay reads it: still in use
    assert store.prune(timedelta(days=90)) == 1
    with pytest.raises(BlobNotFound):
        await check.decode([old])
    assert len(await check.decode([read, fresh])) == 2


def test_prune_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    stale = tmp_path / "ab" / "ab12"
    stale.parent.mkdir()
    stale.write_bytes(b"x")
    os.utime(stale, (0, 0))
    monkeypatch.setenv("OSMO_BLOB_STORE", str(tmp_path))
    get_settings.cache_clear()
    try:
        cli.main(["prune-blobs", "--days", "1"])
    finally:
        get_settings.cache_clear()
    assert "removed 1 blobs" in capsys.readouterr().out and not stale.exists()


async def test_a_tampered_blob_is_refused(tmp_path: Path) -> None:
    check = codec(LocalBlobStore(tmp_path))
    [encoded] = await check.encode([payload("x" * 5000)])
    [blob] = [p for p in tmp_path.rglob("*") if p.is_file()]
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    with pytest.raises(DecryptionError):
        await check.decode([encoded])


@pytest.fixture
def s3_url() -> Iterator[str]:
    """An S3-compatible server (moto) on a loopback port, with a bucket."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket="osmo")
    yield endpoint
    server.stop()


async def test_s3_store_round_trip(s3_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    store = S3BlobStore("s3://osmo/claims", endpoint_url=s3_url)
    check = codec(store)
    large = payload("y" * 10_000)
    [encoded] = await check.encode([large])
    listed = store.client.list_objects_v2(Bucket="osmo", Prefix="claims/")
    assert [o["Key"] for o in listed["Contents"]] == [
        f"claims/{encoded.metadata['osmo-blob-key'].decode()}"
    ]
    assert await check.decode([encoded]) == [large]


@activity.defn(name="collection_method")
async def big_page(input: CollectionMethodInput) -> dict[str, Any]:
    """A 3 MB page of records: over Temporal's 2 MB payload limit."""
    return {"records": [{"id": str(n), "notes": "n" * 1000} for n in range(3000)]}


FLOW: dict[str, dict[str, Any]] = {
    "t": {"type": "api-trigger", "links": [{"key": "list"}]},
    "list": {
        "type": "list-data-records",
        "config": {"collectionKey": "contacts"},
        "links": [{"key": "each"}],
    },
    "each": {
        "type": "for-each",
        "config": {"items": {"$var": "input.list.records"}},
        "concurrency": 50,
        "links": [{"key": "id"}],
    },
    "id": {"type": "transform-data", "config": {"value": {"$var": "input.each.id"}}},
}


async def test_a_page_over_temporals_limit_passes_by_reference(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = make_settings("sqlite://", blob_store=str(tmp_path))
    client, queue = with_converter(time_skipping_env.client, settings), f"blobs-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[FlowRunWorkflow], activities=[big_page]):
        handle = await client.start_workflow(
            FlowRunWorkflow.run,
            FlowRunInput(
                FlowSnapshot("big", "i-1", FLOW, connection_id="c-1"), connection_limit=None
            ),
            id=f"big-{uuid.uuid4()}",
            task_queue=queue,
        )
        result = await handle.result()
        history = await handle.fetch_history()
    ids = [o for r in result.node_runs if r.node_key == "id" for o in r.outputs]
    assert sorted(ids) == sorted(str(n) for n in range(3000))
    largest = max(
        len(p.SerializeToString())
        for event in history.events
        for field in ("activity_task_completed_event_attributes",
                      "workflow_execution_completed_event_attributes")
        if event.HasField(field)
        for p in getattr(event, field).result.payloads
    )  # fmt: skip
    assert largest < 1024  # the history holds references, not the page
    stored = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert stored > 3_000_000

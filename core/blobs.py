"""Claim check for Temporal payloads: large ones live in a blob store, history keeps a reference.

Pages of records, big node outputs and the state a long flow carries into continue-as-new would
otherwise approach Temporal's 2 MB payload limit (and bloat every history that holds them).
`ClaimCheckCodec` runs on every client and worker: a payload larger than
`OSMO_PAYLOAD_OFFLOAD_BYTES` is encrypted (AES-GCM, the deployment's keys) and stored under the
SHA-256 of its contents; the history holds a small payload naming it. Decoding fetches it back.

Osmo's converter (`data_converter`) offloads first and then encrypts every payload that goes to
Temporal (`core/payload_codec.py`), references included. In that order the size threshold is
measured on the real payload, a blob is sealed once (not a sealed payload sealed again), and
the blob's key (a hash of its plaintext, which would let someone confirm a guessed value) is
not readable in history.

Stores: a local directory by default (shared by the API and workers), or an S3-compatible bucket
(`OSMO_BLOB_STORE=s3://bucket/prefix`, optional `boto3`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import temporalio.converter
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from core.crypto import Encryptor
from core.payload_codec import CodecChain, EncryptionCodec
from core.payload_json import OsmoPayloadConverter
from core.settings import Settings

ENCODING = b"binary/osmo-claim-check"
KEY = "osmo-blob-key"


class BlobNotFound(LookupError):
    """A payload names a blob the store does not have (deleted, or another store)."""


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...


class LocalBlobStore:
    """Blobs as files `<root>/<key[:2]>/<key>`, written atomically."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError(f"bad blob key {key!r}")
        return self.root / key[:2] / key

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return  # content-addressed: same key, same plaintext
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)

    def _get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        with contextlib.suppress(OSError):
            os.utime(path)  # in use: `prune` keeps it
        return data

    def prune(self, older_than: timedelta) -> int:
        """Deletes blobs neither written nor read for `older_than`; returns how many.

        Choose more than the namespace's retention plus the longest a run may wait: a running
        workflow whose blob is gone fails when its history is next replayed.
        """
        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        for path in self.root.glob("*/*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, key)


class S3BlobStore:
    """Blobs as objects `<prefix>/<key>` in an S3-compatible bucket (boto3, in a thread)."""

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        try:
            import boto3
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise RuntimeError("an s3:// blob store needs boto3: pip install 'osmo[s3]'") from exc
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(
            self.client.put_object, Bucket=self.bucket, Key=self._name(key), Body=data
        )

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
            except self.client.exceptions.NoSuchKey as exc:
                raise BlobNotFound(key) from exc
            return bytes(body.read())

        return await asyncio.to_thread(read)


def blob_store(settings: Settings) -> BlobStore:
    if settings.blob_store.startswith("s3://"):
        return S3BlobStore(settings.blob_store, settings.s3_endpoint_url)
    return LocalBlobStore(settings.blob_store.removeprefix("file://"))


class ClaimCheckCodec(PayloadCodec):
    def __init__(self, store: BlobStore, encryptor: Encryptor, threshold: int) -> None:
        self.store, self.encryptor, self.threshold = store, encryptor, threshold

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [await self._encode(payload) for payload in payloads]

    async def _encode(self, payload: Payload) -> Payload:
        if payload.ByteSize() <= self.threshold:
            return payload
        plaintext = payload.SerializeToString()
        key = hashlib.sha256(plaintext).hexdigest()
        await self.store.put(key, self.encryptor.encrypt_bytes(plaintext))
        return Payload(
            metadata={"encoding": ENCODING, KEY: key.encode(), "size": str(len(plaintext)).encode()}
        )

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [await self._decode(payload) for payload in payloads]

    async def _decode(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key = payload.metadata[KEY].decode()
        plaintext = self.encryptor.decrypt_bytes(await self.store.get(key))
        if hashlib.sha256(plaintext).hexdigest() != key:
            raise ValueError(f"blob {key} does not match its key")
        return Payload.FromString(plaintext)


def payload_codec(settings: Settings) -> CodecChain:
    """Osmo's payload codec: claim check for large payloads, then encryption of all of them."""
    encryptor = Encryptor.from_setting(settings.encryption_keys)
    claim_check = ClaimCheckCodec(blob_store(settings), encryptor, settings.payload_offload_bytes)
    return CodecChain([claim_check, EncryptionCodec(encryptor)])


def data_converter(settings: Settings) -> DataConverter:
    """Temporal's default converter with Osmo's codec, failures included, and a faster JSON
    converter writing the same JSON.

    The default failure converter leaves a failure's message and stack trace in plaintext
    (only its details are payloads); the encoded-attributes one moves them into a payload
    the codec seals, so an error quoting a value does not leak it into history.
    """
    return dataclasses.replace(
        temporalio.converter.default(),
        payload_converter_class=OsmoPayloadConverter,  # the same JSON, fast (core/payload_json)
        payload_codec=payload_codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(settings: Settings) -> Client:
    """A Temporal client for Osmo: its address, namespace and data converter."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )


def with_converter(client: Client, settings: Settings) -> Client:
    """`client` (its connection) with Osmo's data converter."""
    config = client.config()
    config["data_converter"] = data_converter(settings)
    return Client(**config)

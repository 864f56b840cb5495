"""Encryption of every Temporal payload, so history, memo and failures hold no plaintext.

Temporal's server (and its database, and anyone who can read it) sees only what the payload
codec hands it. `EncryptionCodec` seals each payload with AES-GCM under the deployment's keys
(`OSMO_ENCRYPTION_KEYS`, the same `Encryptor` as the database columns): the first key seals,
every listed key opens, so rotating keys works as for the database. Payloads recorded before
encryption was turned on (and recorded test histories) carry no encryption marker and are
decoded as they are.

`CodecChain` runs several codecs in order on the way out and in reverse on the way in: Osmo's
converter offloads large payloads first (claim check, `core/blobs.py`) and then encrypts what
goes into history, references included.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from core.crypto import Encryptor

ENCODING = b"binary/encrypted"
"""The `encoding` metadata of a sealed payload (the name Temporal's encryption samples use)."""

KEY_ID = "encryption-key-id"


class EncryptionCodec(PayloadCodec):
    """Seals each payload, metadata included, into an opaque `binary/encrypted` payload."""

    def __init__(self, encryptor: Encryptor) -> None:
        self.encryptor = encryptor

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._seal(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._open(payload) for payload in payloads]

    def _seal(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") == ENCODING:
            return payload  # already sealed (a payload re-sent as it was read)
        return Payload(
            metadata={
                "encoding": ENCODING,
                KEY_ID: self.encryptor.active_key_id.encode(),
            },
            # The serialized payload, so its metadata (the encoding, a claim-check key) is
            # hidden too.
            data=self.encryptor.encrypt_bytes(payload.SerializeToString()),
        )

    def _open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # plaintext: written before encryption, or by a recorded test
        return Payload.FromString(self.encryptor.decrypt_bytes(payload.data))


class CodecChain(PayloadCodec):
    """Codecs applied in order when encoding and in reverse order when decoding."""

    def __init__(self, codecs: Sequence[PayloadCodec]) -> None:
        self.codecs = list(codecs)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        encoded = list(payloads)
        for codec in self.codecs:
            encoded = await codec.encode(encoded)
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = list(payloads)
        for codec in reversed(self.codecs):
            decoded = await codec.decode(decoded)
        return decoded

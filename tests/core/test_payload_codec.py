"""Every payload is sealed; plaintext and old claim-check references still decode; keys rotate."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import default
from temporalio.exceptions import ApplicationError

from core.blobs import ENCODING as CLAIM_CHECK
from core.blobs import ClaimCheckCodec, LocalBlobStore, data_converter
from core.crypto import DecryptionError, Encryptor, generate_key
from core.payload_codec import ENCODING, KEY_ID, CodecChain, EncryptionCodec
from tests.conftest import make_settings

SECRET = "canary-secret-7f3a9c"


def json_payload(value: object) -> Payload:
    return default().payload_converter.to_payloads([value])[0]


async def test_small_payloads_are_sealed_and_open_again() -> None:
    codec = EncryptionCodec(Encryptor.from_setting(f"k1:{generate_key()}"))
    original = json_payload({"note": SECRET})
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    assert SECRET.encode() not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()  # the metadata is sealed too
    assert await codec.decode([sealed]) == [original]


async def test_plaintext_payloads_from_before_encryption_decode_as_they_are() -> None:
    codec = EncryptionCodec(Encryptor.from_setting(f"k1:{generate_key()}"))
    plain = json_payload({"recorded": True})
    assert await codec.decode([plain]) == [plain]


async def test_rotated_keys_still_open_old_payloads_and_seal_with_the_new_one() -> None:
    old, new = generate_key(), generate_key()
    [sealed] = await EncryptionCodec(Encryptor.from_setting(f"old:{old}")).encode([json_payload(1)])
    rotated = EncryptionCodec(Encryptor.from_setting(f"new:{new},old:{old}"))
    assert await rotated.decode([sealed]) == [json_payload(1)]
    assert (await rotated.encode([json_payload(2)]))[0].metadata[KEY_ID] == b"new"
    with pytest.raises(DecryptionError):
        await EncryptionCodec(Encryptor.from_setting(f"new:{new}")).decode([sealed])


async def test_large_payloads_are_offloaded_then_the_reference_is_sealed(tmp_path: Path) -> None:
    encryptor = Encryptor.from_setting(f"k1:{generate_key()}")
    claim_check = ClaimCheckCodec(LocalBlobStore(tmp_path), encryptor, 1024)
    chain = CodecChain([claim_check, EncryptionCodec(encryptor)])
    big = json_payload({"note": SECRET, "pad": "x" * 5000})
    [sealed] = await chain.encode([big])
    assert sealed.metadata["encoding"] == ENCODING and len(sealed.data) < 1024
    assert CLAIM_CHECK not in sealed.SerializeToString()  # the blob's key is not readable
    assert await chain.decode([sealed]) == [big]
    # A reference written before encryption (plain claim-check payload) still resolves.
    [plain_reference] = await claim_check.encode([big])
    assert await chain.decode([plain_reference]) == [big]


async def test_failure_messages_and_stack_traces_are_sealed(tmp_path: Path) -> None:
    converter = data_converter(make_settings("sqlite://", blob_store=str(tmp_path)))
    try:
        raise ApplicationError(f"the app answered {SECRET}", {"body": SECRET})
    except ApplicationError as error:
        failure = Failure()
        await converter.encode_failure(error, failure)
    assert SECRET.encode() not in failure.SerializeToString()
    assert failure.message == "Encoded failure"
    decoded = await converter.decode_failure(Failure.FromString(failure.SerializeToString()))
    assert str(decoded) == f"the app answered {SECRET}"

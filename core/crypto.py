"""AES-GCM encryption of secrets at rest, with key ids so keys can rotate."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1"


class DecryptionError(Exception):
    """The ciphertext is malformed, or names a key this deployment does not have."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Encryptor:
    """Encrypts with the first configured key and decrypts with any of them.

    Ciphertexts look like `enc1:<keyId>:<base64url(nonce || ciphertext+tag)>`.
    """

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        for key_id, key in keys:
            if len(key) != 32:
                raise ValueError(f"encryption key {key_id!r} must be 32 bytes")
            if ":" in key_id:
                raise ValueError("key ids may not contain ':'")
        self.active_key_id = keys[0][0]
        self._keys = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def from_setting(cls, value: str) -> Encryptor:
        """Builds an encryptor from `keyId:base64key,keyId:base64key`."""
        keys = []
        for part in value.split(","):
            key_id, _, b64 = part.strip().partition(":")
            keys.append((key_id, _b64decode(b64)))
        return cls(keys)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.active_key_id].encrypt(nonce, plaintext.encode(), None)
        token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}:{self.active_key_id}:{token}"

    def decrypt(self, ciphertext: str) -> str:
        prefix, key_id, token = [*ciphertext.split(":", 2), "", ""][:3]
        if prefix != PREFIX or key_id not in self._keys:
            raise DecryptionError(f"cannot decrypt value sealed with key {key_id!r}")
        raw = _b64decode(token)
        try:
            return self._keys[key_id].decrypt(raw[:12], raw[12:], None).decode()
        except Exception as exc:
            raise DecryptionError("ciphertext failed authentication") from exc

    def encrypt_bytes(self, plaintext: bytes) -> bytes:
        """Binary form: `<keyId>:` then nonce || ciphertext+tag (for blobs, not columns)."""
        nonce = os.urandom(12)
        sealed = self._keys[self.active_key_id].encrypt(nonce, plaintext, None)
        return f"{self.active_key_id}:".encode() + nonce + sealed

    def decrypt_bytes(self, ciphertext: bytes) -> bytes:
        key_id, _, raw = ciphertext.partition(b":")
        aead = self._keys.get(key_id.decode(errors="replace"))
        if aead is None:
            raise DecryptionError(f"cannot decrypt blob sealed with key {key_id!r}")
        try:
            return aead.decrypt(raw[:12], raw[12:], None)
        except Exception as exc:
            raise DecryptionError("blob failed authentication") from exc

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":")))

    def decrypt_json(self, ciphertext: str) -> Any:
        return json.loads(self.decrypt(ciphertext))

    def key_id_of(self, ciphertext: str) -> str:
        return ciphertext.split(":", 2)[1]


def generate_key() -> str:
    """A new random key in the `OSMO_ENCRYPTION_KEYS` format's base64url form."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()

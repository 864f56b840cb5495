from __future__ import annotations

import pytest

from core.crypto import DecryptionError, Encryptor, generate_key


def test_round_trip_and_fresh_nonce_each_time() -> None:
    encryptor = Encryptor.from_setting(f"a:{generate_key()}")
    first, second = encryptor.encrypt("secret"), encryptor.encrypt("secret")
    assert first != second and first.startswith("enc1:a:")
    assert encryptor.decrypt(first) == encryptor.decrypt(second) == "secret"
    assert encryptor.decrypt_json(encryptor.encrypt_json({"k": [1, "v"]})) == {"k": [1, "v"]}


def test_rotation_old_key_still_decrypts_new_key_encrypts() -> None:
    old_key = generate_key()
    old = Encryptor.from_setting(f"old:{old_key}")
    sealed = old.encrypt("token")
    rotated = Encryptor.from_setting(f"new:{generate_key()},old:{old_key}")
    assert rotated.decrypt(sealed) == "token"
    assert rotated.key_id_of(rotated.encrypt("token")) == "new"


def test_tampering_and_unknown_keys_fail() -> None:
    encryptor = Encryptor.from_setting(f"a:{generate_key()}")
    sealed = encryptor.encrypt("secret")
    tampered = sealed[:-2] + ("AA" if not sealed.endswith("AA") else "BB")
    with pytest.raises(DecryptionError):
        encryptor.decrypt(tampered)
    with pytest.raises(DecryptionError):
        Encryptor.from_setting(f"b:{generate_key()}").decrypt(sealed)
    with pytest.raises(ValueError, match="32 bytes"):
        Encryptor.from_setting("a:c2hvcnQ")

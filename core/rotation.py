"""Key rotation: re-encrypt every secret column with the active key."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.crypto import Encryptor
from core.models import Connection, Integration, OAuthState

ENCRYPTED_COLUMNS: dict[type, tuple[str, ...]] = {
    Integration: ("client_secret_encrypted",),
    Connection: ("credentials_encrypted", "inputs_encrypted"),
    OAuthState: ("secret_encrypted",),
}


def reencrypt_all(engine: Engine, encryptor: Encryptor) -> int:
    """Re-seals values sealed with an older key; returns how many changed. One transaction."""
    changed = 0
    with Session(engine) as session:
        for model, columns in ENCRYPTED_COLUMNS.items():
            rows: list[Any] = list(session.exec(select(model)).all())
            for row in rows:
                for column in columns:
                    value = getattr(row, column)
                    if value and encryptor.key_id_of(value) != encryptor.active_key_id:
                        setattr(row, column, encryptor.encrypt(encryptor.decrypt(value)))
                        changed += 1
                session.add(row)
        session.commit()
    return changed

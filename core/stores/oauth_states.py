"""Single-use, signed, expiring `state` for OAuth round trips through the browser."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import update
from sqlmodel import Session

from core.crypto import Encryptor
from core.models import OAuthState, utcnow

PURPOSE = "osmo-oauth-state"


class StateError(Exception):
    """The state is forged, expired, already used, or returned to another browser.

    Args:
        message: Fit for the error page.
        key: `invalid_state`, or `state_browser_mismatch` when the callback reached a browser
            other than the one that started the flow.
    """

    def __init__(self, message: str, key: str = "invalid_state") -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class PendingAuth:
    """What the callback needs to finish a connection (decrypted)."""

    state: OAuthState
    secret: dict[str, Any]


def issue_state(
    session: Session,
    encryptor: Encryptor,
    signing_key: str,
    *,
    ttl_seconds: int,
    secret: dict[str, Any],
    **fields: Any,
) -> tuple[str, str]:
    """Stores a pending authorization; returns its id and the signed `state` for the provider.

    `fields` are `OAuthState` columns; `browser_hash` binds the state to the browser whose
    connect cookie hashes to it, so only that browser can complete the flow.
    """
    row = OAuthState(
        secret_encrypted=encryptor.encrypt_json(secret),
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
        **fields,
    )
    session.add(row)
    session.commit()
    claims = {"sid": row.id, "purpose": PURPOSE, "exp": int(time.time()) + ttl_seconds}
    return row.id, jwt.encode(claims, signing_key, algorithm="HS256")


def update_state_secret(
    session: Session, encryptor: Encryptor, state_id: str, secret: dict[str, Any]
) -> None:
    """Replaces the pending authorization's secret (OAuth1 learns its request token late)."""
    session.execute(
        update(OAuthState)
        .where(OAuthState.id == state_id)  # type: ignore[arg-type]
        .values(secret_encrypted=encryptor.encrypt_json(secret))
    )
    session.commit()


def consume_state(
    session: Session, encryptor: Encryptor, signing_key: str, value: str, browser_hash: str | None
) -> PendingAuth:
    """Verifies signature, expiry and browser, then marks the state used (exactly once).

    A state returned to a browser other than the one that started the flow is refused without
    being used up, so a stolen state cannot be spent to block the rightful browser.

    Raises:
        StateError: With a message fit for the error page.
    """
    try:
        claims = jwt.decode(value, signing_key, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise StateError("This authorization link has expired; start connecting again.") from exc
    except jwt.InvalidTokenError as exc:
        raise StateError("The authorization state is invalid.") from exc
    if claims.get("purpose") != PURPOSE:
        raise StateError("The authorization state is invalid.")
    row = session.get(OAuthState, claims["sid"])
    if row is None:
        raise StateError("The authorization state is invalid.")
    if (
        row.browser_hash is None
        or browser_hash is None
        or not hmac.compare_digest(row.browser_hash, browser_hash)
    ):
        raise StateError(
            "This authorization was started in another browser; start connecting again "
            "from this one.",
            key="state_browser_mismatch",
        )
    claimed = session.execute(
        update(OAuthState)
        .where(OAuthState.id == claims["sid"], OAuthState.used_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(used_at=utcnow())
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise StateError("This authorization was already used; start connecting again.")
    session.refresh(row)
    return PendingAuth(state=row, secret=encryptor.decrypt_json(row.secret_encrypted))

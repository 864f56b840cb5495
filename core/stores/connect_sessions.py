"""Connect sessions: short-lived, single-use links to the connect page.

The product's backend creates one with its customer token and sends the customer's browser to
`/connect?session=<token>`, so no API token ever appears in a page URL. Semantics:

- Only the token's SHA-256 is stored; the plaintext is returned once, at creation.
- The first browser that opens the link claims it (the hash of its connect cookie is kept);
  any other browser is refused, while the claiming browser may reopen the page until the
  session expires or is used.
- The session is used up when a connection is made through it, or when the provider's answer
  ends the attempt (the OAuth callback, success or failure). A form the customer must correct
  or credentials the app refuses leave it open for another try.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from core.errors import OsmoError
from core.models import ConnectSession, utcnow

TOKEN_PREFIX = "cs_"


def hash_token(token: str) -> str:
    """The stored form of a session token (or of a browser nonce)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(
    session: Session, *, ttl_seconds: int, **fields: Any
) -> tuple[ConnectSession, str]:
    """Stores a new connect session; returns it and its token (the only copy of it).

    Args:
        session: Database session.
        ttl_seconds: How long the link may be opened.
        **fields: `ConnectSession` columns: customer_id, integration_id, connection_id,
            auth_option_key, redirect_uri, allow_multiple.
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ConnectSession(
        token_hash=hash_token(token),
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
        **fields,
    )
    session.add(row)
    session.commit()
    return row, token


def _refused(key: str, message: str, status: int) -> OsmoError:
    return OsmoError("auth", key, message, status=status)


def _aware(value: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def open_session(session: Session, token: str, browser_hash: str) -> ConnectSession:
    """The live session behind `token`, claimed by (or already bound to) this browser.

    Raises:
        OsmoError: 404 `connect_session_not_found`, 410 `connect_session_expired` or
            `connect_session_used`, 403 `connect_session_other_browser`.
    """
    row = session.exec(
        select(ConnectSession).where(ConnectSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise _refused("connect_session_not_found", "This connect link is not valid.", status=404)
    if row.used_at is not None:
        raise _refused(
            "connect_session_used",
            "This connect link was already used; ask the app for a new one.",
            status=410,
        )
    if _aware(row.expires_at) <= utcnow():
        raise _refused(
            "connect_session_expired",
            "This connect link has expired; ask the app for a new one.",
            status=410,
        )
    if row.browser_hash is None:
        # Claim atomically: of two browsers opening the link at once, exactly one wins.
        session.execute(
            update(ConnectSession)
            .where(col(ConnectSession.id) == row.id, col(ConnectSession.browser_hash).is_(None))
            .values(browser_hash=browser_hash)
        )
        session.commit()
        session.refresh(row)
    if row.browser_hash != browser_hash:
        raise _refused(
            "connect_session_other_browser",
            "This connect link was opened in another browser; ask the app for a new one.",
            status=403,
        )
    return row


def consume_session(session: Session, session_id: str) -> bool:
    """Marks the session used; False when it already was (someone else finished first)."""
    claimed = session.execute(
        update(ConnectSession)
        .where(col(ConnectSession.id) == session_id, col(ConnectSession.used_at).is_(None))
        .values(used_at=utcnow())
    )
    session.commit()
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def release_session(session: Session, session_id: str) -> None:
    """Reopens a session whose attempt failed in a way the customer can correct."""
    session.execute(
        update(ConnectSession).where(col(ConnectSession.id) == session_id).values(used_at=None)
    )
    session.commit()

"""Keyset pagination: lists return `{items, cursor}`; pass `cursor` back for the next page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import and_, or_
from sqlmodel import Session, SQLModel

from api.params import hex_cursor, invalid_cursor

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)


class Page(BaseModel, Generic[T]):
    items: list[T]
    cursor: str | None = None


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        return datetime.fromisoformat(created), str(row_id)
    except (ValueError, TypeError) as exc:
        raise invalid_cursor() from exc


def paginate(
    session: Session,
    statement: Any,
    model: type[M],
    *,
    cursor: str | None,
    limit: int,
    newest_first: bool = False,
) -> tuple[list[M], str | None]:
    """Runs `statement` ordered by (created_at, id) from `cursor`; returns rows and next cursor."""
    created, ident = model.created_at, model.id  # type: ignore[attr-defined]
    if cursor:
        at, row_id = decode_cursor(cursor)
        if newest_first:
            statement = statement.where(or_(created < at, and_(created == at, ident < row_id)))
        else:
            statement = statement.where(or_(created > at, and_(created == at, ident > row_id)))
    order = (created.desc(), ident.desc()) if newest_first else (created.asc(), ident.asc())
    rows = list(session.exec(statement.order_by(*order).limit(limit + 1)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last.created_at, last.id)  # type: ignore[attr-defined]
    return rows, next_cursor


def seal_page_token(secret: str, query: str, token: bytes | None) -> str | None:
    """A cursor for an upstream page token (Temporal's): the token and a MAC over it and the
    query it pages, in hex, so a cursor Osmo did not hand out for this query never reaches
    the upstream (which answers those with internal errors)."""
    if not token:
        return None
    return (token + _mac(secret, query, token)).hex()


def open_page_token(secret: str, query: str, cursor: str | None) -> bytes | None:
    """The page token inside a cursor from `seal_page_token`, or 422 `invalid_cursor`."""
    sealed = hex_cursor(cursor)
    if sealed is None:
        return None
    token, mac = sealed[:-_MAC_BYTES], sealed[-_MAC_BYTES:]
    if not token or not hmac.compare_digest(mac, _mac(secret, query, token)):
        raise invalid_cursor()
    return token


_MAC_BYTES = 16


def _mac(secret: str, query: str, token: bytes) -> bytes:
    digest = hmac.new(secret.encode(), query.encode() + b"\0" + token, hashlib.sha256)
    return digest.digest()[:_MAC_BYTES]

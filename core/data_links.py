"""Data links: per-connection pairs of (product record id, external record id)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.elements.models import DataLink
from core.errors import conflict

Direction = Literal["import", "export", "both"]


def create_link(
    session: Session,
    connection_id: str,
    table_key: str,
    app_record_id: str,
    external_record_id: str,
    direction: Direction = "both",
) -> DataLink:
    """Links two records; a pair or a side that is already linked (per direction) is a 409."""
    link = DataLink(
        connection_id=connection_id,
        table_key=table_key,
        app_record_id=app_record_id,
        external_record_id=external_record_id,
        direction=direction,
    )
    session.add(link)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise conflict(
            "data_link_exists",
            "One of these records is already linked in this table",
            appRecordId=app_record_id,
            externalRecordId=external_record_id,
        ) from exc
    return link


def links_statement(
    connection_id: str,
    table_key: str,
    *,
    app_record_id: str | None = None,
    external_record_id: str | None = None,
) -> Any:
    """The statement selecting a table's links, optionally by either record id (unordered)."""
    statement = select(DataLink).where(
        DataLink.connection_id == connection_id, DataLink.table_key == table_key
    )
    if app_record_id is not None:
        statement = statement.where(DataLink.app_record_id == app_record_id)
    if external_record_id is not None:
        statement = statement.where(DataLink.external_record_id == external_record_id)
    return statement


def find_links(
    session: Session,
    connection_id: str,
    table_key: str,
    *,
    app_record_id: str | None = None,
    external_record_id: str | None = None,
) -> list[DataLink]:
    statement = links_statement(
        connection_id,
        table_key,
        app_record_id=app_record_id,
        external_record_id=external_record_id,
    )
    return list(session.exec(statement.order_by(col(DataLink.created_at), col(DataLink.id))).all())


def delete_links(
    session: Session,
    connection_id: str,
    table_key: str,
    *,
    link_id: str | None = None,
    app_record_id: str | None = None,
    external_record_id: str | None = None,
) -> int:
    statement = delete(DataLink).where(
        col(DataLink.connection_id) == connection_id, col(DataLink.table_key) == table_key
    )
    if link_id is not None:
        statement = statement.where(col(DataLink.id) == link_id)
    if app_record_id is not None:
        statement = statement.where(col(DataLink.app_record_id) == app_record_id)
    if external_record_id is not None:
        statement = statement.where(col(DataLink.external_record_id) == external_record_id)
    count = session.execute(statement).rowcount  # type: ignore[attr-defined]
    session.commit()
    return int(count)


def external_ids(
    session: Session, connection_id: str, table_key: str, app_record_ids: Sequence[str]
) -> dict[str, str]:
    """app id → external id for many records in one query."""
    rows = session.exec(
        select(DataLink).where(
            DataLink.connection_id == connection_id,
            DataLink.table_key == table_key,
            col(DataLink.app_record_id).in_(list(app_record_ids)),
        )
    ).all()
    return {row.app_record_id: row.external_record_id for row in rows}


def app_ids(
    session: Session, connection_id: str, table_key: str, external_record_ids: Sequence[str]
) -> dict[str, str]:
    """external id → app id for many records in one query."""
    rows = session.exec(
        select(DataLink).where(
            DataLink.connection_id == connection_id,
            DataLink.table_key == table_key,
            col(DataLink.external_record_id).in_(list(external_record_ids)),
        )
    ).all()
    return {row.external_record_id: row.app_record_id for row in rows}


def delete_for_connection(session: Session, connection_id: str) -> None:
    session.execute(delete(DataLink).where(col(DataLink.connection_id) == connection_id))

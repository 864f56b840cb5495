"""Activities over a connection's data link tables (the data link flow nodes).

Each checks that the table exists for the connection, as the data link routes do, so a mistyped
table key fails with `data_link_table_not_found` instead of filling a table nobody reads.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from activities.connectors import to_application_error
from core import data_links
from core.data_links import Direction
from core.elements.models import DataLink
from core.elements.store import ElementStore
from core.errors import OsmoError, bad_request, not_found
from core.models import Connection


@dataclass(frozen=True)
class CreateDataLinkInput:
    connection_id: str
    table_key: str
    app_record_id: str
    external_record_id: str
    direction: Direction = "both"


@dataclass(frozen=True)
class DataLinkQuery:
    """Which links: those of `app_record_id` and/or of `external_record_id` (one is required)."""

    connection_id: str
    table_key: str
    app_record_id: str | None = None
    external_record_id: str | None = None


def link_output(link: DataLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "appRecordId": link.app_record_id,
        "externalRecordId": link.external_record_id,
        "direction": link.direction,
    }


class DataLinkActivities:
    """Activities bound to one worker's database engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="create_data_link")
    async def create_data_link(self, input: CreateDataLinkInput) -> dict[str, Any]:
        """Links two records; returns the link.

        Raises:
            ApplicationError: non-retryable `data_link_exists` when either record is already
                linked (per direction) to another one.
        """
        return await self._in_thread(self._create, input)

    @activity.defn(name="find_data_link")
    async def find_data_link(self, input: DataLinkQuery) -> dict[str, Any]:
        """The oldest matching link, or `{}` when there is none."""
        return await self._in_thread(self._find, input)

    @activity.defn(name="delete_data_link")
    async def delete_data_link(self, input: DataLinkQuery) -> dict[str, Any]:
        """Deletes the matching links; `{deleted: 0}` when there were none (so retries pass)."""
        return await self._in_thread(self._delete, input)

    async def _in_thread(self, function: Any, input: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = await asyncio.to_thread(function, input)
        except OsmoError as exc:
            raise to_application_error(exc) from exc
        return result

    def _create(self, input: CreateDataLinkInput) -> dict[str, Any]:
        with Session(self.engine, expire_on_commit=False) as session:
            _check_table(session, input.connection_id, input.table_key)
            try:
                link = data_links.create_link(
                    session,
                    input.connection_id,
                    input.table_key,
                    input.app_record_id,
                    input.external_record_id,
                    input.direction,
                )
            except OsmoError as exc:
                # A retry of an attempt whose commit went through finds its own link.
                same = [
                    found
                    for found in data_links.find_links(
                        session,
                        input.connection_id,
                        input.table_key,
                        app_record_id=input.app_record_id,
                        external_record_id=input.external_record_id,
                    )
                    if found.direction == input.direction
                ]
                if exc.key != "data_link_exists" or not same:
                    raise
                link = same[0]
            return link_output(link)

    def _find(self, input: DataLinkQuery) -> dict[str, Any]:
        _require_a_side(input)
        with Session(self.engine, expire_on_commit=False) as session:
            _check_table(session, input.connection_id, input.table_key)
            links = data_links.find_links(
                session,
                input.connection_id,
                input.table_key,
                app_record_id=input.app_record_id,
                external_record_id=input.external_record_id,
            )
            return link_output(links[0]) if links else {}

    def _delete(self, input: DataLinkQuery) -> dict[str, Any]:
        _require_a_side(input)
        with Session(self.engine, expire_on_commit=False) as session:
            _check_table(session, input.connection_id, input.table_key)
            deleted = data_links.delete_links(
                session,
                input.connection_id,
                input.table_key,
                app_record_id=input.app_record_id,
                external_record_id=input.external_record_id,
            )
            return {"deleted": deleted}


def _check_table(session: Session, connection_id: str, table_key: str) -> None:
    connection = session.get(Connection, connection_id)
    if connection is None:
        raise not_found("connection", connection_id)
    ElementStore(session).instance("data-link-tables", table_key, connection)


def _require_a_side(input: DataLinkQuery) -> None:
    if input.app_record_id is None and input.external_record_id is None:
        raise bad_request(
            "data_link_record_missing", "Give appRecordId or externalRecordId (both were empty)"
        )

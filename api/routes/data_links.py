"""Per-connection links of data link tables."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from api.deps import ConnectionDep, SessionDep
from api.models.data_links import DataLinkCreate, DataLinkList, DataLinkPublic
from api.models.errors import errors
from api.pagination import paginate
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit
from core import data_links
from core.elements.models import DataLink
from core.elements.store import ElementStore
from core.errors import not_found, validation_error
from core.models import Connection

router = APIRouter(tags=["data-link-tables"])

PATH = "/connections/{connection_id}/data-link-tables/{key}/links"


def _table(session: Session, connection: Connection, key: str) -> str:
    ElementStore(session).instance("data-link-tables", key, connection)  # 404 if unknown
    return connection.id


@router.get(PATH, responses=errors(404))
def list_links(
    key: str,
    connection: ConnectionDep,
    session: SessionDep,
    app_record_id: Annotated[Key | None, Query(alias="appRecordId")] = None,
    external_record_id: Annotated[Key | None, Query(alias="externalRecordId")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DataLinkList:
    statement = data_links.links_statement(
        _table(session, connection, key),
        key,
        app_record_id=app_record_id,
        external_record_id=external_record_id,
    )
    links, next_cursor = paginate(session, statement, DataLink, cursor=cursor, limit=limit)
    return DataLinkList(
        items=[DataLinkPublic.model_validate(link) for link in links], cursor=next_cursor
    )


@router.post(PATH, status_code=201, responses=errors(404, 409))
def create_link(
    key: str, body: DataLinkCreate, connection: ConnectionDep, session: SessionDep
) -> DataLinkPublic:
    link = data_links.create_link(
        session,
        _table(session, connection, key),
        key,
        body.app_record_id,
        body.external_record_id,
        body.direction,
    )
    return DataLinkPublic.model_validate(link)


@router.delete(PATH, status_code=204, responses=errors(404))
def delete_links(
    key: str,
    connection: ConnectionDep,
    session: SessionDep,
    link_id: Annotated[Key | None, Query(alias="id")] = None,
    app_record_id: Annotated[Key | None, Query(alias="appRecordId")] = None,
    external_record_id: Annotated[Key | None, Query(alias="externalRecordId")] = None,
) -> Response:
    """Deletes the links matching `id`, `appRecordId` and/or `externalRecordId`."""
    if link_id is None and app_record_id is None and external_record_id is None:
        raise validation_error(
            [{"path": "query", "message": "give id, appRecordId or externalRecordId"}]
        )
    deleted = data_links.delete_links(
        session,
        _table(session, connection, key),
        key,
        link_id=link_id,
        app_record_id=app_record_id,
        external_record_id=external_record_id,
    )
    if deleted == 0:
        raise not_found("data_link", link_id or app_record_id or external_record_id or "")
    return Response(status_code=204)

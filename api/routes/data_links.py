"""Per-connection links of data link tables."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from api.deps import Caller, CallerDep, SessionDep
from api.models import ApiModel
from api.pagination import paginate
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit
from api.routes.connections import get_connection
from core import data_links
from core.elements.models import DataLink
from core.elements.store import ElementStore
from core.errors import not_found, validation_error

router = APIRouter(tags=["data-link-tables"])


class LinkCreate(ApiModel):
    app_record_id: str
    external_record_id: str
    direction: Literal["import", "export", "both"] = "both"


def _public(link: DataLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "connectionId": link.connection_id,
        "dataLinkTableKey": link.table_key,
        "appRecordId": link.app_record_id,
        "externalRecordId": link.external_record_id,
        "direction": link.direction,
        "createdAt": link.created_at,
    }


def _table(session: Session, caller: Caller, connection_id: str, key: str) -> str:
    connection = get_connection(session, caller, connection_id)
    ElementStore(session).instance("data-link-tables", key, connection)  # 404 if unknown
    return connection.id


@router.get("/connections/{connection_id}/data-link-tables/{key}/links")
def list_links(
    connection_id: str,
    key: str,
    caller: CallerDep,
    session: SessionDep,
    app_record_id: Annotated[Key | None, Query(alias="appRecordId")] = None,
    external_record_id: Annotated[Key | None, Query(alias="externalRecordId")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> dict[str, Any]:
    connection = _table(session, caller, connection_id, key)
    statement = data_links.links_statement(
        connection, key, app_record_id=app_record_id, external_record_id=external_record_id
    )
    links, next_cursor = paginate(session, statement, DataLink, cursor=cursor, limit=limit)
    return {"items": [_public(link) for link in links], "cursor": next_cursor}


@router.post("/connections/{connection_id}/data-link-tables/{key}/links", status_code=201)
def create_link(
    connection_id: str, key: str, body: LinkCreate, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    connection = _table(session, caller, connection_id, key)
    link = data_links.create_link(
        session, connection, key, body.app_record_id, body.external_record_id, body.direction
    )
    return _public(link)


@router.delete("/connections/{connection_id}/data-link-tables/{key}/links", status_code=204)
def delete_links(
    connection_id: str,
    key: str,
    caller: CallerDep,
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
    connection = _table(session, caller, connection_id, key)
    deleted = data_links.delete_links(
        session,
        connection,
        key,
        link_id=link_id,
        app_record_id=app_record_id,
        external_record_id=external_record_id,
    )
    if deleted == 0:
        raise not_found("data_link", link_id or app_record_id or external_record_id or "")
    return Response(status_code=204)

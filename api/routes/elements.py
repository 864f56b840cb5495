"""Element routes, one set per kind, following one pattern at three layers:

    GET/POST /{kind}                     GET/PATCH/DELETE /{kind}/{selector}
    GET/POST /integrations/{key}/{kind}  GET/PATCH/DELETE /integrations/{key}/{kind}/{elementKey}
    GET/PATCH/DELETE /connections/{id}/{kind}/{elementKey}   (instances, created on first use)
    POST …/reset                          (drop customizations, follow the parent again)
    POST …/update-to-latest               (take the parent's newer version, keep customizations)

A selector is an id, a universal key, or `integrationKey.elementKey`. Bodies are the
definition's fields plus `key`, `name`, `integrationKey` (create) and `revision` (update).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from sqlmodel import Session

from api.deps import AdminDep, CallerDep, SessionDep
from api.pagination import paginate
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit
from api.routes.connections import get_connection
from api.routes.integrations import get_integration
from core.elements.models import Element
from core.elements.store import ElementStore, MergeReport, layer_of
from core.errors import validation_error

ENVELOPE = {"key", "name", "revision", "integrationKey", "id"}


def element_public(store: ElementStore, element: Element) -> dict[str, Any]:
    return {
        **store.resolve(element),
        "id": element.id,
        "kind": element.kind,
        "key": element.key,
        "name": element.name,
        "layer": layer_of(element),
        "integrationId": element.integration_id,
        "connectionId": element.connection_id,
        "instanceKey": element.instance_key,
        "parentId": element.parent_id,
        "isCustomized": element.is_customized,
        "isOutdated": store.is_outdated(element),
        "customizations": element.definition if element.parent_id else None,
        "revision": element.revision,
        "createdAt": element.created_at,
        "updatedAt": element.updated_at,
    }


def _split(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {k: v for k, v in body.items() if k in ENVELOPE},
        {k: v for k, v in body.items() if k not in ENVELOPE},
    )


def _key(envelope: dict[str, Any]) -> str:
    key = envelope.get("key")
    if not isinstance(key, str) or not key.strip():
        raise validation_error([{"path": "key", "message": "is required"}])
    return key


def _revision(envelope: dict[str, Any]) -> int | None:
    revision = envelope.get("revision")
    if revision is not None and not isinstance(revision, int):
        raise validation_error([{"path": "revision", "message": "must be an integer"}])
    return revision


def updated_public(store: ElementStore, element: Element, report: MergeReport) -> dict[str, Any]:
    return {
        **element_public(store, element),
        "update": {"dropped": report.dropped, "conflicts": report.conflicts},
    }


def element_router(kind: str) -> APIRouter:
    """All routes of one element kind."""
    router = APIRouter(tags=[kind])

    def _page(session: Session, scope: str, cursor: str | None, limit: int) -> dict[str, Any]:
        store = ElementStore(session)
        rows, next_cursor = paginate(
            session, store.listing(kind, scope), Element, cursor=cursor, limit=limit
        )
        return {"items": [element_public(store, e) for e in rows], "cursor": next_cursor}

    @router.get(f"/{kind}")
    def list_elements(
        _: CallerDep,
        session: SessionDep,
        integration_key: Annotated[Key | None, Query(alias="integrationKey")] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        scope = "universal"
        if integration_key:
            scope = f"integration:{get_integration(session, integration_key).id}"
        return _page(session, scope, cursor, limit)

    @router.post(f"/{kind}", status_code=201)
    def create_element(
        _: AdminDep, session: SessionDep, body: dict[str, Any] = Body(...)
    ) -> dict[str, Any]:
        envelope, definition = _split(body)
        integration = (
            get_integration(session, envelope["integrationKey"])
            if envelope.get("integrationKey")
            else None
        )
        store = ElementStore(session)
        element = store.create(kind, _key(envelope), envelope.get("name"), definition, integration)
        return element_public(store, element)

    @router.get(f"/{kind}/{{selector}}")
    def read_element(_: CallerDep, session: SessionDep, selector: str) -> dict[str, Any]:
        store = ElementStore(session)
        return element_public(store, store.find(kind, selector))

    @router.patch(f"/{kind}/{{selector}}")
    def update_element(
        _: AdminDep, session: SessionDep, selector: str, body: dict[str, Any] = Body(...)
    ) -> dict[str, Any]:
        envelope, changes = _split(body)
        store = ElementStore(session)
        element = store.update(
            store.find(kind, selector),
            changes,
            name=envelope.get("name"),
            revision=_revision(envelope),
        )
        return element_public(store, element)

    @router.delete(f"/{kind}/{{selector}}", status_code=204)
    def delete_element(_: AdminDep, session: SessionDep, selector: str) -> Response:
        store = ElementStore(session)
        store.delete(store.find(kind, selector))
        return Response(status_code=204)

    @router.post(f"/{kind}/{{selector}}/reset")
    def reset_element(_: AdminDep, session: SessionDep, selector: str) -> dict[str, Any]:
        store = ElementStore(session)
        return element_public(store, store.reset(store.find(kind, selector)))

    @router.get(f"/integrations/{{integration_key}}/{kind}")
    def list_integration_elements(
        _: CallerDep,
        session: SessionDep,
        integration_key: str,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        integration = get_integration(session, integration_key)
        return _page(session, f"integration:{integration.id}", cursor, limit)

    @router.post(f"/integrations/{{integration_key}}/{kind}", status_code=201)
    def create_integration_element(
        _: AdminDep, session: SessionDep, integration_key: str, body: dict[str, Any] = Body(...)
    ) -> dict[str, Any]:
        envelope, definition = _split(body)
        store = ElementStore(session)
        integration = get_integration(session, integration_key)
        element = store.create(kind, _key(envelope), envelope.get("name"), definition, integration)
        return element_public(store, element)

    def integration_element(
        session: SessionDep, integration_key: str, key: str
    ) -> tuple[ElementStore, Element]:
        store = ElementStore(session)
        return store, store.at_integration(kind, key, get_integration(session, integration_key))

    @router.get(f"/integrations/{{integration_key}}/{kind}/{{key}}")
    def read_integration_element(
        _: CallerDep, session: SessionDep, integration_key: str, key: str
    ) -> dict[str, Any]:
        store, element = integration_element(session, integration_key, key)
        return element_public(store, element)

    @router.patch(f"/integrations/{{integration_key}}/{kind}/{{key}}")
    def update_integration_element(
        _: AdminDep,
        session: SessionDep,
        integration_key: str,
        key: str,
        body: dict[str, Any] = Body(...),
    ) -> dict[str, Any]:
        envelope, changes = _split(body)
        store, element = integration_element(session, integration_key, key)
        element = store.update(
            element, changes, name=envelope.get("name"), revision=_revision(envelope)
        )
        return element_public(store, element)

    @router.delete(f"/integrations/{{integration_key}}/{kind}/{{key}}", status_code=204)
    def delete_integration_element(
        _: AdminDep, session: SessionDep, integration_key: str, key: str
    ) -> Response:
        store, element = integration_element(session, integration_key, key)
        store.delete(element)
        return Response(status_code=204)

    @router.post(f"/integrations/{{integration_key}}/{kind}/{{key}}/reset")
    def reset_integration_element(
        _: AdminDep, session: SessionDep, integration_key: str, key: str
    ) -> dict[str, Any]:
        store, element = integration_element(session, integration_key, key)
        return element_public(store, store.reset(element))

    @router.post(f"/integrations/{{integration_key}}/{kind}/{{key}}/update-to-latest")
    def update_integration_element_to_latest(
        _: AdminDep,
        session: SessionDep,
        integration_key: str,
        key: str,
        body: dict[str, Any] | None = Body(None),
    ) -> dict[str, Any]:
        store, element = integration_element(session, integration_key, key)
        element, report = store.update_to_latest(element, _revision(body or {}))
        return updated_public(store, element, report)

    def connection_element(
        session: SessionDep,
        caller: CallerDep,
        connection_id: str,
        key: str,
        instance_key: str | None,
    ) -> tuple[ElementStore, Element]:
        connection = get_connection(session, caller, connection_id)
        store = ElementStore(session)
        return store, store.instance(kind, key, connection, instance_key)

    @router.get(f"/connections/{{connection_id}}/{kind}/{{key}}")
    def read_connection_element(
        caller: CallerDep,
        session: SessionDep,
        connection_id: str,
        key: str,
        instance_key: Annotated[Key | None, Query(alias="instanceKey")] = None,
    ) -> dict[str, Any]:
        store, element = connection_element(session, caller, connection_id, key, instance_key)
        return element_public(store, element)

    @router.patch(f"/connections/{{connection_id}}/{kind}/{{key}}")
    def customize_connection_element(
        caller: CallerDep,
        session: SessionDep,
        connection_id: str,
        key: str,
        body: dict[str, Any] = Body(...),
        instance_key: Annotated[Key | None, Query(alias="instanceKey")] = None,
    ) -> dict[str, Any]:
        """Customers change only what the kind allows (and never frozen fields)."""
        envelope, changes = _split(body)
        store, element = connection_element(session, caller, connection_id, key, instance_key)
        element = store.update(
            element, changes, revision=_revision(envelope), customer=not caller.is_admin
        )
        return element_public(store, element)

    @router.post(f"/connections/{{connection_id}}/{kind}/{{key}}/reset")
    def reset_connection_element(
        caller: CallerDep,
        session: SessionDep,
        connection_id: str,
        key: str,
        instance_key: Annotated[Key | None, Query(alias="instanceKey")] = None,
    ) -> dict[str, Any]:
        store, element = connection_element(session, caller, connection_id, key, instance_key)
        return element_public(store, store.reset(element))

    @router.post(f"/connections/{{connection_id}}/{kind}/{{key}}/update-to-latest")
    def update_connection_element_to_latest(
        caller: CallerDep,
        session: SessionDep,
        connection_id: str,
        key: str,
        body: dict[str, Any] | None = Body(None),
        instance_key: Annotated[Key | None, Query(alias="instanceKey")] = None,
    ) -> dict[str, Any]:
        """Merges the parent's changes since customization; 422 (nothing saved) if they clash."""
        store, element = connection_element(session, caller, connection_id, key, instance_key)
        element, report = store.update_to_latest(element, _revision(body or {}))
        return updated_public(store, element, report)

    return router

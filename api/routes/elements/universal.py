"""`GET/POST /{kind}`, `GET/PATCH/DELETE /{kind}/{selector}`, `POST /{kind}/{selector}/reset`.

A selector is an id, a universal key, or `integrationKey.elementKey`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from api.deps import AdminDep, CallerDep, ServicesDep, SessionDep, get_integration
from api.element_bodies import (
    apply_changes,
    documented_body,
    element_page,
    public,
    required_key,
    split,
)
from api.event_hooks import affected_connections, after_write, request_syncs_from_thread
from api.models.elements import ElementModels
from api.models.errors import errors
from api.params import DEFAULT_LIMIT, Cursor, Key, Limit
from core.elements.store import ElementStore
from core.errors import validation_error


def universal_routes(router: APIRouter, kind: str, models: ElementModels) -> None:
    """Adds the routes of `kind` addressed by selector to `router`."""

    @router.get(f"/{kind}", response_model=models.list, responses=errors(404))
    def list_elements(
        _: CallerDep,
        session: SessionDep,
        integration_key: Annotated[Key | None, Query(alias="integrationKey")] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Any:
        scope = "universal"
        if integration_key:
            scope = f"integration:{get_integration(session, integration_key).id}"
        return element_page(models, session, kind, scope, cursor, limit)

    @router.post(
        f"/{kind}",
        status_code=201,
        response_model=models.public,
        responses=errors(404, 409),
        openapi_extra=documented_body(models.create),
    )
    def create_element(
        _: AdminDep,
        services: ServicesDep,
        session: SessionDep,
        body: dict[str, Any] = Body(...),
    ) -> Any:
        envelope, definition = split(body)
        # A list or number would reach the database as a parameter (a 500).
        for name in ("integrationKey", "name"):
            if not isinstance(envelope.get(name), str | None):
                raise validation_error([{"path": name, "message": "must be a string"}])
        integration = (
            get_integration(session, envelope["integrationKey"])
            if envelope.get("integrationKey")
            else None
        )
        store = ElementStore(session)
        element = store.create(
            kind, required_key(envelope), envelope.get("name"), definition, integration
        )
        answer = public(models, store, element)
        after_write(services, session, element)
        return answer

    @router.get(f"/{kind}/{{selector}}", response_model=models.public, responses=errors(404))
    def read_element(_: CallerDep, session: SessionDep, selector: str) -> Any:
        store = ElementStore(session)
        return public(models, store, store.find(kind, selector))

    @router.patch(
        f"/{kind}/{{selector}}",
        response_model=models.public,
        responses=errors(404, 409),
        openapi_extra=documented_body(models.update),
    )
    def update_element(
        _: AdminDep,
        services: ServicesDep,
        session: SessionDep,
        selector: str,
        body: dict[str, Any] = Body(...),
    ) -> Any:
        store = ElementStore(session)
        updated = apply_changes(store, store.find(kind, selector), body)
        answer = public(models, store, updated)
        after_write(services, session, updated)
        return answer

    @router.delete(f"/{kind}/{{selector}}", status_code=204, responses=errors(404))
    def delete_element(
        _: AdminDep, services: ServicesDep, session: SessionDep, selector: str
    ) -> Response:
        store = ElementStore(session)
        found = store.find(kind, selector)
        affected = affected_connections(session, found)
        store.delete(found)
        request_syncs_from_thread(services, affected)
        return Response(status_code=204)

    @router.post(
        f"/{kind}/{{selector}}/reset", response_model=models.public, responses=errors(400, 404)
    )
    def reset_element(
        _: AdminDep, services: ServicesDep, session: SessionDep, selector: str
    ) -> Any:
        store = ElementStore(session)
        reset = store.reset(store.find(kind, selector))
        answer = public(models, store, reset)
        after_write(services, session, reset)
        return answer

"""`/integrations/{integrationKey}/{kind}[/{key}]`: elements at an integration's layer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from api.deps import AdminDep, CallerDep, IntegrationDep, ServicesDep, SessionDep
from api.element_bodies import (
    apply_changes,
    documented_body,
    element_page,
    public,
    required_key,
    split,
    updated_public,
)
from api.event_hooks import affected_connections, after_write, request_syncs_from_thread
from api.models.elements import ElementModels, ElementRevision
from api.models.errors import errors
from api.params import DEFAULT_LIMIT, Cursor, Limit
from core.elements.models import Element
from core.elements.store import ElementStore
from core.errors import validation_error
from core.models import Integration


def integration_routes(router: APIRouter, kind: str, models: ElementModels) -> None:
    """Adds the routes of `kind` at the integration layer to `router`."""
    path = f"/integrations/{{integration_key}}/{kind}"

    def element(
        session: SessionDep, integration: Integration, key: str
    ) -> tuple[ElementStore, Element]:
        store = ElementStore(session)
        return store, store.at_integration(kind, key, integration)

    @router.get(path, response_model=models.list, responses=errors(404))
    def list_integration_elements(
        _: CallerDep,
        session: SessionDep,
        integration: IntegrationDep,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Any:
        scope = f"integration:{integration.id}"
        return element_page(models, session, kind, scope, cursor, limit)

    @router.post(
        path,
        status_code=201,
        response_model=models.public,
        responses=errors(404, 409),
        openapi_extra=documented_body(models.create),
    )
    def create_integration_element(
        _: AdminDep,
        services: ServicesDep,
        session: SessionDep,
        integration: IntegrationDep,
        body: dict[str, Any] = Body(...),
    ) -> Any:
        envelope, definition = split(body)
        if not isinstance(envelope.get("name"), str | None):  # else a 500 at the database
            raise validation_error([{"path": "name", "message": "must be a string"}])
        store = ElementStore(session)
        created = store.create(
            kind, required_key(envelope), envelope.get("name"), definition, integration
        )
        answer = public(models, store, created)
        after_write(services, session, created)
        return answer

    @router.get(f"{path}/{{key}}", response_model=models.public, responses=errors(404))
    def read_integration_element(
        _: CallerDep, session: SessionDep, integration: IntegrationDep, key: str
    ) -> Any:
        store, found = element(session, integration, key)
        return public(models, store, found)

    @router.patch(
        f"{path}/{{key}}",
        response_model=models.public,
        responses=errors(404, 409),
        openapi_extra=documented_body(models.update),
    )
    def update_integration_element(
        _: AdminDep,
        services: ServicesDep,
        session: SessionDep,
        integration: IntegrationDep,
        key: str,
        body: dict[str, Any] = Body(...),
    ) -> Any:
        store, found = element(session, integration, key)
        updated = apply_changes(store, found, body)
        answer = public(models, store, updated)
        after_write(services, session, updated)
        return answer

    @router.delete(f"{path}/{{key}}", status_code=204, responses=errors(404))
    def delete_integration_element(
        _: AdminDep,
        services: ServicesDep,
        session: SessionDep,
        integration: IntegrationDep,
        key: str,
    ) -> Response:
        store, found = element(session, integration, key)
        affected = affected_connections(session, found)
        store.delete(found)
        request_syncs_from_thread(services, affected)
        return Response(status_code=204)

    @router.post(f"{path}/{{key}}/reset", response_model=models.public, responses=errors(400, 404))
    def reset_integration_element(
        _: AdminDep,
        services: ServicesDep,
        session: SessionDep,
        integration: IntegrationDep,
        key: str,
    ) -> Any:
        store, found = element(session, integration, key)
        reset = store.reset(found)
        answer = public(models, store, reset)
        after_write(services, session, reset)
        return answer

    @router.post(
        f"{path}/{{key}}/update-to-latest",
        response_model=models.updated,
        responses=errors(404, 409),
    )
    def update_integration_element_to_latest(
        _: AdminDep,
        services: ServicesDep,
        session: SessionDep,
        integration: IntegrationDep,
        key: str,
        body: ElementRevision | None = Body(None),
    ) -> Any:
        store, found = element(session, integration, key)
        merged, report = store.update_to_latest(found, body.revision if body else None)
        answer = updated_public(models, store, merged, report)
        after_write(services, session, merged)
        return answer

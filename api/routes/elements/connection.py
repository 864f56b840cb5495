"""`/connections/{id}/{kind}/{key}`: a connection's instances, created on first use."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from api.deps import CallerDep, ConnectionDep, ServicesDep, SessionDep
from api.element_bodies import (
    apply_changes,
    documented_body,
    public,
    updated_public,
)
from api.event_hooks import after_write
from api.models.elements import ElementModels, ElementRevision
from api.models.errors import errors
from api.params import Key
from core.elements.models import Element
from core.elements.store import ElementStore
from core.models import Connection

InstanceKey = Annotated[
    Key | None, Query(alias="instanceKey", description="One of several instances.")
]


def connection_routes(router: APIRouter, kind: str, models: ElementModels) -> None:
    """Adds the routes of `kind` at the connection layer to `router`."""
    path = f"/connections/{{connection_id}}/{kind}/{{key}}"

    def instance(
        session: SessionDep, connection: Connection, key: str, instance_key: str | None
    ) -> tuple[ElementStore, Element]:
        store = ElementStore(session)
        return store, store.instance(kind, key, connection, instance_key)

    @router.get(path, response_model=models.public, responses=errors(404))
    def read_connection_element(
        session: SessionDep,
        connection: ConnectionDep,
        key: str,
        instance_key: InstanceKey = None,
    ) -> Any:
        store, found = instance(session, connection, key, instance_key)
        return public(models, store, found)

    @router.patch(
        path,
        response_model=models.public,
        responses=errors(404, 409),
        openapi_extra=documented_body(models.update),
    )
    def customize_connection_element(
        caller: CallerDep,
        services: ServicesDep,
        session: SessionDep,
        connection: ConnectionDep,
        key: str,
        body: dict[str, Any] = Body(...),
        instance_key: InstanceKey = None,
    ) -> Any:
        """Customers change only what the kind allows (and never frozen fields)."""
        store, found = instance(session, connection, key, instance_key)
        updated = apply_changes(store, found, body, customer=not caller.is_admin)
        answer = public(models, store, updated)
        after_write(services, session, updated)
        return answer

    @router.post(f"{path}/reset", response_model=models.public, responses=errors(400, 404))
    def reset_connection_element(
        services: ServicesDep,
        session: SessionDep,
        connection: ConnectionDep,
        key: str,
        instance_key: InstanceKey = None,
    ) -> Any:
        store, found = instance(session, connection, key, instance_key)
        reset = store.reset(found)
        answer = public(models, store, reset)
        after_write(services, session, reset)
        return answer

    @router.post(
        f"{path}/update-to-latest", response_model=models.updated, responses=errors(404, 409)
    )
    def update_connection_element_to_latest(
        services: ServicesDep,
        session: SessionDep,
        connection: ConnectionDep,
        key: str,
        body: ElementRevision | None = Body(None),
        instance_key: InstanceKey = None,
    ) -> Any:
        """Merges the parent's changes since customization; 422 (nothing saved) if they clash."""
        store, found = instance(session, connection, key, instance_key)
        merged, report = store.update_to_latest(found, body.revision if body else None)
        answer = updated_public(models, store, merged, report)
        after_write(services, session, merged)
        return answer

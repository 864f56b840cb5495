"""What the element routes of every layer share: bodies in, elements out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from api.models.elements import ElementModels
from api.pagination import paginate
from core.elements.models import Element
from core.elements.references import missing_references
from core.elements.store import ElementStore, MergeReport, layer_of
from core.errors import validation_error

ENVELOPE = {"key", "name", "revision", "integrationKey", "id"}


def element_public(
    store: ElementStore, element: Element, *, warnings: bool = True
) -> dict[str, Any]:
    """The element as the API answers it: its resolved definition beside its identity, and
    (unless `warnings` is False, as in lists) the elements it names that do not exist yet."""
    definition = store.resolve(element)
    return {
        **definition,
        "warnings": missing_references(store.session, element, definition) if warnings else [],
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


def updated_public(
    models: ElementModels, store: ElementStore, element: Element, report: MergeReport
) -> BaseModel:
    return models.updated.model_validate(
        {
            **element_public(store, element),
            "update": {"dropped": report.dropped, "conflicts": report.conflicts},
        }
    )


def public(
    models: ElementModels, store: ElementStore, element: Element, *, warnings: bool = True
) -> BaseModel:
    return models.public.model_validate(element_public(store, element, warnings=warnings))


def split(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The envelope and the definition fields of a body (camelCase, as stored)."""
    return (
        {k: v for k, v in body.items() if k in ENVELOPE},
        {k: v for k, v in body.items() if k not in ENVELOPE},
    )


def required_key(envelope: dict[str, Any]) -> str:
    key = envelope.get("key")
    if not isinstance(key, str) or not key.strip():
        raise validation_error([{"path": "key", "message": "is required"}])
    return key


def revision_of(envelope: dict[str, Any]) -> int | None:
    revision = envelope.get("revision")
    if revision is not None and not isinstance(revision, int):
        raise validation_error([{"path": "revision", "message": "must be an integer"}])
    return revision


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` declaring `model` as a route's body.

    The route itself takes the body as a plain object: the store checks the definition merged
    over its parent layers and answers every problem at once with its path, which validating the
    body first (stopping at the first kind of problem) would hide.
    """
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }


def element_page(
    models: ElementModels,
    session: Session,
    kind: str,
    scope: str,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """One page of the elements of `kind` at `scope`, oldest first, with the next cursor."""
    store = ElementStore(session)
    rows, next_cursor = paginate(
        session, store.listing(kind, scope), Element, cursor=cursor, limit=limit
    )
    items = [public(models, store, e, warnings=False) for e in rows]
    return {"items": items, "cursor": next_cursor}


def apply_changes(
    store: ElementStore, element: Element, body: dict[str, Any], *, customer: bool = False
) -> Element:
    """A PATCH body applied to `element`: its definition fields, under its `revision`.

    Customers change instances only (never their names) and only what the kind lets them.
    """
    envelope, changes = split(body)
    if not isinstance(envelope.get("name"), str | None):  # else a 500 at the database
        raise validation_error([{"path": "name", "message": "must be a string"}])
    return store.update(
        element,
        changes,
        name=None if customer else envelope.get("name"),
        revision=revision_of(envelope),
        customer=customer,
    )

"""What the element routes of every layer share: bodies in, elements out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from api.models.elements import ElementModels
from core.elements.models import Element
from core.elements.store import ElementStore, MergeReport, layer_of
from core.errors import validation_error

F = TypeVar("F", bound=Callable[..., Any])

ENVELOPE = {"key", "name", "revision", "integrationKey", "id"}


def element_public(store: ElementStore, element: Element) -> dict[str, Any]:
    """The element as the API answers it: its resolved definition beside its identity."""
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


def updated_public(
    models: ElementModels, store: ElementStore, element: Element, report: MergeReport
) -> BaseModel:
    return models.updated.model_validate(
        {
            **element_public(store, element),
            "update": {"dropped": report.dropped, "conflicts": report.conflicts},
        }
    )


def public(models: ElementModels, store: ElementStore, element: Element) -> BaseModel:
    return models.public.model_validate(element_public(store, element))


def split(body: BaseModel) -> tuple[dict[str, Any], dict[str, Any]]:
    """The envelope and the definition fields the caller sent (camelCase, as stored)."""
    sent = body.model_dump(exclude_unset=True, by_alias=True)
    return (
        {k: v for k, v in sent.items() if k in ENVELOPE},
        {k: v for k, v in sent.items() if k not in ENVELOPE},
    )


def required_key(envelope: dict[str, Any]) -> str:
    key = envelope.get("key")
    if not isinstance(key, str) or not key.strip():
        raise validation_error([{"path": "key", "message": "is required"}])
    return key


def body_of(model: type[BaseModel]) -> Callable[[F], F]:
    """Types a route's `body` parameter with a model built at runtime (one per kind), which a
    postponed annotation cannot name."""

    def typed(route: F) -> F:
        route.__annotations__["body"] = model
        return route

    return typed

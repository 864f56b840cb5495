"""Elements that a definition names by key: data sources, actions, data link tables.

A flow's nodes, an action's config and a field mapping point at other elements by key. Those
may legitimately be created after the element that names them, so saving reports a missing one
as a warning beside the saved element, not as an error; starting a run is where it must exist
(core/elements/resolve.py answers a 404 naming the node).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from core.elements.definition import Problem
from core.elements.models import UNIVERSAL, Element, scope_of

CONFIG_REFERENCES = {
    "dataSourceKey": "data-sources",
    "actionKey": "actions",
    "dataLinkTable": "data-link-tables",
}
"""Config fields naming an element, and the element's kind."""


@dataclass(frozen=True)
class Reference:
    """One element named by key at `path` of a definition."""

    path: str
    kind: str
    key: str


def _config_references(config: Any, path: str) -> list[Reference]:
    if not isinstance(config, dict):
        return []
    found = []
    for field, kind in CONFIG_REFERENCES.items():
        value = config.get(field)
        # A data record node given a `collectionKey` does not read its data source.
        if field == "dataSourceKey" and "collectionKey" in config:
            continue
        if isinstance(value, str) and value:
            found.append(Reference(f"{path}.{field}", kind, value))
    return found


def references(kind: str, definition: dict[str, Any]) -> list[Reference]:
    """Every element `definition` (of `kind`) names, with where it names it."""
    if kind == "flows":
        nodes = definition.get("nodes")
        return [
            ref
            for key, node in (nodes.items() if isinstance(nodes, dict) else [])
            if isinstance(node, dict)
            for ref in _config_references(node.get("config"), f"nodes.{key}.config")
        ]
    if kind == "actions":
        return _config_references(definition.get("config"), "config")
    if kind == "field-mappings" and isinstance(definition.get("dataSourceKey"), str):
        return [Reference("dataSourceKey", "data-sources", definition["dataSourceKey"])]
    return []


def _visible(session: Session, element: Element, ref: Reference) -> bool:
    """Whether a run of `element` could find `ref`: at its own layers, or, for a universal
    element, at any integration's layer (runs resolve per connection)."""
    statement = select(Element.id).where(Element.kind == ref.kind, Element.key == ref.key)
    if element.integration_id is None and element.connection_id is None:
        statement = statement.where(col(Element.connection_id).is_(None))
    else:
        scopes = [UNIVERSAL, scope_of(element.integration_id, None, None)]
        if element.connection_id:
            scopes.append(element.scope)
        statement = statement.where(col(Element.scope).in_(scopes))
    return session.exec(statement.limit(1)).first() is not None


def missing_references(
    session: Session, element: Element, definition: dict[str, Any]
) -> list[Problem]:
    """`{path, message}` for each element `definition` names that does not exist (yet)."""
    return [
        {
            "path": ref.path,
            "message": f"no {ref.kind.removesuffix('s').replace('-', ' ')} {ref.key!r} exists "
            "yet: runs fail until it is created",
        }
        for ref in references(element.kind, definition)
        if not _visible(session, element, ref)
    ]

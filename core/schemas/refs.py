"""Dynamic `$dataSchemaRef` references and the resolver that turns them into schemas."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from core.schemas.walk import map_children

DATA_COLLECTION = "data-collection"
APP_DATA_SCHEMA = "app-data-schema"
REF_TYPES = (DATA_COLLECTION, APP_DATA_SCHEMA)


class SchemaRefError(ValueError):
    """A `$dataSchemaRef` could not be resolved (unknown target or a reference cycle)."""


class SchemaResolver(Protocol):
    """Looks up the schema a `$dataSchemaRef` points to.

    Implementations must not do I/O when used from workflow code: build them from schemas
    that were loaded beforehand (see `StaticSchemaResolver`).
    """

    def resolve_schema(self, ref: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Return the schema for `ref` (`{type, key, parameters?}`), or None if unknown."""
        ...


class StaticSchemaResolver:
    """A `SchemaResolver` over schemas held in memory, keyed by element key.

    Args:
        app_data_schemas: App data schemas by key.
        data_collections: Fields schemas of data collections by collection key. Collection
            parameters are not part of the lookup: load the schema for the parameters in use.
    """

    def __init__(
        self,
        app_data_schemas: Mapping[str, Mapping[str, Any]] | None = None,
        data_collections: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._by_type: dict[str, Mapping[str, Mapping[str, Any]]] = {
            APP_DATA_SCHEMA: app_data_schemas or {},
            DATA_COLLECTION: data_collections or {},
        }

    def resolve_schema(self, ref: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Return the stored schema for `ref`, or None."""
        return self._by_type.get(str(ref.get("type")), {}).get(str(ref.get("key")))


def describe_ref(ref: Any) -> str:
    """A short human-readable name for a reference, e.g. `app-data-schema "task"`."""
    if isinstance(ref, Mapping):
        return f'{ref.get("type")} "{ref.get("key")}"'
    return "an invalid reference"


def resolve_schema_refs(schema: Mapping[str, Any], resolver: SchemaResolver) -> dict[str, Any]:
    """Return a copy of `schema` with every `$dataSchemaRef` replaced by its target.

    Keywords written next to a reference (`title`, `readOnly`, ...) override the target's.
    References inside resolved schemas are resolved too.

    Raises:
        SchemaRefError: A reference is unknown to the resolver, or references form a cycle.
    """
    return _resolve(schema, resolver, ())


def _resolve(
    schema: Mapping[str, Any], resolver: SchemaResolver, seen: tuple[str, ...]
) -> dict[str, Any]:
    ref = schema.get("$dataSchemaRef")
    if ref is None:
        return map_children(schema, lambda sub: _resolve(sub, resolver, seen))
    identity = json.dumps(ref, sort_keys=True, default=str)
    if identity in seen:
        raise SchemaRefError(f"$dataSchemaRef cycle through {describe_ref(ref)}")
    target = resolver.resolve_schema(ref) if isinstance(ref, Mapping) else None
    if target is None:
        raise SchemaRefError(f"cannot resolve $dataSchemaRef to {describe_ref(ref)}")
    resolved = _resolve(target, resolver, (*seen, identity))
    overrides = {k: v for k, v in schema.items() if k != "$dataSchemaRef"}
    return {**resolved, **map_children(overrides, lambda sub: _resolve(sub, resolver, seen))}

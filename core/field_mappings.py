"""Field mappings: defaults generated from unified models, and applying a mapping.

Import mappings evaluate over the external record's fields (`{$var: email}`); export mappings
over the product's record. Both may use I/O formulas ($lookup, $findExternalRecordId, ...),
which are resolved in batches before evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from core.elements.store import ElementStore
from core.formulas import UNDEFINED, LookupResolver, evaluate_with_io
from core.models import Connection


class UdmMapping(Protocol):
    """How a data collection maps to a unified model (a connector spec's `udm`)."""

    @property
    def model(self) -> str: ...
    @property
    def to_udm(self) -> dict[str, Any]: ...
    @property
    def from_udm(self) -> dict[str, Any]: ...


class Collection(Protocol):
    """A connector's data collection, as far as default mappings need it."""

    @property
    def key(self) -> str: ...
    @property
    def udm(self) -> UdmMapping | None: ...


def _strip_prefix(value: Any, prefix: str, rename: dict[str, str] | None = None) -> Any:
    """Rewrites `$var` locators from `prefix.x` to `x` (renamed), recursively."""
    if isinstance(value, dict):
        if set(value) == {"$var"} and isinstance(value["$var"], str):
            locator = value["$var"].removeprefix("$.")
            if locator.startswith(prefix):
                name = locator[len(prefix) :]
                head, dot, rest = name.partition(".")
                return {"$var": (rename or {}).get(head, head) + dot + rest}
            return value
        return {k: _strip_prefix(v, prefix, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_prefix(v, prefix, rename) for v in value]
    return value


def _reads(value: Any, prefix: str) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if set(value) == {"$var"} and isinstance(value["$var"], str):
            locator = value["$var"].removeprefix("$.")
            if locator.startswith(prefix):
                found.add(locator[len(prefix) :].split(".")[0])
        for item in value.values():
            found |= _reads(item, prefix)
    elif isinstance(value, list):
        for item in value:
            found |= _reads(item, prefix)
    return found


def default_mapping(
    app_schema: dict[str, Any], to_udm: dict[str, Any], from_udm: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Import and export mappings for the app fields that are unified-model fields.

    Args:
        app_schema: The product's schema; its property names are matched to unified fields.
        to_udm: The collection's mapping of its fields (`fields.x`) to unified fields.
        from_udm: The collection's mapping of unified fields (`udm.x`) to its fields.
    """
    app_fields = set((app_schema.get("properties") or {}).keys())
    import_value = {
        name: _strip_prefix(formula, "fields.")
        for name, formula in to_udm.items()
        if name in app_fields
    }
    export_value = {
        name: _strip_prefix(formula, "udm.")
        for name, formula in from_udm.items()
        if _reads(formula, "udm.") and _reads(formula, "udm.") <= app_fields
    }
    return import_value, export_value


async def apply_mapping(
    mapping: Any, records: list[dict[str, Any]], resolver: LookupResolver
) -> list[Any]:
    """Evaluates `mapping` over each record, resolving lookups in one batch per group."""
    results = await evaluate_with_io(mapping, records, resolver)
    return [None if result is UNDEFINED else result for result in results]


def app_schema(store: ElementStore, definition: dict[str, Any]) -> dict[str, Any]:
    """The product's schema a field mapping maps to: inline, or an app data schema's."""
    if definition.get("appSchema"):
        return dict(definition["appSchema"])
    key = definition.get("appDataSchemaKey")
    if key:
        return dict(store.resolve(store.find("app-data-schemas", key)).get("schema") or {})
    return {}


def data_collection(
    store: ElementStore, connection: Connection, collections: Sequence[Collection], key: str | None
) -> Collection | None:
    """The collection the mapping's data source `key` points at, for this connection."""
    if not key:
        return None
    source = store.resolve(store.instance("data-sources", key, connection))
    if source.get("collectionKey"):
        return next((c for c in collections if c.key == source["collectionKey"]), None)
    udm = source.get("udm")
    return next((c for c in collections if c.udm and c.udm.model == udm), None)


def effective_mapping(
    store: ElementStore, connection: Connection, selector: str, collections: Sequence[Collection]
) -> dict[str, Any]:
    """The connection's resolved field mapping, with defaults generated where missing.

    Args:
        store: Elements of the caller's session.
        connection: Whose instance of the mapping to resolve.
        selector: The field mapping's id, key or `integrationKey.key`.
        collections: The data collections of the connection's connector.
    """
    element = store.find("field-mappings", selector)
    definition = store.resolve(store.instance("field-mappings", element.key, connection))
    if definition.get("importValue") is not None and definition.get("exportValue") is not None:
        return definition
    collection = data_collection(store, connection, collections, definition.get("dataSourceKey"))
    schema = app_schema(store, definition)
    if collection is not None and collection.udm is not None and schema:
        imports, exports = default_mapping(schema, collection.udm.to_udm, collection.udm.from_udm)
        if definition.get("importValue") is None:
            definition["importValue"] = imports
        if definition.get("exportValue") is None:
            definition["exportValue"] = exports
    return definition

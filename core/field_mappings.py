"""Field mappings: defaults generated from unified models, and applying a mapping.

Import mappings evaluate over the external record's fields (`{$var: email}`); export mappings
over the product's record. Both may use I/O formulas ($lookup, $findExternalRecordId, ...),
which are resolved in batches before evaluation.
"""

from __future__ import annotations

from typing import Any

from core.formulas import UNDEFINED, LookupResolver, evaluate_with_io


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

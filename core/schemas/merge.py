"""Combine schemas (union) and derive a schema from an example value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

_FLAGS = ("readOnly", "writeOnly", "isSensitive")
_LOWER_BOUNDS = ("minimum", "minLength", "minItems")
_UPPER_BOUNDS = ("maximum", "maxLength", "maxItems")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}")


def merge_schemas(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """The union of two schemas: a value valid for either is valid for the result.

    Properties are united (shared ones merged recursively), a field is required only if both
    require it, types and enums are united, bounds are loosened, and `readOnly`, `writeOnly`
    and `isSensitive` are kept when either side sets them. For other annotations
    (`title`, `description`, ...) `a` wins. An empty schema (anything) absorbs the other.
    """
    if not a or not b:
        return {}
    result: dict[str, Any] = {**b, **a}
    a_types, b_types = _types(a), _types(b)
    if a_types is None or b_types is None:
        result.pop("type", None)
    else:
        result["type"] = _type_value(a_types | b_types)
    _merge_properties(a, b, result)
    _merge_items(a, b, result)
    _merge_constraints(a, b, result)
    for flag in _FLAGS:
        if a.get(flag) is True or b.get(flag) is True:
            result[flag] = True
    return result


def schema_from_example(value: Any) -> dict[str, Any]:
    """A schema that describes `value` (and values shaped like it).

    Strings that look like ISO dates or date-times get `format: date` / `format: date-time`;
    array items are the union of the schemas of all elements.
    """
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return _string_schema(value)
    if isinstance(value, list | tuple):
        schema: dict[str, Any] = {"type": "array"}
        if value:
            items = schema_from_example(value[0])
            for element in value[1:]:
                items = merge_schemas(items, schema_from_example(element))
            schema["items"] = items
        return schema
    if isinstance(value, Mapping):
        properties = {str(key): schema_from_example(item) for key, item in value.items()}
        return {"type": "object", "properties": properties}
    return {}


def _string_schema(value: str) -> dict[str, Any]:
    try:
        if _DATE.match(value) and date.fromisoformat(value):
            return {"type": "string", "format": "date"}
        if _DATE_TIME.match(value) and datetime.fromisoformat(value.upper()):
            return {"type": "string", "format": "date-time"}
    except ValueError:
        pass
    return {"type": "string"}


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    if "properties" in schema:
        return {"object"}
    if "items" in schema:
        return {"array"}
    return None


def _type_value(types: set[str]) -> str | list[str]:
    if "number" in types:
        types = types - {"integer"}
    ordered = sorted(types)
    return ordered[0] if len(ordered) == 1 else ordered


def _allows(schema: Mapping[str, Any], type_name: str) -> bool:
    types = _types(schema)
    return types is None or type_name in types


def _merge_properties(a: Mapping[str, Any], b: Mapping[str, Any], result: dict[str, Any]) -> None:
    a_props, b_props = a.get("properties"), b.get("properties")
    if isinstance(a_props, Mapping) and isinstance(b_props, Mapping):
        merged = dict(b_props)
        merged.update(
            {
                name: merge_schemas(sub, b_props[name]) if name in b_props else sub
                for name, sub in a_props.items()
            }
        )
        result["properties"] = {name: merged[name] for name in [*a_props, *b_props]}
    a_required = a.get("required") if _allows(a, "object") else None
    b_required = b.get("required") if _allows(b, "object") else None
    if _allows(a, "object") and _allows(b, "object"):
        shared = [name for name in a_required or [] if name in (b_required or [])]
        if shared:
            result["required"] = shared
        else:
            result.pop("required", None)
    elif a_required or b_required:
        result["required"] = a_required or b_required


def _merge_items(a: Mapping[str, Any], b: Mapping[str, Any], result: dict[str, Any]) -> None:
    a_items, b_items = a.get("items"), b.get("items")
    if isinstance(a_items, Mapping) and isinstance(b_items, Mapping):
        result["items"] = merge_schemas(a_items, b_items)


def _merge_constraints(a: Mapping[str, Any], b: Mapping[str, Any], result: dict[str, Any]) -> None:
    if "enum" in a and "enum" in b:
        result["enum"] = [*a["enum"], *(v for v in b["enum"] if v not in a["enum"])]
    else:
        result.pop("enum", None)
    for keyword, pick in [(k, min) for k in _LOWER_BOUNDS] + [(k, max) for k in _UPPER_BOUNDS]:
        if keyword in a and keyword in b:
            result[keyword] = pick(a[keyword], b[keyword])
        else:
            result.pop(keyword, None)
    if a.get("format") != b.get("format"):
        result.pop("format", None)

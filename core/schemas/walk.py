"""Where a JSON Schema keeps its subschemas, so every walker visits the same places."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

# Keywords whose value is a map of name -> subschema.
MAP_KEYWORDS = ("properties", "patternProperties", "$defs", "definitions")
# Keywords whose value is a list of subschemas.
LIST_KEYWORDS = ("anyOf", "oneOf", "allOf", "prefixItems")
# Keywords whose value is one subschema.
SINGLE_KEYWORDS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")

Location = tuple[str | int, ...]


def children(schema: Mapping[str, Any]) -> Iterator[tuple[Location, Mapping[str, Any]]]:
    """Yield `(location, subschema)` for each direct subschema of `schema`.

    The location is relative to `schema`, e.g. `("properties", "name")` or `("anyOf", 1)`.
    Boolean subschemas (`additionalProperties: false`) are not yielded.
    """
    for keyword in MAP_KEYWORDS:
        value = schema.get(keyword)
        if isinstance(value, Mapping):
            for name, sub in value.items():
                if isinstance(sub, Mapping):
                    yield (keyword, name), sub
    for keyword in LIST_KEYWORDS:
        value = schema.get(keyword)
        if isinstance(value, list):
            for index, sub in enumerate(value):
                if isinstance(sub, Mapping):
                    yield (keyword, index), sub
    for keyword in SINGLE_KEYWORDS:
        value = schema.get(keyword)
        if isinstance(value, Mapping):
            yield (keyword,), value


def map_children(
    schema: Mapping[str, Any], fn: Callable[[Mapping[str, Any]], Any]
) -> dict[str, Any]:
    """Return a copy of `schema` whose direct subschemas are replaced by `fn(subschema)`."""
    result = dict(schema)
    for keyword in MAP_KEYWORDS:
        value = schema.get(keyword)
        if isinstance(value, Mapping):
            result[keyword] = {
                name: fn(sub) if isinstance(sub, Mapping) else sub for name, sub in value.items()
            }
    for keyword in LIST_KEYWORDS:
        value = schema.get(keyword)
        if isinstance(value, list):
            result[keyword] = [fn(sub) if isinstance(sub, Mapping) else sub for sub in value]
    for keyword in SINGLE_KEYWORDS:
        value = schema.get(keyword)
        if isinstance(value, Mapping):
            result[keyword] = fn(value)
    return result

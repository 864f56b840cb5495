"""OpenAPI schema objects → self-contained JSON Schema (draft 2020-12), every `$ref` inlined.

Inlining is bounded by data depth: each step into `properties`, `items` and the like spends
one level, composition (`allOf`, `oneOf`...) and `$ref` hops spend none. Where the levels run
out a schema keeps only its own keywords (type, format, enum, required...) and loses its
sub-schemas, so recursive schemas (a task's subtasks) end after a few levels and accept
anything below. A schema that is still too big keeps one level less, and so on: small schemas
come out whole, sprawling ones (a Xero payment reaches every other record) stay readable.
Results are cached per (`$ref`, levels left), so each shared schema is converted a bounded
number of times however many operations use it.

OpenAPI 3.0 dialect is translated: `nullable` adds `null` to the type, boolean
`exclusiveMinimum`/`exclusiveMaximum` become numbers, Swagger's `type: file` a binary string.
Keywords that are not JSON Schema (`example`, `xml`, `discriminator`, `x-*`...) are dropped.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.openapi.document import Document, OpenApiProblem, join

# How much of a schema is kept: inputs are validated, so they keep more; output schemas only
# describe, and would otherwise dwarf everything else in the connector file.
MAX_DEPTH = 6
INPUT_BUDGET = 16_000
OUTPUT_BUDGET = 8_000

_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas"})
_SCHEMA_ONE = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_VALUES = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "default",
        "enum",
        "const",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxContains",
        "minContains",
        "maxProperties",
        "minProperties",
        "required",
        "dependentRequired",
        "readOnly",
        "writeOnly",
        "deprecated",
        "contentMediaType",
        "contentEncoding",
    }
)
# Beside a `$ref`, OpenAPI 3.1 lets these annotate the referenced schema.
_REF_SIBLINGS = ("title", "description", "default", "deprecated", "readOnly", "writeOnly")

_COMPOSITION = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else"})


class SchemaConverter:
    """Converts schemas of one document; reuse it for every schema of that document."""

    def __init__(self, document: Document) -> None:
        self._document = document
        self._cache: dict[tuple[str, int], Any] = {}
        self._active: set[tuple[str, int]] = set()

    def convert(
        self, schema: Any, path: str, *, budget: int, depth: int = MAX_DEPTH
    ) -> dict[str, Any]:
        """A JSON Schema for `schema` (found at `path`) with nothing left to resolve.

        Args:
            depth: Levels of nested data (properties, items...) to keep at most.
            budget: Size (characters of JSON) above which one level less is kept, and so on.

        Raises:
            OpenApiProblem: A schema that is not a mapping, or a broken `$ref`.
        """
        for levels in range(depth, -1, -1):
            converted = self._convert(schema, path, levels)
            if levels == 0 or len(json.dumps(converted, default=str)) <= budget:
                break
        return converted if isinstance(converted, dict) else {} if converted else {"not": {}}

    def _convert(self, schema: Any, path: str, depth: int) -> Any:
        if isinstance(schema, bool):
            return schema
        if not isinstance(schema, dict):
            raise OpenApiProblem(path, "a schema must be a mapping")
        if "$ref" in schema:
            return self._reference(schema, path, depth)
        return self._object(schema, path, depth)

    def _reference(self, schema: dict[str, Any], path: str, depth: int) -> Any:
        converted = self._expand(schema["$ref"], path, depth)
        annotations = {k: schema[k] for k in _REF_SIBLINGS if k in schema}
        nullable = schema.get("nullable") is True or schema.get("x-nullable") is True
        if (annotations or nullable) and isinstance(converted, dict):
            converted = {**converted, **annotations}
            if nullable:
                converted = _nullable(converted)
        return converted

    def _expand(self, ref: Any, path: str, depth: int) -> Any:
        key = (str(ref), depth)
        if key in self._cache:
            return self._cache[key]
        if key in self._active:
            return {}  # a schema composed of itself (`allOf: [self]`): nothing to add
        target, where = self._document.lookup(ref, path)
        self._active.add(key)
        try:
            converted = self._convert(target, where, depth)
        finally:
            self._active.discard(key)
        self._cache[key] = converted
        return converted

    def _object(self, schema: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in schema.items():
            here = join(path, key)
            if key in _VALUES:
                out[key] = value
            elif value is None or (depth == 0 and key not in _COMPOSITION):
                continue
            elif key in _SCHEMA_MAPS:
                if not isinstance(value, dict):
                    raise OpenApiProblem(here, "must be a mapping of schemas")
                out[key] = {
                    name: self._convert(item, join(here, name), depth - 1)
                    for name, item in value.items()
                }
            elif key == "items" and isinstance(value, list):
                out["prefixItems"] = [
                    self._convert(item, join(here, i), depth - 1) for i, item in enumerate(value)
                ]
            elif key in _SCHEMA_ONE:
                level = depth if key in _COMPOSITION else depth - 1
                out[key] = self._convert(value, here, level)
            elif key in _SCHEMA_LISTS:
                if not isinstance(value, list):
                    raise OpenApiProblem(here, "must be a list of schemas")
                level = depth if key in _COMPOSITION else depth - 1
                out[key] = [
                    self._convert(item, join(here, i), level) for i, item in enumerate(value)
                ]
        _translate_dialect(out)
        if schema.get("nullable") is True or schema.get("x-nullable") is True:
            out = _nullable(out)
        return out


def _translate_dialect(schema: dict[str, Any]) -> None:
    """OpenAPI 3.0 / Swagger 2.0 spellings → JSON Schema 2020-12, in place."""
    if schema.get("type") == "file":
        schema.update(type="string", format="binary")
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = schema.pop(exclusive) if isinstance(schema.get(exclusive), bool) else None
        if flag and bound in schema:
            schema[exclusive] = schema.pop(bound)
    required = schema.get("required")
    if required is not None and not (
        isinstance(required, list) and all(isinstance(name, str) for name in required)
    ):
        # `required: true` on a property is a common slip; it is not JSON Schema.
        del schema["required"]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]} if schema else schema
    types = kind if isinstance(kind, list) else [kind]
    widened = {**schema, "type": [*types, "null"] if "null" not in types else types}
    if isinstance(widened.get("enum"), list) and None not in widened["enum"]:
        widened["enum"] = [*widened["enum"], None]
    return widened

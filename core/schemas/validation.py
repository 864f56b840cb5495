"""Check a value against a data schema, with paths and messages a person can act on."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, UnknownType, ValidationError

from core.schemas.paths import format_path, join_key
from core.schemas.problems import SchemaProblem
from core.schemas.refs import SchemaRefError, SchemaResolver, resolve_schema_refs
from core.schemas.sensitivity import is_sensitive_path, sensitive_paths
from core.schemas.types import json_type, preview
from core.schemas.well_formed import validate_schema

_FORMATS = FormatChecker()


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return "T" in value.upper() and bool(datetime.fromisoformat(value.upper()))


@_FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


@_FORMATS.checks("time", raises=ValueError)
def _is_time(value: object) -> bool:
    return not isinstance(value, str) or bool(time.fromisoformat(value.replace("Z", "+00:00")))


def validate_value(
    value: Any, schema: Mapping[str, Any], resolver: SchemaResolver | None = None
) -> list[SchemaProblem]:
    """Validate `value` against a data schema and list every problem found.

    Osmo's extension keywords are annotations here; `$dataSchemaRef` is resolved through
    `resolver` first (without a resolver, a referencing node accepts any value).

    Args:
        value: The value to check.
        schema: The data schema.
        resolver: Resolves `$dataSchemaRef` nodes.

    Returns:
        Problems in document order, e.g. `fields.tags[2]: expected string, got integer`.
        Values of fields marked `isSensitive` are never quoted.
    """
    if resolver is not None:
        try:
            schema = resolve_schema_refs(schema, resolver)
        except SchemaRefError as error:
            return [SchemaProblem("", str(error))]
    try:
        failures = list(Draft202012Validator(schema, format_checker=_FORMATS).iter_errors(value))
    except (SchemaError, UnknownType, TypeError, ValueError, re.error):
        return [SchemaProblem("", f"invalid schema: {p}") for p in validate_schema(schema)] or [
            SchemaProblem("", "invalid schema")
        ]
    hidden = sensitive_paths(schema)
    problems: list[SchemaProblem] = []
    for failure in sorted(failures, key=lambda e: list(map(str, e.path))):
        path = format_path(failure.absolute_path)
        sensitive = is_sensitive_path(path, hidden) or _schema_flag(failure.schema)
        for problem in _problems(failure, path, sensitive):
            if problem not in problems:
                problems.append(problem)
    return problems


def _schema_flag(schema: object) -> bool:
    return isinstance(schema, Mapping) and schema.get("isSensitive") is True


def _problems(error: ValidationError, path: str, sensitive: bool) -> list[SchemaProblem]:
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "required":
        return [
            SchemaProblem(join_key(path, name), "required field is missing")
            for name in expected
            if isinstance(instance, Mapping) and name not in instance
        ]
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        return [
            SchemaProblem(join_key(path, name), "unknown field")
            for name in instance
            if name not in known
        ]
    return [SchemaProblem(path, _message(keyword, expected, instance, sensitive))]


def _message(keyword: str, expected: Any, instance: Any, sensitive: bool) -> str:
    got = "" if sensitive else f", got {preview(instance)}"
    match keyword:
        case "type":
            types = expected if isinstance(expected, list) else [expected]
            return f"expected {' or '.join(types)}, got {json_type(instance)}"
        case "enum":
            return f"must be one of {', '.join(map(preview, expected))}{got}"
        case "const":
            return f"must be {preview(expected)}{got}"
        case "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum":
            return f"must be {_BOUNDS[keyword]} {expected}{got}"
        case "minLength" | "maxLength":
            return f"must have {_BOUNDS[keyword]} {expected} characters"
        case "minItems" | "maxItems":
            return f"must have {_BOUNDS[keyword]} {expected} items"
        case "pattern":
            return f"must match pattern {expected}"
        case "format":
            return f"is not a valid {expected}{got}"
        case "anyOf" | "oneOf":
            return "does not match any of the allowed schemas"
        case "uniqueItems":
            return "must not contain duplicate items"
    return f"does not satisfy {keyword}"


_BOUNDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "greater than",
    "exclusiveMaximum": "less than",
    "minLength": "at least",
    "maxLength": "at most",
    "minItems": "at least",
    "maxItems": "at most",
}

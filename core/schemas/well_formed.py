"""Is a data schema itself well formed, including Osmo's extension keywords?"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from core.schemas.paths import format_path
from core.schemas.problems import SchemaProblem
from core.schemas.refs import DATA_COLLECTION, REF_TYPES
from core.schemas.walk import children

_META = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)
_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}
_FLAGS = ("allowCustom", "isImplied", "isSensitive", "readOnly", "writeOnly")
_RANGES = (("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems"))


def validate_schema(schema: Any) -> list[SchemaProblem]:
    """List every problem that makes `schema` an invalid data schema.

    Checks the JSON Schema (draft 2020-12) meta-schema, type names, contradictory bounds and
    flags, and the shape of Osmo's extensions: `referenceCollection`, `referenceRecords`,
    `referenceUdm`, `allowCustom`, `isImplied`, `isSensitive` and `$dataSchemaRef`.

    Returns:
        Problems with the path inside the schema, e.g. `properties.owner.type: unknown type
        "strng"`.
    """
    if not isinstance(schema, Mapping):
        return [SchemaProblem("", "a schema must be an object")]
    problems = [
        SchemaProblem(format_path(error.absolute_path), error.message)
        for error in _META.iter_errors(schema)
        if not error.absolute_path or error.absolute_path[-1] != "type"
    ]
    _check(schema, "", problems)
    return problems


def _check(schema: Mapping[str, Any], path: str, problems: list[SchemaProblem]) -> None:
    for check in _CHECKS:
        problems.extend(
            SchemaProblem(_join(path, where), message) for where, message in check(schema)
        )
    for location, sub in children(schema):
        _check(sub, _join(path, format_path(location)), problems)


Found = list[tuple[str, str]]


def _join(path: str, where: str) -> str:
    return f"{path}.{where}" if path and where else path or where


def _check_type(schema: Mapping[str, Any]) -> Found:
    declared = schema.get("type")
    if declared is None:
        return []
    names = declared if isinstance(declared, list) else [declared]
    return [("type", f'unknown type "{name}"') for name in names if name not in _TYPES]


def _check_flags(schema: Mapping[str, Any]) -> Found:
    found = [
        (flag, "must be a boolean")
        for flag in _FLAGS
        if flag in schema and not isinstance(schema[flag], bool)
    ]
    if schema.get("readOnly") is True and schema.get("writeOnly") is True:
        found.append(("", "a field cannot be both readOnly and writeOnly"))
    return found


def _check_ranges(schema: Mapping[str, Any]) -> Found:
    found = []
    for low, high in _RANGES:
        lower: Any = schema.get(low)
        upper: Any = schema.get(high)
        if _is_number(lower) and _is_number(upper) and lower > upper:
            found.append((low, f"{low} ({lower}) is greater than {high} ({upper})"))
    return found


def _check_references(schema: Mapping[str, Any]) -> Found:
    found = []
    if "referenceCollection" in schema:
        found += _element_ref_problems("referenceCollection", schema["referenceCollection"])
    udm = schema.get("referenceUdm")
    if "referenceUdm" in schema and not (isinstance(udm, str) and udm):
        found.append(("referenceUdm", "must be a non-empty string"))
    records = schema.get("referenceRecords")
    if "referenceRecords" in schema and not isinstance(records, list):
        found.append(("referenceRecords", "must be a list of {id, name} records"))
    elif isinstance(records, list):
        found += [
            (f"referenceRecords[{index}]", "must be an object with an id")
            for index, record in enumerate(records)
            if not (isinstance(record, Mapping) and _is_id(record.get("id")))
        ]
    return found


def _check_data_schema_ref(schema: Mapping[str, Any]) -> Found:
    if "$dataSchemaRef" not in schema:
        return []
    ref = schema["$dataSchemaRef"]
    found = _element_ref_problems("$dataSchemaRef", ref)
    if isinstance(ref, Mapping):
        if ref.get("type") not in REF_TYPES:
            found.append(("$dataSchemaRef.type", f"must be one of {', '.join(REF_TYPES)}"))
        elif ref["type"] != DATA_COLLECTION and "parameters" in ref:
            found.append(("$dataSchemaRef.parameters", f"only allowed for {DATA_COLLECTION}"))
    return found


def _element_ref_problems(keyword: str, ref: Any) -> Found:
    if not isinstance(ref, Mapping):
        return [(keyword, "must be an object with a key")]
    found = []
    if not (isinstance(ref.get("key"), str) and ref["key"]):
        found.append((f"{keyword}.key", "must be a non-empty string"))
    if "parameters" in ref and not isinstance(ref["parameters"], Mapping):
        found.append((f"{keyword}.parameters", "must be an object"))
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_id(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and value != ""


_CHECKS: tuple[Callable[[Mapping[str, Any]], Found], ...] = (
    _check_type,
    _check_flags,
    _check_ranges,
    _check_references,
    _check_data_schema_ref,
)

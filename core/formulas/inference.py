"""What a mapping produces, as JSON Schema, and which locators miss the input schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.formulas.errors import FormulaProblem
from core.formulas.locators import LocatorError, Segment, parse_locator
from core.formulas.syntax import TemplateError, formula_name, parse_template
from core.schemas.merge import merge_schemas, schema_from_example
from core.schemas.paths import join_index, join_key

Schema = dict[str, Any]

_STRING: Schema = {"type": "string"}
_BOOLEAN: Schema = {"type": "boolean"}
_FIXED: dict[str, Schema] = {
    "$tpl": _STRING,
    "$concat": _STRING,
    "$firstName": _STRING,
    "$lastName": _STRING,
    "$domainFromEmail": _STRING,
    "$extractDate": {"type": "string", "format": "date"},
    "$extractTime": {"type": "string", "format": "time"},
    "$eval": _BOOLEAN,
    "$and": _BOOLEAN,
    "$or": _BOOLEAN,
    "$dataSchemaRef": {"type": "object"},
    "$lookup": _STRING,
    "$findExternalRecordId": _STRING,
    "$findAppRecordId": _STRING,
}


def infer_output_schema(value: Any, input_schema: Mapping[str, Any] | None) -> Schema:
    """The JSON Schema of what `value` produces over variables described by `input_schema`.

    Locators take the schema of the field they read; `$tpl`, `$concat` and the name, date and
    email formulas give strings; `$eval`, `$and`, `$or` booleans; `$iterate` an array of its
    item's schema; `$case`, `$map` and `$firstNotEmpty` the common type of their branches or
    `anyOf` them; constants the schema of their value; anything unknown `{}`.
    """
    return _Analyzer().infer(value, dict(input_schema or {}), "")


def locator_problems(value: Any, input_schema: Mapping[str, Any]) -> list[FormulaProblem]:
    """Problems for locators that read fields `input_schema` says do not exist."""
    analyzer = _Analyzer()
    analyzer.infer(value, dict(input_schema), "")
    return analyzer.problems


def union(schemas: list[Schema]) -> Schema:
    """One schema for values that may come from any of `schemas`."""
    unique = list({json.dumps(s, sort_keys=True): s for s in schemas}.values())
    if not unique or any(not s for s in unique):
        return {}
    if len(unique) == 1:
        return unique[0]
    types = {s.get("type") for s in unique}
    same_type = len(types) == 1 and isinstance(next(iter(types)), str)
    if same_type or types <= {"integer", "number"}:
        merged = unique[0]
        for schema in unique[1:]:
            merged = merge_schemas(merged, schema)
        return merged
    return {"anyOf": unique}


def _step(schema: Schema, segment: Segment) -> Schema | None:
    """The schema one locator step below `schema`: `{}` if unknown, None if it cannot exist."""
    if not schema or "$dataSchemaRef" in schema:
        return {}
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        found = [
            s for s in (_step(b, segment) for b in branches if isinstance(b, dict)) if s is not None
        ]
        return union(found) if found else None
    declared = schema.get("type")
    declared_types = [declared] if isinstance(declared, str) else declared or []
    if isinstance(segment, int):
        if declared_types and "array" not in declared_types:
            return None
        items = schema.get("items")
        return dict(items) if isinstance(items, dict) else {}
    if declared_types and "object" not in declared_types:
        return None
    properties = schema.get("properties")
    if isinstance(properties, dict) and segment in properties:
        return dict(properties[segment])
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return dict(extra)
    return {} if _is_open(schema) else None


def _is_open(schema: Schema) -> bool:
    """Whether an object schema admits fields it does not list."""
    return (
        not isinstance(schema.get("properties"), dict)
        or schema.get("additionalProperties") not in (None, False)
        or schema.get("allowCustom") is True
    )


class _Analyzer:
    def __init__(self) -> None:
        self.problems: list[FormulaProblem] = []

    def infer(self, value: Any, variables: Schema, path: str) -> Schema:
        if isinstance(value, dict):
            name = formula_name(value)
            if name is not None:
                return self._formula(name, value, variables, join_key(path, name))
            properties = {k: self.infer(v, variables, join_key(path, k)) for k, v in value.items()}
            return {"type": "object", "properties": properties}
        if isinstance(value, list):
            items = [self.infer(v, variables, join_index(path, i)) for i, v in enumerate(value)]
            return {"type": "array", "items": union(items)} if items else {"type": "array"}
        return schema_from_example(value)

    def locate(self, locator: Any, variables: Schema, path: str) -> Schema:
        try:
            segments = parse_locator(locator)
        except LocatorError:
            return {}
        schema: Schema | None = variables
        for segment in segments:
            schema = _step(schema or {}, segment)
            if schema is None:
                what = f"index [{segment}]" if isinstance(segment, int) else f'field "{segment}"'
                self.problems.append(FormulaProblem(path, f'unknown {what} (locator "{locator}")'))
                return {}
        return schema or {}

    def _formula(self, name: str, node: dict[str, Any], variables: Schema, here: str) -> Schema:
        arg = node if name == "$eval" else node[name]
        handler = _HANDLERS.get(name)
        if handler is not None:
            return handler(self, arg, variables, here)
        if name != "$eval":
            self.infer(arg, variables, here)
        else:
            for key, operand in node.items():
                self.infer(operand, variables, here if key == "$eval" else join_key(here, key))
        return dict(_FIXED.get(name, {}))

    def _var(self, arg: Any, variables: Schema, here: str) -> Schema:
        return self.locate(arg, variables, here)

    def _tpl(self, arg: Any, variables: Schema, here: str) -> Schema:
        try:
            for is_locator, text in parse_template(arg) if isinstance(arg, str) else []:
                if is_locator:
                    self.locate(text, variables, here)
        except TemplateError:
            pass
        return dict(_STRING)

    def _plain(self, arg: Any, variables: Schema, here: str) -> Schema:
        return schema_from_example(arg)

    def _copy(self, arg: Any, variables: Schema, here: str) -> Schema:
        return {}

    def _filter(self, spec: Any, variables: Schema, here: str) -> None:
        conditions = [(spec, here)] if isinstance(spec, dict) else []
        if isinstance(spec, list):
            conditions = [(item, join_index(here, i)) for i, item in enumerate(spec)]
        for condition, path in conditions:
            if isinstance(condition, dict):
                if "field" in condition:
                    self.locate(condition["field"], variables, join_key(path, "field"))
                if "value" in condition:
                    self.infer(condition["value"], variables, join_key(path, "value"))

    def _case(self, arg: Any, variables: Schema, here: str) -> Schema:
        cases, cases_path = arg, here
        if isinstance(arg, dict):
            cases, cases_path = arg.get("cases"), join_key(here, "cases")
        branches = []
        for i, case in enumerate(cases if isinstance(cases, list) else []):
            if isinstance(case, dict):
                path = join_index(cases_path, i)
                if "filter" in case:
                    self._filter(case["filter"], variables, join_key(path, "filter"))
                if "value" in case:
                    branches.append(self.infer(case["value"], variables, join_key(path, "value")))
        if isinstance(arg, dict) and "default" in arg:
            branches.append(self.infer(arg["default"], variables, join_key(here, "default")))
        return union(branches)

    def _map(self, arg: Any, variables: Schema, here: str) -> Schema:
        if not isinstance(arg, dict):
            return {}
        self.infer(arg.get("value"), variables, join_key(here, "value"))
        mapping = arg.get("mapping")
        if not isinstance(mapping, list):
            mapping = []
        branches = [
            self.infer(
                entry["to"], variables, join_key(join_index(join_key(here, "mapping"), i), "to")
            )
            for i, entry in enumerate(mapping)
            if isinstance(entry, dict) and "to" in entry
        ]
        if "default" in arg:
            branches.append(self.infer(arg["default"], variables, join_key(here, "default")))
        return union(branches)

    def _first_not_empty(self, arg: Any, variables: Schema, here: str) -> Schema:
        options = arg if isinstance(arg, list) else []
        return union([self.infer(v, variables, join_index(here, i)) for i, v in enumerate(options)])

    def _merge_objects(self, arg: Any, variables: Schema, here: str) -> Schema:
        merged: Schema = {"type": "object", "properties": {}}
        for i, part in enumerate(arg if isinstance(arg, list) else []):
            schema = self.infer(part, variables, join_index(here, i))
            properties = schema.get("properties")
            if not isinstance(properties, dict):
                return {"type": "object"}
            merged["properties"].update(properties)
        return merged

    def _iterate(self, arg: Any, variables: Schema, here: str) -> Schema:
        if not isinstance(arg, dict):
            return {"type": "array"}
        source = self.infer(arg.get("source"), variables, join_key(here, "source"))
        element = source.get("items") if isinstance(source.get("items"), dict) else {}
        properties = variables.get("properties")
        scope: Schema = {
            "type": "object",
            "properties": {
                **(properties if isinstance(properties, dict) else {}),
                "item": element,
                "parent": variables,
                "index": {"type": "integer"},
            },
        }
        if _is_open(variables):
            scope["additionalProperties"] = True
        item = self.infer(arg.get("item"), scope, join_key(here, "item"))
        return {"type": "array", "items": item}

    def _record(self, arg: Any, variables: Schema, here: str) -> Schema:
        parts = arg if isinstance(arg, dict) else {}
        properties = {
            key: self.infer(v, variables, join_key(here, key)) for key, v in parts.items()
        }
        properties["id"] = dict(_STRING)
        return {"type": "object", "properties": properties, "required": ["id"]}

    def _jsonata(self, arg: Any, variables: Schema, here: str) -> Schema:
        return {}


_HANDLERS = {
    "$var": _Analyzer._var,
    "$tpl": _Analyzer._tpl,
    "$plain": _Analyzer._plain,
    "$copy": _Analyzer._copy,
    "$case": _Analyzer._case,
    "$map": _Analyzer._map,
    "$firstNotEmpty": _Analyzer._first_not_empty,
    "$mergeObjects": _Analyzer._merge_objects,
    "$iterate": _Analyzer._iterate,
    "$record": _Analyzer._record,
    "$jsonata": _Analyzer._jsonata,
}

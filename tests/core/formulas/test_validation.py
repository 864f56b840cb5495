from __future__ import annotations

from typing import Any

import pytest

from core.formulas import validate_formula

INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "status": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "owner": {
            "type": "object",
            "properties": {"email": {"type": "string"}},
        },
        "custom": {"type": "object", "allowCustom": True, "properties": {}},
        "lines": {
            "type": "array",
            "items": {"type": "object", "properties": {"sku": {"type": "string"}}},
        },
    },
}


def messages(value: Any, schema: dict[str, Any] | None = None) -> list[str]:
    return [str(problem) for problem in validate_formula(value, schema)]


def test_valid_mapping_has_no_problems() -> None:
    mapping = {
        "fields": {
            "title": {"$tpl": "{name} ({status})"},
            "owner": {"$var": "owner.email"},
            "firstTag": {"$var": "tags[0]"},
            "extra": {"$var": "custom.anything"},
            "skus": {"$iterate": {"source": {"$var": "lines"}, "item": {"$var": "item.sku"}}},
            "tier": {
                "$case": [
                    {"filter": {"field": "status", "operator": "is", "value": "a"}, "value": 1},
                    {"value": 2},
                ]
            },
            "total": {"$jsonata": "$count(lines)"},
        }
    }
    assert messages(mapping, INPUT_SCHEMA) == []


def test_reports_every_problem_with_full_paths() -> None:
    mapping = {
        "fields": {
            "owner": {
                "$case": [
                    {"filter": {"field": "status", "operator": "is", "value": 1}, "value": 1},
                    {
                        "filter": [{"field": "status", "operator": "equalz", "value": 1}],
                        "value": {"$fooBar": 1},
                    },
                ]
            },
            "m": {"$map": {"value": {"$var": "status"}, "mapping": {"a": "b"}}},
            "c": {"$case": {"default": 1}},
            "e": {"$eval": {"$var": "status"}, "isBlank": True},
            "j": {"$jsonata": "$sum(lines.qty"},
            "t": {"$tpl": "{unclosed"},
            "v": {"$var": "a..b"},
        }
    }
    assert messages(mapping) == [
        'fields.owner.$case[1].filter[0].operator: unknown operator "equalz"',
        'fields.owner.$case[1].value.$fooBar: unknown formula "$fooBar"',
        "fields.m.$map.mapping: expected a list of {from, to}",
        "fields.c.$case.cases: $case needs a non-empty list of cases",
        'fields.e.isBlank: unknown $eval operator "isBlank"',
        "fields.e.$eval: $eval needs exactly one operator: is, isNot, oneOf, noneOf, contains, "
        "doesNotContain, lt, lte, gt, gte, isEmpty, isNotEmpty",
        "fields.j.$jsonata: invalid JSONata expression: Expected ) before end of expression",
        'fields.t.$tpl: unclosed "{" at position 0',
        'fields.v.$var: locator "a..b" has an empty key',
    ]


def test_locators_are_checked_against_the_input_schema() -> None:
    mapping = {
        "fields": {
            "a": {"$var": "nmae"},
            "b": {"$tpl": "{owner.mail}"},
            "c": {
                "$case": [
                    {"filter": {"field": "stauts", "operator": "is_empty"}, "value": 1},
                ]
            },
            "d": {"$iterate": {"source": {"$var": "lines"}, "item": {"$var": "item.skew"}}},
            "e": {"$var": "name.first"},
            "f": {"$var": "status[0]"},
        }
    }
    assert messages(mapping, INPUT_SCHEMA) == [
        'fields.a.$var: unknown field "nmae" (locator "nmae")',
        'fields.b.$tpl: unknown field "mail" (locator "owner.mail")',
        'fields.c.$case[0].filter.field: unknown field "stauts" (locator "stauts")',
        'fields.d.$iterate.item.$var: unknown field "skew" (locator "item.skew")',
        'fields.e.$var: unknown field "first" (locator "name.first")',
        'fields.f.$var: unknown index [0] (locator "status[0]")',
    ]


def test_without_an_input_schema_locators_are_not_checked() -> None:
    assert messages({"$var": "anything.at.all"}) == []


def test_open_schemas_accept_any_field() -> None:
    open_schemas: list[dict[str, Any]] = [
        {},
        {"type": "object"},
        {"type": "object", "properties": {"a": {}}, "additionalProperties": True},
        {"$dataSchemaRef": {"type": "app-data-schema", "key": "x"}},
    ]
    for schema in open_schemas:
        assert messages({"$var": "b.c"}, schema) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"$concat": {"values": 3}}, "$concat.values: expected a list of values"),
        ({"$iterate": {"source": []}}, "$iterate: expected {source, item}"),
        (
            {"$lookup": {"collection": {}, "query": {}}},
            "$lookup.collection: expected {key, parameters?}",
        ),
        (
            {"$findExternalRecordId": {"dataLinkTable": "t"}},
            "$findExternalRecordId.recordId: expected the record id to translate",
        ),
        ({"$jsonata": "$now()"}, "$jsonata: $now() is not allowed: formulas must be deterministic"),
        (
            {"$dataSchemaRef": {"type": "table", "key": "x"}},
            "$dataSchemaRef.type: expected one of data-collection, app-data-schema",
        ),
        ({"$and": {"a": 1}}, "$and: expected a list of conditions"),
        (
            {"$case": [{"filter": 3, "value": 1}]},
            "$case[0].filter: a filter must be a condition {field, operator, value} or a list of"
            " them",
        ),
        ({"$map": {"value": 1, "mapping": [{"from": 1}]}}, "$map.mapping[0]: expected {from, to}"),
    ],
)
def test_malformed_arguments(value: Any, expected: str) -> None:
    assert messages(value) == [expected]


@pytest.mark.parametrize("locator", [{"x": 1}, ["a"], 5, ""])
def test_non_string_locators_are_problems(locator: Any) -> None:
    assert messages({"v": {"$var": locator}}) == ["v.$var: a locator must be a non-empty string"]

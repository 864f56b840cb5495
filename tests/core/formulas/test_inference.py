from __future__ import annotations

from core.formulas import infer_output_schema

INPUT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 80},
        "age": {"type": "integer"},
        "vip": {"type": "boolean"},
        "lines": {
            "type": "array",
            "items": {"type": "object", "properties": {"qty": {"type": "integer"}}},
        },
    },
}


def test_locators_take_the_field_schema() -> None:
    assert infer_output_schema({"n": {"$var": "name"}}, INPUT) == {
        "type": "object",
        "properties": {"n": {"type": "string", "maxLength": 80}},
    }


def test_string_and_boolean_formulas() -> None:
    mapping = {
        "t": {"$tpl": "{name}"},
        "c": {"$concat": [{"$var": "age"}]},
        "f": {"$firstName": {"$var": "name"}},
        "d": {"$extractDate": "2024-01-01"},
        "e": {"$eval": {"$var": "age"}, "gt": 3},
        "a": {"$and": [True]},
        "o": {"$or": [True]},
    }
    properties = infer_output_schema(mapping, INPUT)["properties"]
    assert properties == {
        "t": {"type": "string"},
        "c": {"type": "string"},
        "f": {"type": "string"},
        "d": {"type": "string", "format": "date"},
        "e": {"type": "boolean"},
        "a": {"type": "boolean"},
        "o": {"type": "boolean"},
    }


def test_iterate_is_an_array_of_the_item_schema() -> None:
    mapping = {"$iterate": {"source": {"$var": "lines"}, "item": {"q": {"$var": "item.qty"}}}}
    assert infer_output_schema(mapping, INPUT) == {
        "type": "array",
        "items": {"type": "object", "properties": {"q": {"type": "integer"}}},
    }


def test_case_with_one_type_gives_that_type() -> None:
    mapping = {
        "$case": [{"filter": {"field": "vip", "operator": "is_true"}, "value": "a"}, {"value": "b"}]
    }
    assert infer_output_schema(mapping, INPUT) == {"type": "string"}


def test_case_with_different_types_gives_any_of() -> None:
    mapping = {"$case": {"cases": [{"value": {"$var": "age"}}], "default": {"$var": "name"}}}
    assert infer_output_schema(mapping, INPUT) == {
        "anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 80}]
    }


def test_map_and_first_not_empty_unite_their_branches() -> None:
    mapping = {
        "$map": {"value": {"$var": "age"}, "mapping": [{"from": 1, "to": 2}], "default": 2.5}
    }
    assert infer_output_schema(mapping, INPUT) == {"type": "number"}
    assert infer_output_schema({"$firstNotEmpty": [{"$var": "vip"}, True]}, INPUT) == {
        "type": "boolean"
    }


def test_constants_and_plain_values_describe_themselves() -> None:
    assert infer_output_schema({"$plain": {"a": [1]}}, INPUT) == {
        "type": "object",
        "properties": {"a": {"type": "array", "items": {"type": "integer"}}},
    }
    assert infer_output_schema([1, "x"], INPUT) == {
        "type": "array",
        "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
    }


def test_unknown_and_opaque_formulas_are_anything() -> None:
    assert infer_output_schema({"$jsonata": "name"}, INPUT) == {}
    assert infer_output_schema({"$fooBar": 1}, INPUT) == {}
    assert infer_output_schema({"$var": "nothing"}, INPUT) == {}
    assert infer_output_schema({"$var": "x"}, None) == {}


def test_merge_objects_and_record() -> None:
    mapping = {"$mergeObjects": [{"a": {"$var": "age"}}, {"b": {"$var": "name"}}]}
    assert infer_output_schema(mapping, INPUT)["properties"] == {
        "a": {"type": "integer"},
        "b": {"type": "string", "maxLength": 80},
    }
    record = infer_output_schema({"$record": {"id": {"$var": "age"}, "name": "x"}}, INPUT)
    assert record["properties"]["id"] == {"type": "string"}
    assert record["required"] == ["id"]

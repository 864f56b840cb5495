from __future__ import annotations

from typing import Any

from core.schemas import merge_schemas, schema_from_example, validate_value


def test_merge_unites_properties_and_keeps_shared_requirements() -> None:
    a = {
        "type": "object",
        "title": "A",
        "properties": {"id": {"type": "string", "readOnly": True}, "x": {"type": "integer"}},
        "required": ["id", "x"],
    }
    b = {
        "type": "object",
        "title": "B",
        "properties": {"id": {"type": "string"}, "y": {"type": "string", "writeOnly": True}},
        "required": ["id", "y"],
    }
    assert merge_schemas(a, b) == {
        "type": "object",
        "title": "A",
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "x": {"type": "integer"},
            "y": {"type": "string", "writeOnly": True},
        },
        "required": ["id"],
    }


def test_merge_accepts_what_either_side_accepts() -> None:
    a = {"type": "string", "enum": ["a"], "maxLength": 2, "isSensitive": True}
    b = {"type": "integer", "minimum": 3}
    merged = merge_schemas(a, b)
    assert merged == {"type": ["integer", "string"], "isSensitive": True}
    for value in ["a", 7]:
        assert validate_value(value, merged) == []


def test_merge_loosens_bounds_and_unites_enums() -> None:
    a = {"type": "integer", "minimum": 1, "maximum": 5, "enum": [1, 2]}
    b = {"type": "number", "minimum": 0, "maximum": 3, "enum": [2, 3.5]}
    assert merge_schemas(a, b) == {
        "type": "number",
        "minimum": 0,
        "maximum": 5,
        "enum": [1, 2, 3.5],
    }


def test_merge_of_arrays_merges_items_and_empty_absorbs() -> None:
    a = {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}}
    b = {"type": "array", "items": {"type": "object", "properties": {"b": {"type": "string"}}}}
    assert merge_schemas(a, b)["items"]["properties"] == {
        "a": {"type": "string"},
        "b": {"type": "string"},
    }
    assert merge_schemas(a, {}) == {}


def test_merge_with_null_keeps_object_requirements() -> None:
    a = {"type": "object", "properties": {"a": {}}, "required": ["a"]}
    assert merge_schemas(a, {"type": "null"}) == {
        "type": ["null", "object"],
        "properties": {"a": {}},
        "required": ["a"],
    }


def test_schema_from_example() -> None:
    example: dict[str, Any] = {
        "name": "Ada",
        "age": 36,
        "score": 9.5,
        "vip": True,
        "born": "1815-12-10",
        "seen": "2024-01-01T10:00:00Z",
        "nickname": None,
        "tags": ["a", "b"],
        "mixed": [1, 2.5],
        "lines": [{"sku": "A"}, {"sku": "B", "qty": 2}],
        "empty": [],
    }
    schema = schema_from_example(example)
    assert schema == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "score": {"type": "number"},
            "vip": {"type": "boolean"},
            "born": {"type": "string", "format": "date"},
            "seen": {"type": "string", "format": "date-time"},
            "nickname": {"type": "null"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "mixed": {"type": "array", "items": {"type": "number"}},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                },
            },
            "empty": {"type": "array"},
        },
    }
    assert validate_value(example, schema) == []


def test_schema_from_example_does_not_mistake_text_for_dates() -> None:
    assert schema_from_example("2024-13-01") == {"type": "string"}
    assert schema_from_example("2024-01-01 is a date") == {"type": "string"}

from __future__ import annotations

from core.schemas import validate_schema


def messages(schema: object) -> list[str]:
    return [str(p) for p in validate_schema(schema)]


def test_well_formed_schema_with_extensions() -> None:
    schema = {
        "type": "object",
        "properties": {
            "owner": {
                "type": "string",
                "referenceCollection": {"key": "users", "parameters": {"team": "a"}},
                "referenceUdm": "users",
                "allowCustom": True,
                "isImplied": False,
            },
            "priority": {"type": "string", "referenceRecords": [{"id": "p1", "name": "High"}]},
            "secret": {"type": "string", "isSensitive": True, "writeOnly": True},
            "task": {
                "$dataSchemaRef": {"type": "data-collection", "key": "tasks", "parameters": {}}
            },
            "doc": {"$dataSchemaRef": {"type": "app-data-schema", "key": "doc"}},
            "n": {"type": "integer", "minimum": 1, "maximum": 2, "default": 1},
        },
    }
    assert messages(schema) == []


def test_every_problem_is_reported_with_its_path() -> None:
    schema = {
        "type": "strng",
        "properties": {
            "a": {
                "type": "string",
                "minLength": 5,
                "maxLength": 2,
                "isSensitive": "yes",
                "readOnly": True,
                "writeOnly": True,
            },
            "b": {"referenceCollection": {"key": "", "parameters": []}},
            "c": {"referenceRecords": [{"name": "no id"}], "referenceUdm": ""},
            "d": {"$dataSchemaRef": {"type": "table", "key": "x"}},
            "e": {"$dataSchemaRef": {"type": "app-data-schema", "key": "x", "parameters": {}}},
            "f": {"items": {"type": ["string", "text"]}},
            "g": {"referenceRecords": "p1"},
        },
        "required": "name",
    }
    assert messages(schema) == [
        "required: 'name' is not of type 'array'",
        'type: unknown type "strng"',
        "properties.a.isSensitive: must be a boolean",
        "properties.a: a field cannot be both readOnly and writeOnly",
        "properties.a.minLength: minLength (5) is greater than maxLength (2)",
        "properties.b.referenceCollection.key: must be a non-empty string",
        "properties.b.referenceCollection.parameters: must be an object",
        "properties.c.referenceUdm: must be a non-empty string",
        "properties.c.referenceRecords[0]: must be an object with an id",
        "properties.d.$dataSchemaRef.type: must be one of data-collection, app-data-schema",
        "properties.e.$dataSchemaRef.parameters: only allowed for data-collection",
        'properties.f.items.type: unknown type "text"',
        "properties.g.referenceRecords: must be a list of {id, name} records",
    ]


def test_schema_must_be_an_object() -> None:
    assert messages([1]) == ["a schema must be an object"]

from __future__ import annotations

from typing import Any

from core.schemas import StaticSchemaResolver, validate_value

CONTACT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "status": {"enum": ["open", "closed"]},
        "email": {"type": "string", "format": "email"},
        "born": {"type": "string", "format": "date"},
        "seen": {"type": "string", "format": "date-time"},
        "password": {"type": "string", "isSensitive": True, "minLength": 8, "enum": ["x" * 8]},
        "auth": {
            "type": "object",
            "isSensitive": True,
            "properties": {"token": {"type": "string", "pattern": "^tk_"}},
        },
        "phone": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "owner": {"type": "string", "referenceCollection": {"key": "users"}, "readOnly": True},
    },
    "required": ["name"],
    "additionalProperties": False,
}


def problems(value: Any, schema: dict[str, Any] = CONTACT, **kwargs: Any) -> list[str]:
    return [str(p) for p in validate_value(value, schema, **kwargs)]


def test_valid_value_has_no_problems() -> None:
    value = {
        "name": "Ada",
        "age": 36,
        "tags": ["a"],
        "status": "open",
        "email": "a@b.co",
        "born": "1815-12-10",
        "seen": "2024-01-01T10:00:00Z",
        "password": "x" * 8,
        "auth": {"token": "tk_1"},
        "phone": None,
        "owner": "u1",
    }
    assert problems(value) == []


def test_problems_have_paths_and_clear_messages() -> None:
    value = {
        "age": 200,
        "tags": ["a", "b", 3],
        "status": "pending",
        "email": "not-an-email",
        "born": "1815-13-40",
        "seen": "yesterday",
        "phone": 5,
        "color": "red",
    }
    assert problems(value) == [
        "name: required field is missing",
        "color: unknown field",
        "age: must be at most 150, got 200",
        'born: is not a valid date, got "1815-13-40"',
        'email: is not a valid email, got "not-an-email"',
        "phone: does not match any of the allowed schemas",
        'seen: is not a valid date-time, got "yesterday"',
        'status: must be one of "open", "closed", got "pending"',
        "tags[2]: expected string, got integer",
    ]


def test_string_and_array_bounds() -> None:
    assert problems({"name": "", "tags": ["a"] * 4}) == [
        "name: must have at least 1 characters",
        "tags: must have at most 3 items",
    ]
    assert problems({"name": "toolong"}) == ["name: must have at most 5 characters"]


def test_sensitive_values_are_never_echoed() -> None:
    secret = "hunter2!"
    found = problems({"name": "A", "password": secret, "auth": {"token": "sk-live-999"}})
    assert found == [
        "auth.token: must match pattern ^tk_",
        'password: must be one of "xxxxxxxx"',
    ]
    assert all(secret not in p and "sk-live-999" not in p for p in found)


def test_type_list_message() -> None:
    schema = {"properties": {"v": {"type": ["string", "null"]}}}
    assert problems({"v": 1.5}, schema) == ["v: expected string or null, got number"]


def test_data_schema_ref_is_resolved_when_a_resolver_is_given() -> None:
    resolver = StaticSchemaResolver(
        data_collections={"tasks": {"type": "object", "properties": {"title": {"type": "string"}}}}
    )
    schema = {
        "type": "object",
        "properties": {"task": {"$dataSchemaRef": {"type": "data-collection", "key": "tasks"}}},
    }
    assert problems({"task": {"title": 1}}, schema, resolver=resolver) == [
        "task.title: expected string, got integer"
    ]
    assert problems({"task": {"title": 1}}, schema) == []


def test_unresolvable_reference_is_a_problem() -> None:
    schema = {"$dataSchemaRef": {"type": "app-data-schema", "key": "nope"}}
    assert problems({}, schema, resolver=StaticSchemaResolver()) == [
        'cannot resolve $dataSchemaRef to app-data-schema "nope"'
    ]


def test_an_invalid_schema_is_reported_instead_of_crashing() -> None:
    schema = {"properties": {"a": {"type": "strng"}, "b": {"type": "string", "pattern": "("}}}
    assert problems({"a": 1, "b": "x"}, schema) == [
        "invalid schema: properties.b.pattern: '(' is not a 'regex'",
        'invalid schema: properties.a.type: unknown type "strng"',
    ]

from __future__ import annotations

from typing import Any

import pytest

from core.schemas import (
    SchemaRefError,
    StaticSchemaResolver,
    is_sensitive_path,
    resolve_schema_refs,
    sensitive_paths,
)

TASK = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "owner": {"$dataSchemaRef": {"type": "app-data-schema", "key": "user"}},
    },
}
USER = {"type": "object", "properties": {"email": {"type": "string", "isSensitive": True}}}
RESOLVER = StaticSchemaResolver(app_data_schemas={"user": USER}, data_collections={"tasks": TASK})


def test_references_are_resolved_recursively_with_local_overrides() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "task": {
                "$dataSchemaRef": {"type": "data-collection", "key": "tasks"},
                "readOnly": True,
            },
            "list": {
                "type": "array",
                "items": {"$dataSchemaRef": {"type": "app-data-schema", "key": "user"}},
            },
        },
    }
    resolved = resolve_schema_refs(schema, RESOLVER)
    assert resolved["properties"]["task"] == {
        "type": "object",
        "properties": {"title": {"type": "string"}, "owner": USER},
        "readOnly": True,
    }
    assert resolved["properties"]["list"]["items"] == USER
    assert "$dataSchemaRef" in schema["properties"]["task"]


def test_unknown_reference_and_cycles_are_errors() -> None:
    with pytest.raises(
        SchemaRefError, match='cannot resolve \\$dataSchemaRef to app-data-schema "ghost"'
    ):
        resolve_schema_refs(
            {"$dataSchemaRef": {"type": "app-data-schema", "key": "ghost"}}, RESOLVER
        )
    loop = StaticSchemaResolver(
        app_data_schemas={
            "a": {"properties": {"b": {"$dataSchemaRef": {"type": "app-data-schema", "key": "a"}}}}
        }
    )
    with pytest.raises(SchemaRefError, match="cycle"):
        resolve_schema_refs({"$dataSchemaRef": {"type": "app-data-schema", "key": "a"}}, loop)


def test_sensitive_paths() -> None:
    schema = {
        "type": "object",
        "properties": {
            "apiKey": {"type": "string", "isSensitive": True},
            "auth": {"properties": {"token": {"isSensitive": True}, "user": {}}},
            "tokens": {"items": {"properties": {"secret": {"isSensitive": True}}}},
            "either": {"anyOf": [{"properties": {"pin": {"isSensitive": True}}}]},
        },
    }
    assert sensitive_paths(schema) == {"apiKey", "auth.token", "tokens[].secret", "either.pin"}
    assert sensitive_paths({"isSensitive": True}) == {""}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("auth.token", True),
        ("auth.token.part", True),
        ("auth.user", False),
        ("tokens[3].secret", True),
        ("tokens[3].name", False),
        ("fields.password", True),
        ("passwords", False),
    ],
)
def test_is_sensitive_path(path: str, expected: bool) -> None:
    assert is_sensitive_path(path, {"auth.token", "tokens[].secret", "password"}) is expected
